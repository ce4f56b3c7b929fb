"""Surrogate models between ``sim`` (ngspice) and the environments.

- ``surrogate.device``: per-technology transistor models for gm/Id sizing —
  ngspice sweeps stored as lookup tables, flax NNX networks trained on the
  inverse map ``[gm/Id, log10 fug, Vds, Vbs] -> [log10 Id/W, L, log10 gds/W,
  Vgs]`` (GAC²E's), and ``DeviceModel.size`` (gm/Id, fug, Id, Vds, Vbs ->
  W, L, Vgs) used by the electrical (``v0``) action spaces.
- ``surrogate.circuit``: circuit surrogates (v1 design -> every figure and
  operating-point entry): an ensemble of MLPs fitted on ngspice results, with
  device-physics inputs from the device networks where the circuit has an
  estimator, and a small network distilled from it for the pure-JAX env.

Command line: ``python -m surrogate.fit device --tech sky130 --device
nfet_01v8``; benchmark: ``python -m surrogate.bench_device``.
"""
