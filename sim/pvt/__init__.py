"""Process, voltage and temperature (PVT): the conditions a design must hold at.

``sim.pvt.conditions`` parses a declaration (``pvt:`` in a circuit YAML,
``--pvt`` on a command line) into the conditions of one technology;
``sim.pvt.verify`` verifies designs over them conditionally (nominal first,
then the conditions most likely to fail, stopping at the first failure).
This file imports nothing: ``sim.circuit`` reads the declaration parser.
"""
