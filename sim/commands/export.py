"""A sized circuit as files a designer runs with plain ``ngspice -b``.

``export_design`` writes, into one directory:

- ``<circuit>_sized.subckt``: the circuit as ``.subckt <circuit>_sized <ports>``
  with every ``{expression}`` of the sizing replaced by its number. The ports
  are the circuit's declared ``ports:`` in their order (the op-amps: ``inp inn
  out vdd vss``), else the nodes its testbenches connect to, alphabetically;
  the header says which. Transistors
  are written as the simulations wrote them (sky130: subcircuit instances,
  W and L in micrometres because the models set ``.option scale=1u``).
- ``<circuit>_tb.sp`` (the first testbench) and ``<circuit>_tb_<name>.sp``
  (any other): the technology's model include, ``.include`` of the subckt (a
  path relative to the testbench), the instance ``XDUT <ports>`` and the
  testbench's sources and loads, then a ``.control`` block that runs the
  testbench's analyses, writes every vector to ``<stem>.raw`` (ASCII, in the
  directory ngspice runs in), prints the figures as ``name = value`` (SI) and
  quits (remove ``quit`` to look at the vectors in an interactive ngspice).

The printed figures follow ``sim.format.measures`` step by step, in ngspice's control
language and in double precision: gain at the lowest frequency, the first
fall through 0 dB (or -180 degrees) found by a loop and interpolated linearly
in log10(f), the phase unwrapped by ``cph`` relative to its lowest-frequency
value, noise densities interpolated in log-log, op-point and DC-sweep values
as they are. Printed this way they equal the Simulator's figures to ngspice's
convergence noise (measured: below 1e-10 relative; ``tests/test_export.py``).
Kinds the control block does not compute (transient, DC crossings and ranges,
area, Pelgrom offset) are named in a comment; their vectors are in the raw
file. A figure that does not exist (no 0 dB crossing) prints as ``nan``.

Model paths: ngspice 39 does not expand environment variables in ``.lib`` or
``.include`` paths, so the testbench holds the absolute path that was
simulated (sky130: the ``sky130.lib.spice`` of the continuous models found by
``sim.format.sky130_models``, not the trimmed cache; a user technology: the files its
YAML gave) and, when that path lies under ``$PDK_ROOT``, a comment with the
path relative to it and what to change on another machine.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sim.errors import UserInputError
from sim.format.circuit import VDD_PLACEHOLDER, Circuit, Measure, Testbench
from sim.format.netlist import (
    evaluate,
    format_value,
    rewrite_transistors,
)
from sim.format.netlist_reading import GROUND, deck_of
from sim.format.technology import Technology

INSTANCE = "XDUT"
_EXPRESSION = re.compile(r"\{([^{}]*)\}")
_VOLTAGE = re.compile(r"^v\(([^(),]+)(?:,([^(),]+))?\)$", re.IGNORECASE)
_PRINTED = re.compile(r"^\s*([A-Za-z_][\w]*)\s*=\s*(\S+)\s*$")


@dataclass(frozen=True)
class ExportedDesign:
    """Files written by ``export_design`` and the subckt's port order."""

    subckt: Path
    testbenches: tuple[Path, ...]
    ports: tuple[str, ...]
    printed: tuple[str, ...]  # figures the testbenches print


def netlist_nodes(text: str) -> set[str]:
    """Nodes of a netlist's top level (lower case), ground left out: every
    name ``sim.format.netlist_reading`` reads as a node of the deck."""
    return set(deck_of(text).nodes - GROUND)


def subckt_ports(circuit: Circuit) -> tuple[str, ...]:
    """The circuit's declared ``ports`` (their order), else its nodes that any
    of its testbenches uses, alphabetically."""
    declared = tuple(getattr(circuit, "ports", ()) or ())
    if declared:
        return tuple(p.lower() for p in declared)
    inside = netlist_nodes(circuit.netlist)
    outside = {n for tb in circuit.testbenches for n in netlist_nodes(tb.template)}
    ports = sorted(inside & outside)
    if not ports:
        raise UserInputError(
            f"circuit {circuit.name}: its testbenches connect to none of its nodes"
        )
    return tuple(ports)


def subckt_name(circuit: Circuit) -> str:
    return f"{circuit.name}_sized"


def _values(
    circuit: Circuit, tech: Technology, design: Mapping[str, float]
) -> dict[str, float]:
    return {"VDD": tech.vdd, **circuit.constants, **design}


