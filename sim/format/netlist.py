"""Turn a circuit, a technology and a testbench into an ngspice deck.

Circuit netlists are technology-neutral: transistors are written
``M<name> d g s b nmos|pmos W=<w> L=<l> [m=<m>]`` with W and L in metres
(numbers or ``{expressions}`` of parameters). ``render_deck`` rewrites those
lines for the technology (subcircuit instances, length units) and adds the
model includes, the parameters and the testbench.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Mapping

from sim.errors import UserInputError
from sim.format.circuit_model import Circuit, Testbench
from sim.format.technology import Technology
from sim.units import spice_number


def format_value(value: float) -> str:
    """A number as ngspice reads it back exactly (repr of a float)."""
    return repr(float(value))


def _join_continuations(text: str) -> list[str]:
    lines: list[str] = []
    for raw in text.splitlines():
        line = raw.rstrip()
        if line.lstrip().startswith("+") and lines:
            lines[-1] += " " + line.lstrip()[1:].strip()
        else:
            lines.append(line)
    return lines


def _scaled(value: str, unit: float) -> str:
    """A length ``value`` (metres) in the technology's netlist unit."""
    if unit == 1.0:
        return value
    factor = format_value(1.0 / unit)
    if value.startswith("{") and value.endswith("}"):
        return "{(" + value[1:-1] + ")*" + factor + "}"
    return format_value(spice_number(value) / unit)


def _transistor_tokens(line: str) -> list[str] | None:
    tokens = line.split()
    if (
        len(tokens) >= 6
        and tokens[0][0] in "mM"
        and tokens[5].lower() in ("nmos", "pmos")
    ):
        return tokens
    return None


_OPERATORS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}


def evaluate(expression: str, values: Mapping[str, float]) -> float:
    """Value of a netlist value (``1.5u`` or ``{2*W1}``) given parameter values.

    Only numbers, parameter names and + - * / ** are understood.
    """
    text = expression.strip()
    if not (text.startswith("{") and text.endswith("}")):
        return spice_number(text)
    lowered = {k.lower(): v for k, v in values.items()}

    def walk(node: ast.AST) -> float:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return float(node.value)
        if isinstance(node, ast.Name) and node.id.lower() in lowered:
            return float(lowered[node.id.lower()])
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            return _OPERATORS[type(node.op)](walk(node.left), walk(node.right))
        if isinstance(node, ast.UnaryOp) and type(node.op) in _OPERATORS:
            return _OPERATORS[type(node.op)](walk(node.operand))
        raise UserInputError(f"cannot evaluate netlist expression {expression!r}")

    try:
        return walk(ast.parse(text[1:-1], mode="eval"))
    except SyntaxError:
        raise UserInputError(f"bad netlist expression {expression!r}") from None


def choose_bins(
    circuit: Circuit, tech: Technology, corner: str | None, design: Mapping[str, float]
) -> dict[str, tuple[str, int]]:
    """Model bin of every transistor: device -> (subcircuit name, bin index).

    Only for technologies with binned subcircuits (see ``sim.format.binning``).
    """
    assert tech.binned is not None
    library = tech.binned(corner or tech.default_corner).subcircuits
    values = {**circuit.constants, **design}
    bins = {}
    for line in _join_continuations(circuit.netlist):
        tokens = _transistor_tokens(line)
        if tokens is None:
            continue
        subckt = tech.device(tokens[5].lower()).name
        sizes = dict(t.lower().partition("=")[::2] for t in tokens[6:])
        length = evaluate(sizes["l"], values)
        width = evaluate(sizes["w"], values) / evaluate(sizes.get("nf", "1"), values)
        # The deck holds lengths in netlist units; ngspice scales them back.
        unit = tech.length_unit
        length = float(format_value(length / unit)) * unit
        width = float(format_value(width / unit)) * unit
        try:
            bins[tokens[0]] = (subckt, library[subckt].bin_index(length, width))
        except ValueError as error:
            raise UserInputError(f"{tokens[0]}: {error}") from None
    return bins


def rewrite_transistors(
    netlist: str, tech: Technology, bins: Mapping[str, tuple[str, int]] | None = None
) -> str:
    """Rewrite ``M ... nmos|pmos ...`` lines for ``tech``.

    ``bins`` (from ``choose_bins``) makes each transistor use the one-bin
    subcircuit of its size instead of the technology's full subcircuit.
    """
    out = []
    for line in _join_continuations(netlist):
        tokens = _transistor_tokens(line)
        if tokens is not None:
            device = tech.device(tokens[5].lower())
            model = device.name
            if bins is not None:
                subckt, index = bins[tokens[0]]
                model = f"{subckt}__b{index}"
            params = []
            for token in tokens[6:]:
                key, sep, value = token.partition("=")
                if not sep:
                    raise UserInputError(f"transistor line needs key=value: {line!r}")
                if key.lower() in ("w", "l"):
                    value = _scaled(value, tech.length_unit)
                params.append(f"{key.lower()}={value}")
            name = device.instance(tokens[0])
            out.append(" ".join([name, *tokens[1:5], model, *params]))
        else:
            out.append(line)
    return "\n".join(out)


