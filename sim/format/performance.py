"""From raw ngspice vectors to named performance figures.

A circuit's measures (``Circuit.measures``) name kinds of
``sim.format.measure_kinds``, which say which function of
``sim.format.measures`` computes each figure from which vectors. Device
operating points are read for every device listed under ``operating_point`` and
reported as ``"<device>:<quantity>"`` (GAC²E's naming, e.g.
``"MND11:gmoverid"``).
"""

from __future__ import annotations

import dataclasses
import inspect
import math
from collections import defaultdict
from collections.abc import Callable, Mapping

import numpy as np

from sim.format import measures
from sim.format.circuit import Circuit, Measure
from sim.format.measure_kinds import KINDS, SCALES
from sim.format.netlist import area, pelgrom_offset
from sim.format.technology import QUANTITIES, Technology


def scale_vector(command: str) -> str | None:
    """Name of the scale vector an analysis command produces (None for op)."""
    words = command.split()
    kind = words[0].lower()
    if kind == "dc" and len(words) > 1:
        source = words[1].lower()
        if source == "temp":
            return "temp-sweep"
        return {"i": "i-sweep", "r": "res-sweep"}.get(source[0], "v-sweep")
    return SCALES.get(kind)


def _vector_args(measure: Measure) -> list[str]:
    kind = KINDS[measure.function]
    return [
        measure.args[a]
        for a in (*kind.vectors, *kind.optional_vectors)
        if a in measure.args
    ]


def _op_vector(name: str, function: str) -> str:
    # supply measures name a source: its branch current is i(<source>)
    return f"i({name})" if function in ("supply_current", "supply_power") else name


def required_vectors(
    circuit: Circuit, tech: Technology
) -> dict[tuple[str, str], list[str]]:
    """Vectors to read per ``(testbench, analysis)``, in a stable order."""
    commands = {
        (tb.name, a.name): a.command for tb in circuit.testbenches for a in tb.analyses
    }
    wanted: dict[tuple[str, str], list[str]] = defaultdict(list)

    def add(key: tuple[str, str], name: str) -> None:
        if name not in wanted[key]:
            wanted[key].append(name)

    for measure in circuit.measures:
        if measure.function not in KINDS:
            continue
        key = (measure.testbench, measure.analysis)
        scale = scale_vector(commands[key])
        if scale is not None:
            add(key, scale)
        for name in _vector_args(measure):
            add(key, _op_vector(name, measure.function))
    for device, polarity in circuit.devices.items():
        dtype = tech.device(polarity)
        key = (circuit.op_testbench, circuit.op_analysis)
        for q in QUANTITIES:
            add(key, dtype.op_vector(device, q))
    return dict(wanted)


# Per measure function: the function, its data parameter names, takes vdd.
_SIGNATURES: dict[str, tuple[Callable[..., float], list[str], bool]] = {}


def _call(function_name: str, args: list, keywords: dict, vdd: float) -> float:
    """Call a measure function: positional data args, then keywords (and vdd)."""
    entry = _SIGNATURES.get(function_name)
    if entry is None:
        function = getattr(measures, function_name)
        parameters = inspect.signature(function).parameters
        names = [name for name in parameters if name != "vdd"]
        entry = _SIGNATURES[function_name] = (function, names, "vdd" in parameters)
    function, names, takes_vdd = entry
    bound = dict(zip(names, args, strict=False)) | keywords
    if takes_vdd:
        bound["vdd"] = vdd
    return float(function(**bound))


def evaluate_measure(
    measure: Measure, vectors: Mapping[str, np.ndarray], command: str, vdd: float
) -> float:
    """One figure from its testbench's vectors (keys ``"analysis:vector"``)."""
    kind = KINDS[measure.function]

    def get(name: str) -> np.ndarray:
        return vectors[f"{measure.analysis}:{name}"]

    keywords: dict = {}
    for name, default in kind.optional_numbers.items():
        value = measure.args.get(name)
        number = float(value) if value is not None else default
        keywords[name] = vdd / 2 if number is None else number
    for name in kind.numbers:
        keywords[name] = float(measure.args[name])
    for name in kind.words:
        if name in measure.args:
            keywords[name] = measure.args[name]
    if kind.analysis == "op":
        args = [
            float(np.real(get(_op_vector(measure.args[a], measure.function))[0]))
            for a in kind.vectors
        ]
        return _call(kind.function, args, keywords, vdd)
    scale = np.real(get(scale_vector(command)))
    if kind.analysis == "ac":
        response = get(measure.args["output"]).astype(np.complex128)
        if "input" in measure.args:
            response = response / get(measure.args["input"])
        return _call(kind.function, [scale, response], keywords, vdd)
    args = [scale] + [np.real(get(measure.args[a])) for a in kind.vectors]
    return _call(kind.function, args, keywords, vdd)


