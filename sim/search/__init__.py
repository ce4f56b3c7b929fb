"""Search SPICE for a circuit's spec trade-offs and its feasibility ceiling.

``archive`` keeps every design a search verified and which targets it meets;
``front`` maps the trade-offs (NSGA-II); ``targeted`` searches one unmet
target at a time (CMA-ES); ``specs`` measures (or proposes) the declared
target box's ceiling with both. A simulator is passed in (duck-typed
``sim.sizing.simulator.Simulator``): imports ``sim.format`` and the top only.
"""