def _numeric(text: str, values: Mapping[str, float]) -> str | None:
    """``text`` with every ``{expression}`` replaced by its number, or None
    when one of them is beyond ``sim.format.netlist.evaluate``."""
    try:
        return _EXPRESSION.sub(
            lambda m: format_value(evaluate("{" + m.group(1) + "}", values)), text
        )
    except UserInputError:
        return None


def sized_subckt(
    circuit: Circuit,
    tech: Technology,
    design: Mapping[str, float],
    corner: str | None = None,
) -> str:
    """The ``.subckt`` of ``circuit`` sized by ``design`` (parameter -> SI)."""
    values = _values(circuit, tech, design)
    body = rewrite_transistors(circuit.netlist, tech)
    numeric = _numeric(body, values)
    ports = subckt_ports(circuit)
    name = subckt_name(circuit)
    unit = (
        "metres"
        if tech.length_unit == 1.0
        else f"units of {tech.length_unit:g} m (the models' .option scale)"
    )
    lines = [
        f"* {circuit.name} sized by jaxsizer for {tech.name} "
        f"({corner or tech.default_corner}).",
        f"* W and L in {unit}.",
        f"* Ports, in this order: {' '.join(ports)}",
        "* (the circuit's declared ports)"
        if getattr(circuit, "ports", ())
        else "* (the circuit's nodes its testbenches connect to, alphabetically).",
        "* Sizing (SI units):",
        *(f"*   {k} = {format_value(v)}" for k, v in design.items()),
        "* Needs the technology's models loaded first (see the testbench).",
        f".subckt {name} {' '.join(ports)}",
    ]
    if numeric is None:  # expressions ngspice must evaluate: give it the values
        lines += [f".param {k}={format_value(v)}" for k, v in values.items()]
        numeric = body
    lines += [numeric.rstrip(), f".ends {name}"]
    return "\n".join(lines) + "\n"


def model_lines(tech: Technology, corner: str | None = None) -> list[str]:
    """Comment and include lines that load ``tech``'s models for ``corner``.

    sky130 loads the continuous library the trimmed cache was built from;
    other technologies their own include lines.
    """
    corner = corner or tech.default_corner
    if tech.source == "sky130":
        from sim.format.sky130_models import find_sky130_models

        library = find_sky130_models() / "sky130.lib.spice"
        includes = [f".lib {library} {corner}"]
        comments = [
            f"* sky130 continuous models, corner {corner} (the simulations used a",
            "* trimmed copy of this library that gives the same results). With an",
            "* open_pdks install (volare, ciel) the same file is $PDK_ROOT/sky130A/",
            "* libs.tech/combined/continuous/sky130.lib.spice.",
        ]
    else:
        tech.includes(corner)  # validates the corner
        includes = list(tech.corner_includes[corner])
        comments = [f"* {tech.name} models, corner {corner}."]
    comments.append(
        "* ngspice does not expand environment variables in .lib/.include paths:"
    )
    comments.append("* on another machine, edit the path(s) below.")
    root = os.environ.get("PDK_ROOT")
    resolved_root = Path(root).expanduser().resolve() if root else None
    for line in includes:
        path = Path(line.split()[1])
        if resolved_root is not None and path.is_relative_to(resolved_root):
            relative = path.relative_to(resolved_root)
            comments.append(f"* = $PDK_ROOT/{relative} (PDK_ROOT was {root})")
    return comments + includes


def _vector(name: str, top: set[str]) -> str:
    """A vector name of the simulated deck as seen from the testbench: nodes
    inside the subckt become ``v(xdut.node)``."""
    match = _VOLTAGE.match(name.strip())
    if not match:
        return name

    def node(n: str) -> str:
        n = n.strip().lower()
        return n if n in top or n in GROUND else f"{INSTANCE.lower()}.{n}"

    nodes = [node(n) for n in match.groups() if n is not None]
    return f"v({','.join(nodes)})"


def _response(measure: Measure, top: set[str]) -> str:
    output = _vector(measure.args["output"], top)
    if "input" in measure.args:
        return f"({output}/{_vector(measure.args['input'], top)})"
    return output