def performance(
    circuit: Circuit,
    tech: Technology,
    vectors: Mapping[str, Mapping[str, np.ndarray]],
    design: Mapping[str, float] | None = None,
) -> dict[str, float]:
    """All figures of one design. ``vectors[testbench]["analysis:vector"]``.

    Figures that do not exist (e.g. no unity-gain crossing) are NaN.
    """
    commands = {
        (tb.name, a.name): a.command for tb in circuit.testbenches for a in tb.analyses
    }
    devices = _device_figures(circuit, tech, vectors.get(circuit.op_testbench, {}))
    out: dict[str, float] = {}
    for measure in circuit.measures:
        try:
            if measure.function in KINDS:
                out[measure.name] = evaluate_measure(
                    measure,
                    vectors[measure.testbench],
                    commands[(measure.testbench, measure.analysis)],
                    tech.vdd,
                )
            else:
                out[measure.name] = _design_measure(
                    measure, circuit, tech, design, devices
                )
        except (
            KeyError,
            ValueError,
            FloatingPointError,
            IndexError,
            ZeroDivisionError,
        ):
            out[measure.name] = math.nan
    out.update(devices)
    return out


# (vector keys [8], figure names [9]) per device, keyed by what they depend on.
_DevicePlan = tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]
_DEVICE_PLANS: dict[tuple, _DevicePlan] = {}
# DeviceOperatingPoint fields: the order device_figure_values takes them in.
_OP_QUANTITIES = tuple(
    f.name for f in dataclasses.fields(measures.DeviceOperatingPoint)
)
_NAN = math.nan


def _device_plan(circuit: Circuit, tech: Technology) -> _DevicePlan:
    """Per device: its ``"analysis:vector"`` keys (in ``DeviceOperatingPoint``
    field order) and output figure names; built once per circuit/technology."""
    key = (circuit.op_analysis, tuple(circuit.devices.items()), tech.nmos, tech.pmos)
    plan = _DEVICE_PLANS.get(key)
    if plan is None:
        entries = []
        for device, polarity in circuit.devices.items():
            dtype = tech.device(polarity)
            keys = tuple(
                f"{circuit.op_analysis}:{dtype.op_vector(device, q)}"
                for q in _OP_QUANTITIES
            )
            entries.append(
                (keys, tuple(f"{device}:{q}" for q in measures.FIGURE_NAMES))
            )
        plan = tuple(entries)
        if len(_DEVICE_PLANS) >= 256:
            _DEVICE_PLANS.pop(next(iter(_DEVICE_PLANS)))
        _DEVICE_PLANS[key] = plan
    return plan


def _device_figures(
    circuit: Circuit, tech: Technology, tb_vectors: Mapping[str, np.ndarray]
) -> dict[str, float]:
    """``"<device>:<figure>"`` of every device (NaN where a value is missing)."""
    out: dict[str, float] = {}
    get = tb_vectors.get
    figure_values = measures.device_figure_values
    for keys, names in _device_plan(circuit, tech):
        raw = []
        for key in keys:
            vector = get(key)
            raw.append(_NAN if vector is None else float(vector[0].real))
        for name, value in zip(names, figure_values(*raw), strict=True):
            out[name] = float(value)
    return out


def _design_measure(
    measure: Measure,
    circuit: Circuit,
    tech: Technology,
    design: Mapping[str, float] | None,
    devices: Mapping[str, float],
) -> float:
    """Figures computed from the sizing (and op point): area, Pelgrom offset."""
    if design is None:
        return math.nan
    if measure.function == "area":
        return area(circuit, tech, design)
    gm = {name: devices[f"{name}:gm"] for name in circuit.devices}
    return pelgrom_offset(circuit, tech, design, gm, measure.args["pairs"])
