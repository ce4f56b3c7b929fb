"""Where a deck runs: ngspice workers, the pool and the backends around them.

A ``SimulationJob`` (``job``: a rendered deck and what to read back) goes to
a ``SimulationBackend`` (``backend``: ``make_backend`` is the one place one is
built) and comes back as a ``RawResult`` (``result``). The local backend is
``pool``'s persistent ``python -m sim.engine.worker`` processes, each holding
an ``ngspice_session``; ``ray_backend`` runs the same workers in Ray actors,
``remote`` sends whole designs to a ``sim.commands.server``. ``deck_check``
refuses decks that would reach outside their folder or hang ngspice;
``reference`` runs a deck in a fresh ``ngspice -b`` (what the pool must match).

Knows decks, never circuits: imports only ``sim.errors`` from outside it.
"""
