"""jaxsizer's simulation core: ngspice workers, technologies, circuits, store.

Typical use::

    from sim.sizing.simulator import Simulator
    with Simulator("op2", "sky130") as simulator:
        result = simulator.simulate_one({"Wdp1": 10e-6})
        print(result.status, result.performance["a_0"])
"""