def _fall_through(y: str, level: str) -> list[str]:
    """Control lines finding where ``y`` first falls from >= ``level`` to
    < ``level`` (as ``sim.format.measures``; for a magnitude, only when it starts at
    or above it): ``jx_found`` is 1 then, ``jx_k`` the sample before and
    ``jx_u`` the linear fraction of the way to the next sample."""
    start = f"{y}[0] ge {level}" if y == "jx_db" else "1"
    return [
        "let jx_n = length(jx_lf)",
        "let jx_k = 0",
        "let jx_found = 0",
        f"if {start}",
        "  while jx_k lt jx_n - 1",
        f"    if {y}[jx_k] ge {level} and {y}[jx_k+1] lt {level}",
        "      let jx_found = 1",
        "      break",
        "    end",
        "    let jx_k = jx_k + 1",
        "  end",
        "end",
        "if jx_found",
        f"  let jx_u = ({level} - {y}[jx_k])/({y}[jx_k+1] - {y}[jx_k])",
        "end",
    ]


def _figure_commands(
    measure: Measure, tech: Technology, top: set[str]
) -> list[str] | None:
    """Control lines that compute and print one figure (None: not printed)."""
    lines = _figure_lines(measure, tech, top)
    if lines is None or lines[-1] == "end":  # crossings print (or say nan)
        return lines
    return [*lines, f"print {measure.name.lower()}"]


def _figure_lines(
    measure: Measure, tech: Technology, top: set[str]
) -> list[str] | None:
    name = measure.name.lower()
    kind = measure.function
    a = measure.args
    if kind in ("dc_gain", "rejection"):
        sign = "-" if kind == "rejection" else ""
        return [f"let {name} = {sign}db({_response(measure, top)})[0]"]
    if kind in ("unity_gain_bandwidth", "phase_margin", "gain_margin"):
        h = _response(measure, top)
        lines = [
            f"let jx_db = db({h})",
            f"let jx_ph = cph({h})*180/pi",
            "let jx_ph = jx_ph - jx_ph[0]",
            "let jx_lf = log10(real(frequency))",
        ]
        if kind == "gain_margin":
            lines += _fall_through("jx_ph", "-180")
            value = "-(jx_db[jx_k] + jx_u*(jx_db[jx_k+1] - jx_db[jx_k]))"
        else:
            lines += _fall_through("jx_db", "0")
            value = (
                "10^(jx_lf[jx_k] + jx_u*(jx_lf[jx_k+1] - jx_lf[jx_k]))"
                if kind == "unity_gain_bandwidth"
                else "180 + jx_ph[jx_k] + jx_u*(jx_ph[jx_k+1] - jx_ph[jx_k])"
            )
        return [
            *lines,
            "if jx_found",
            f"  let {name} = {value}",
            f"  print {name}",
            "else",
            f"  echo {name} = nan",
            "end",
        ]
    if kind == "supply_current":
        return [f"let {name} = -i({a['source']})"]
    if kind == "supply_power":
        return [f"let {name} = {format_value(tech.vdd)}*(-i({a['source']}))"]
    if kind == "node_voltage":
        return [f"let {name} = {_vector(a['node'], top)}"]
    if kind == "difference":
        node, reference = _vector(a["node"], top), _vector(a["reference"], top)
        return [f"let {name} = {node} - {reference}"]
    if kind in ("minimum", "maximum"):
        function = "vecmin" if kind == "minimum" else "vecmax"
        return [f"let {name} = {function}({_vector(a['output'], top)})"]
    if kind == "noise_density":
        # log-log interpolation at the frequency, as sim.format.measures.noise_density
        target = format_value(float(a["frequency"]))
        return [
            "let jx_lf = log10(real(frequency))",
            f"let jx_ls = log10(abs({a['spectrum']}))",
            f"let jx_t = log10({target})",
            "let jx_k = 0",
            "while jx_k lt length(jx_lf) - 2",
            "  if jx_lf[jx_k+1] ge jx_t",
            "    break",
            "  end",
            "  let jx_k = jx_k + 1",
            "end",
            "let jx_u = (jx_t - jx_lf[jx_k])/(jx_lf[jx_k+1] - jx_lf[jx_k])",
            f"let {name} = 10^((1 - jx_u)*jx_ls[jx_k] + jx_u*jx_ls[jx_k+1])",
        ]
    return None