def render_deck(
    circuit: Circuit,
    tech: Technology,
    testbench: Testbench,
    corner: str | None = None,
    temperature: float = 27.0,
    design: dict[str, float] | None = None,
    bins: Mapping[str, tuple[str, int]] | None = None,
) -> str:
    """Complete ngspice deck (no ``.control``) for one testbench.

    Parameters get ``.param`` lines with ``design`` values (defaults when
    None); the pool changes them later with ``alterparam``. With ``bins``
    (see ``choose_bins``) the deck defines its transistors' one-bin
    subcircuits itself: the fast path for binned libraries.
    """
    values = circuit.default_design() if design is None else design
    lines = [
        f"* jaxsizer {circuit.name}/{testbench.name} on {tech.name} "
        f"({corner or tech.default_corner}, {temperature:g} C)",
        *tech.includes(corner, prebinned=bins is not None),
        f".param VDD={format_value(tech.vdd)}",
    ]
    if bins is not None:
        assert tech.binned is not None
        library = tech.binned(corner or tech.default_corner)
        for subckt, index in sorted(set(bins.values())):
            lines.append(f".include {library.bin_file(subckt, index)}")
    lines += [f".param {k}={format_value(v)}" for k, v in circuit.constants.items()]
    lines += [f".param {k}={format_value(values[k])}" for k in circuit.parameter_names]
    lines.append(f".temp {format_value(temperature)}")
    lines.append(rewrite_transistors(circuit.netlist, tech, bins))
    lines.append(testbench.template.rstrip())
    lines.append(".end")
    return "\n".join(lines) + "\n"


def area(circuit: Circuit, tech: Technology, design: Mapping[str, float]) -> float:
    """Area estimate (m²) of the circuit netlist's devices for a sizing.

    Transistors count W·L·m; capacitors C / ``tech.cap_density``; resistors
    (R / ``tech.sheet_resistance``) squares of ``tech.resistor_width``².
    Layout overhead (spacing, wells, routing) is not included.
    """
    values = {**circuit.constants, **design}
    total = 0.0
    for line in _join_continuations(circuit.netlist):
        tokens = line.split()
        if not tokens or tokens[0][0] in "*.+":
            continue
        multiplier = 1.0
        for token in tokens:
            key, _, value = token.partition("=")
            if key.lower() == "m" and value:
                multiplier = evaluate(value, values)
        if _transistor_tokens(line) is not None:
            sizes = dict(t.lower().partition("=")[::2] for t in tokens[6:])
            total += (
                evaluate(sizes["w"], values) * evaluate(sizes["l"], values) * multiplier
            )
        elif tokens[0][0] in "cC" and len(tokens) >= 4:
            total += evaluate(tokens[3], values) / tech.cap_density * multiplier
        elif tokens[0][0] in "rR" and len(tokens) >= 4:
            squares = evaluate(tokens[3], values) / tech.sheet_resistance
            total += squares * tech.resistor_width**2 * multiplier
    return total


def transistor_sizes(
    circuit: Circuit, design: Mapping[str, float]
) -> dict[str, tuple[float, float, float]]:
    """W (m), L (m) and multiplier of every transistor for a sizing."""
    values = {**circuit.constants, **design}
    sizes = {}
    for line in _join_continuations(circuit.netlist):
        tokens = _transistor_tokens(line)
        if tokens is None:
            continue
        params = dict(t.lower().partition("=")[::2] for t in tokens[6:])
        sizes[tokens[0]] = (
            evaluate(params["w"], values),
            evaluate(params["l"], values),
            evaluate(params.get("m", "1"), values),
        )
    return sizes


def pelgrom_offset(
    circuit: Circuit,
    tech: Technology,
    design: Mapping[str, float],
    gm: Mapping[str, float],
    pairs: str,
) -> float:
    """Input-referred offset standard deviation (V) from threshold mismatch.

    ``pairs`` lists matched pairs ``"A/B,C/D"``, the input pair first. Each
    pair adds sigma(dVt)² = 2 coefficient² / (W L m), referred to the input by
    (gm_pair / gm_input)²; current-factor mismatch is neglected.
    """
    sizes = transistor_sizes(circuit, design)
    polarity = circuit.devices
    total, gm_input = 0.0, None
    for pair in pairs.split(","):
        first, second = (name.strip() for name in pair.split("/"))
        width, length, mult = sizes[first]
        coefficient = tech.vth_mismatch[0 if polarity[first] == "nmos" else 1]
        sigma2 = 2 * coefficient**2 / (width * length * mult)
        pair_gm = 0.5 * (gm[first] + gm[second])
        if gm_input is None:
            gm_input = pair_gm
        total += (pair_gm / gm_input) ** 2 * sigma2
    return total**0.5
