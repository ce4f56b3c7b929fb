"""A circuit's ``testbenches:``, ``measures:``, ``operating_point:``,
``specs:`` and ``pvt:`` sections, checked and turned into model objects.

Each parser takes the YAML value and ``where`` (the circuit, for one-line
errors) and returns the objects of ``sim.format.circuit_model`` (or the
``TargetBox`` of ``sim.format.targets``); measure numbers are SI floats.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sim.engine.deck_check import SAFE_ANALYSIS
from sim.errors import UserInputError
from sim.format.circuit_files import read_template
from sim.format.circuit_model import (
    VDD_PLACEHOLDER,
    Analysis,
    Measure,
    Testbench,
)
from sim.format.circuit_parameters import NAME, as_float
from sim.format.circuit_values import analysis_problem, fail, unit_problem
from sim.format.measure_kinds import DESIGN_KINDS, KINDS
from sim.format.targets import TargetBox, spec_range


def parse_pvt(value: Any, where: str):
    """The ``pvt:`` declaration (``sim.format.pvt_conditions``), checked here."""
    from sim.format.pvt_conditions import parse_declaration

    try:
        return parse_declaration(value)
    except UserInputError as error:
        raise fail(where, str(error)) from None


_SAFE_COMMAND = SAFE_ANALYSIS  # one line: no newline may smuggle a command in


def parse_testbenches(spec: Any, directory: Path, where: str) -> tuple[Testbench, ...]:
    """The ``testbenches:`` mapping: each names a netlist template and its
    analyses (one ngspice command each), read relative to ``directory``."""
    if not isinstance(spec, dict) or not spec:
        raise fail(where, "'testbenches' must be a non-empty mapping")
    out = []
    for name, tb in spec.items():
        if not NAME.match(str(name)):
            raise fail(where, f"{name!r} cannot be a testbench name")
        if not isinstance(tb, dict) or "netlist" not in tb or "analyses" not in tb:
            raise fail(where, f"testbench {name} needs 'netlist' and 'analyses'")
        analyses = tb["analyses"]
        if not isinstance(analyses, dict) or not analyses:
            raise fail(where, f"testbench {name}: 'analyses' maps names to commands")
        items = []
        for an_name, command in analyses.items():
            if not NAME.match(str(an_name)):
                raise fail(where, f"testbench {name}: bad analysis name {an_name!r}")
            if not isinstance(command, str) or not _SAFE_COMMAND.match(
                command.strip().replace(VDD_PLACEHOLDER, "1")
            ):
                raise fail(
                    where,
                    f"testbench {name}: analysis {an_name} must be one ngspice "
                    "analysis command (op, ac, dc, tran, noise, tf, pz), "
                    f"got {command!r}",
                )
            problem = analysis_problem(command.strip())
            if problem:
                raise fail(
                    where,
                    f"testbench {name}: analysis {an_name} {command.strip()!r}: "
                    f"{problem}",
                )
            items.append(Analysis(str(an_name), command.strip()))
        template = read_template(directory, tb["netlist"], f"{where}: testbench {name}")
        out.append(Testbench(str(name), template, tuple(items)))
    return tuple(out)


def _locate(
    ref: Any, testbenches: tuple[Testbench, ...], where: str
) -> tuple[str, str]:
    if not isinstance(ref, str) or "." not in ref:
        raise fail(where, f"expected '<testbench>.<analysis>', got {ref!r}")
    tb_name, an_name = ref.split(".", 1)
    for tb in testbenches:
        if tb.name == tb_name and any(a.name == an_name for a in tb.analyses):
            return tb_name, an_name
    raise fail(where, f"no analysis {ref!r} among the testbenches")


def _measure_args(name: str, kind_name: str, m: dict, where: str) -> dict[str, str]:
    """Arguments of one measure, checked against its kind
    (``sim.format.measure_kinds``)."""
    if kind_name in DESIGN_KINDS:
        args = {k: v for k, v in m.items() if k not in ("measure", "unit")}
        if set(args) != set(DESIGN_KINDS[kind_name]):
            raise fail(
                where,
                f"measure {name}: {kind_name} takes exactly "
                f"{list(DESIGN_KINDS[kind_name])}",
            )
        for value in args.values():
            if not isinstance(value, str) or not re.match(r"^[\w/, ]+$", value):
                raise fail(where, f"measure {name}: bad argument {value!r}")
        return dict(args)
    kind = KINDS[kind_name]
    allowed = {
        *kind.vectors,
        *kind.optional_vectors,
        *kind.numbers,
        *kind.optional_numbers,
        *kind.words,
    }
    args = {k: v for k, v in m.items() if k not in ("measure", "analysis", "unit")}
    unknown = set(args) - allowed
    if unknown:
        raise fail(
            where,
            f"measure {name}: unknown arguments {sorted(unknown)} "
            f"for {kind_name} (takes {sorted(allowed)})",
        )
    missing = {*kind.vectors, *kind.numbers} - set(args)
    if missing:
        raise fail(where, f"measure {name}: {kind_name} needs {sorted(missing)}")
    out = {}
    for key, value in args.items():
        if key in kind.numbers or key in kind.optional_numbers:
            out[key] = repr(as_float(value, where, f"measure {name}: {key}"))
        elif key in kind.words:
            if value not in kind.words[key]:
                raise fail(
                    where,
                    f"measure {name}: {key} must be one of "
                    f"{', '.join(kind.words[key])}",
                )
            out[key] = str(value)
        else:
            if not isinstance(value, str) or not re.match(
                r"^[\w().,:\[\]@#-]+\Z", value
            ):
                raise fail(where, f"measure {name}: bad vector name {value!r}")
            out[key] = value
    return out


def parse_measures(
    spec: Any, testbenches: tuple[Testbench, ...], where: str
) -> tuple[Measure, ...]:
    """The ``measures:`` mapping, each measure's kind, analysis (among
    ``testbenches``) and arguments checked."""
    if not isinstance(spec, dict) or not spec:
        raise fail(where, "'measures' must be a non-empty mapping")
    out = []
    for name, m in spec.items():
        if not isinstance(m, dict) or "measure" not in m:
            raise fail(where, f"measure {name} needs 'measure'")
        kind = m["measure"]
        if kind not in KINDS and kind not in DESIGN_KINDS:
            known = ", ".join([*KINDS, *DESIGN_KINDS])
            raise fail(
                where, f"measure {name}: unknown function {kind!r}; known: {known}"
            )
        tb = an = ""
        if kind in KINDS:
            if "analysis" not in m:
                raise fail(where, f"measure {name} needs 'analysis'")
            tb, an = _locate(m["analysis"], testbenches, f"{where}: measure {name}")
        args = _measure_args(str(name), kind, m, where)
        unit = str(m.get("unit", ""))
        if problem := unit_problem(unit):
            raise fail(where, f"measure {name}: {problem}")
        out.append(Measure(str(name), kind, tb, an, args, unit))
    return tuple(out)


def parse_operating_point(
    spec: Any, testbenches: tuple[Testbench, ...], where: str
) -> tuple[dict[str, str], str, str]:
    """The ``operating_point:`` entry: (devices -> nmos|pmos, testbench,
    analysis); empty when absent."""
    if spec is None:
        return {}, "", ""
    if not isinstance(spec, dict) or "analysis" not in spec:
        raise fail(where, "'operating_point' needs 'analysis' and 'devices'")
    tb, an = _locate(spec["analysis"], testbenches, f"{where}: operating_point")
    devices = spec.get("devices") or {}
    if not isinstance(devices, dict):
        raise fail(where, "operating_point.devices maps device names to nmos/pmos")
    for name, polarity in devices.items():
        if polarity not in ("nmos", "pmos") or not NAME.match(str(name)):
            raise fail(where, f"operating_point: device {name}: {polarity!r}")
    return {str(k): str(v) for k, v in devices.items()}, tb, an


def parse_box(spec: Any, measures: tuple[Measure, ...], where: str) -> TargetBox:
    """The declared target box (``specs:``): each entry names a measure."""
    if not isinstance(spec, dict):
        raise fail(where, "'specs' must map measure names to bounds")
    units = {m.name: m.unit for m in measures}
    out = []
    for name, entry in spec.items():
        if name not in units:
            raise fail(where, f"spec {name}: no measure of that name")
        try:
            out.append(spec_range(str(name), entry, units[name]))
        except UserInputError as error:
            raise fail(where, str(error)) from None
    return TargetBox(tuple(out))
