"""The circuit and technology format: files in, checked objects and figures out.

- ``circuit_model``: the ``Circuit`` a YAML file describes (parameters,
  testbenches, measures, declared box), and ``circuit`` loads and checks it:
  ``strict_yaml`` and ``circuit_files`` read the files, ``circuit_parameters``
  and ``circuit_sections`` parse the sections, ``circuit_checks`` checks its
  netlists against its YAML, one line per problem (netlists read by
  ``netlist_reading`` and ``netlist_parameters``; single values checked by
  ``circuit_values``);
- ``targets``: the declared target box (``TargetBox``) and its ranges;
- ``pvt_conditions``: the ``pvt:`` declaration of process, voltage and
  temperature conditions and their resolution on one technology;
- ``technology`` (with ``sky130_models`` and ``binning`` for the PDK's binned
  models) and ``netlist``: a circuit rendered into a deck for a technology;
- ``measure_kinds``, ``measures`` and ``performance``: what a measure reads
  and how raw vectors become performance figures (``measures`` gathers
  ``measures_ac``, ``measures_op`` and ``measures_trace`` by name).

Imports the top of ``sim`` and ``sim.engine`` (``deck_check``, to refuse a
template that would reach outside its folder); nothing that simulates.
"""
