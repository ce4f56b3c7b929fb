"""jaxsizer's simulation core: ngspice workers, technologies, circuits, store.

Typical use::

    from sim.sizing.simulator import Simulator
    with Simulator("op2", "sky130") as simulator:
        result = simulator.simulate_one({"Wdp1": 10e-6})
        print(result.status, result.performance["a_0"])

Subpackages by job, lowest first; each imports only those before it (and
the shared modules at the top), never one after it, not even inside a
function (``tests/test_layers.py`` checks it):

0. the top of ``sim``: shared conventions that import no subpackage —
   ``errors`` (one-line user errors), ``units``, ``paths``, ``verbosity``,
   ``cli_conventions``; ``cli`` and ``__main__`` (``python -m sim``) import
   everything and nothing imports them;
1. ``sim.engine``: where a deck runs — jobs, the ngspice workers and pool,
   the Ray and remote backends, ``make_backend`` (knows decks, not circuits);
2. ``sim.storage``: the simulation store and its table export;
3. ``sim.format``: the circuit and technology files, their checks, the
   declared target box, PVT declarations, decks and measures (uses the
   engine's deck check only);
4. ``sim.sizing``: the sizing problem as arrays, the ``Simulator`` (format +
   engine + storage), opening a problem (``session``), targets as text;
5. ``sim.search``: spec trade-offs and feasibility ceilings searched in SPICE
   (NSGA-II, CMA-ES) over a simulator passed in;
6. ``sim.pvt``: verifying designs and ceilings over PVT conditions (a
   simulator per condition, a search's archive);
7. ``sim.commands``: the bodies of ``python -m sim``'s commands, result
   tables, design export and the simulation server.

The data folders ``sim/circuits/`` and ``sim/technologies/`` stay at the top.
"""
