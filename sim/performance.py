"""From raw ngspice vectors to named performance figures.

A circuit's measures (see ``Circuit.measures``) name functions of the
measurement library (``sim.measures``) and the vectors they read; device
operating points are read for every device listed under ``operating_point``
and reported as ``"<device>:<quantity>"`` (GAC²E's naming, e.g.
``"MND11:gmoverid"``).
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np

from sim import measures
from sim.circuit import Circuit, Measure
from sim.technology import QUANTITIES, Technology

AC_FUNCTIONS = {
    "dc_gain": measures.dc_gain_db,
    "unity_gain_bandwidth": measures.unity_gain_bandwidth,
    "phase_margin": measures.phase_margin,
    "gain_margin": measures.gain_margin,
}


def _measure_vectors(measure: Measure) -> list[str]:
    if measure.function in AC_FUNCTIONS:
        names = ["frequency", measure.args["output"]]
        if "input" in measure.args:
            names.append(measure.args["input"])
        return names
    if measure.function in ("supply_current", "supply_power"):
        return [f"i({measure.args['source']})"]
    if measure.function == "node_voltage":
        return [measure.args["node"]]
    raise KeyError(measure.function)


def required_vectors(
    circuit: Circuit, tech: Technology
) -> dict[tuple[str, str], list[str]]:
    """Vectors to read per ``(testbench, analysis)``, in a stable order."""
    wanted: dict[tuple[str, str], list[str]] = defaultdict(list)
    for measure in circuit.measures:
        for name in _measure_vectors(measure):
            key = (measure.testbench, measure.analysis)
            if name not in wanted[key]:
                wanted[key].append(name)
    for device, polarity in circuit.devices.items():
        dtype = tech.device(polarity)
        key = (circuit.op_testbench, circuit.op_analysis)
        wanted[key] += [dtype.op_vector(device, q) for q in QUANTITIES]
    return dict(wanted)


def _scalar(array: np.ndarray) -> float:
    return float(np.real(array[0]))


def evaluate_measure(
    measure: Measure, vectors: dict[str, np.ndarray], vdd: float
) -> float:
    """One figure from the vectors of its testbench (keys ``"analysis:vector"``)."""
    get = lambda name: vectors[f"{measure.analysis}:{name}"]  # noqa: E731
    if measure.function in AC_FUNCTIONS:
        freq = np.real(get("frequency"))
        response = get(measure.args["output"]).astype(np.complex128)
        if "input" in measure.args:
            response = response / get(measure.args["input"])
        return float(AC_FUNCTIONS[measure.function](freq, response))
    if measure.function == "supply_current":
        return float(
            measures.supply_current(_scalar(get(f"i({measure.args['source']})")))
        )
    if measure.function == "supply_power":
        current = _scalar(get(f"i({measure.args['source']})"))
        return float(measures.supply_power(vdd, current))
    if measure.function == "node_voltage":
        return _scalar(get(measure.args["node"]))
    raise KeyError(measure.function)


def performance(
    circuit: Circuit,
    tech: Technology,
    vectors: dict[str, dict[str, np.ndarray]],
) -> dict[str, float]:
    """All figures of one design. ``vectors[testbench]["analysis:vector"]``.

    Figures that do not exist (e.g. no unity-gain crossing) are NaN.
    """
    out: dict[str, float] = {}
    for measure in circuit.measures:
        try:
            out[measure.name] = evaluate_measure(
                measure, vectors[measure.testbench], tech.vdd
            )
        except (KeyError, ValueError, FloatingPointError, IndexError):
            out[measure.name] = math.nan
    tb_vectors = vectors.get(circuit.op_testbench, {})
    for device, polarity in circuit.devices.items():
        dtype = tech.device(polarity)
        raw = {}
        for q in QUANTITIES:
            key = f"{circuit.op_analysis}:{dtype.op_vector(device, q)}"
            if key in tb_vectors:
                raw[q] = _scalar(tb_vectors[key])
        for q, value in measures.device_figures(raw).items():
            out[f"{device}:{q}"] = float(value)
    return out
