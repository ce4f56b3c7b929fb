"""Process, voltage and temperature (PVT): holding a design over its conditions.

The conditions themselves are part of the circuit format
(``sim.format.pvt_conditions``: a ``pvt:`` declaration in a circuit YAML or
``--pvt`` on a command line, resolved on one technology). This package uses
them: ``sim.pvt.verify`` verifies designs over them conditionally (nominal
first, then the conditions most likely to fail, stopping at the first
failure) with one ``sim.sizing.simulator.Simulator`` per condition, and
``sim.pvt.ceiling`` measures a searched box's all-condition ceiling from a
``sim.search.archive``. It sits above ``sim.sizing`` and ``sim.search``;
this file imports nothing.
"""