def testbench_deck(
    circuit: Circuit,
    tech: Technology,
    testbench: Testbench,
    design: Mapping[str, float],
    subckt_file: str,
    raw_file: str,
    corner: str | None = None,
    temperature: float = 27.0,
) -> tuple[str, tuple[str, ...]]:
    """A deck plain ``ngspice -b`` runs: the testbench around the subckt.

    Returns the deck and the names of the figures it prints.
    """
    ports = subckt_ports(circuit)
    top = netlist_nodes(testbench.template) | set(ports)
    # the values the testbench itself reads (a load {CL}, say)
    values = {
        k: v
        for k, v in {**circuit.constants, **design}.items()
        if re.search(rf"\b{re.escape(k)}\b", testbench.template, re.IGNORECASE)
    }
    lines = [
        f"* {circuit.name} testbench {testbench.name} on {tech.name} "
        f"({corner or tech.default_corner}, {temperature:g} C), by jaxsizer.",
        "* Run: ngspice -b <this file>. It prints the figures (SI units) and",
        f"* writes every vector to {raw_file} (ASCII) in the current directory.",
        *model_lines(tech, corner),
        f".include {subckt_file}",
        f".param VDD={format_value(tech.vdd)}",
        *(f".param {k}={format_value(v)}" for k, v in values.items()),
        f".temp {format_value(temperature)}",
        f"{INSTANCE} {' '.join(ports)} {subckt_name(circuit)}",
        testbench.template.rstrip(),
        ".control",
        "set filetype=ascii",
        "set numdgt=15",
    ]
    vdd = format_value(tech.vdd)
    printed: list[str] = []
    noise_runs = 0
    for index, analysis in enumerate(testbench.analyses):
        command = analysis.command.replace(VDD_PLACEHOLDER, vdd).lower()
        lines.append(command)
        if command.split()[0] == "noise":  # spectra in the first of its 2 plots
            noise_runs += 1
            lines.append(f"setplot noise{2 * noise_runs - 1}")
        lines.append(f"write {raw_file}")
        if index == 0:
            lines.append("set appendwrite")
        for measure in circuit.measures:
            if (measure.testbench, measure.analysis) != (testbench.name, analysis.name):
                continue
            commands = _figure_commands(measure, tech, top)
            if commands is None:
                lines.append(
                    f"* {measure.name} ({measure.function}): computed by jaxsizer "
                    f"from the vectors in {raw_file}, not printed here"
                )
                continue
            lines += commands
            printed.append(measure.name)
    # quit: ngspice -b then exits 0 (without it, "no simulations run" gives 1)
    lines += ["quit", ".endc", ".end"]
    return "\n".join(lines) + "\n", tuple(printed)


def export_design(
    circuit: Circuit,
    tech: Technology,
    design: Mapping[str, float],
    out: Path,
    corner: str | None = None,
    temperature: float = 27.0,
) -> ExportedDesign:
    """Write the sized subckt and one testbench per testbench of ``circuit``
    into ``out``; ``design`` maps every parameter to its SI value."""
    design = circuit.check_design(dict(design))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    subckt = out / f"{circuit.name}_sized.subckt"
    subckt.write_text(sized_subckt(circuit, tech, design, corner))
    written, printed = [], []
    for k, testbench in enumerate(circuit.testbenches):
        stem = f"{circuit.name}_tb" + ("" if k == 0 else f"_{testbench.name}")
        deck, names = testbench_deck(
            circuit,
            tech,
            testbench,
            design,
            subckt.name,
            f"{stem}.raw",
            corner,
            temperature,
        )
        path = out / f"{stem}.sp"
        path.write_text(deck)
        written.append(path)
        printed += names
    return ExportedDesign(subckt, tuple(written), subckt_ports(circuit), tuple(printed))


def export_conditions(
    circuit: Circuit,
    tech: Technology,
    design: Mapping[str, float],
    out: Path,
    conditions,
) -> dict[str, ExportedDesign]:
    """``export_design`` once per declared condition (``sim.pvt``): into
    ``out/<corner>_<T>C_<s>vdd/``, each with its corner's model section, its
    ``.temp`` and its supply (``Technology.with_supply``: ``.param VDD``, the
    analyses and the printed power read it). Returns them by directory name."""
    written = {}
    for condition in conditions:
        written[condition.slug] = export_design(
            circuit,
            tech.with_supply(condition.supply),
            design,
            Path(out) / condition.slug,
            condition.corner,
            condition.temperature,
        )
    return written


def printed_figures(stdout: str, names: tuple[str, ...]) -> dict[str, float]:
    """The figures an exported testbench printed (``name = value`` lines of
    ngspice's output), keyed by the circuit's measure names."""
    wanted = {n.lower(): n for n in names}
    figures = {}
    for line in stdout.splitlines():
        match = _PRINTED.match(line)
        if match and match.group(1).lower() in wanted:
            try:
                figures[wanted[match.group(1).lower()]] = float(match.group(2))
            except ValueError:
                continue
    return figures
