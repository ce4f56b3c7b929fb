"""Load-time checks of a circuit's netlists against its YAML, one line each.

``sim.format.circuit.load_circuit`` calls these after parsing: transistor lines
(four nodes, ``W=`` and ``L=``), element names defined twice in one deck,
Pelgrom pairs naming op-point devices, parameters used but not declared (or
declared but unused), measures that read vectors their analysis does not
produce, and internal nodes of the circuit netlist that a testbench also
uses (when the YAML declares the netlist's ``ports``).

Netlists are read statically (``sim.format.netlist_reading``,
``sim.format.netlist_parameters``): case-insensitive, ``.subckt`` bodies
kept apart (their nodes and parameters are local).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from sim.format.circuit_values import fail
from sim.format.measure_kinds import KINDS
from sim.format.netlist_parameters import ParameterUse, included_uses, parameter_use
from sim.format.netlist_reading import (
    GROUND,
    Deck,
    certain_nodes,
    deck_of,
    element_lines,
    global_nodes,
    transistor_names,
)

if TYPE_CHECKING:
    from sim.format.circuit_model import Measure, Testbench

# Elements with a branch current ngspice saves as i(<name>).
_BRANCH_LETTERS = "vehlb"
_VECTOR = re.compile(r"^(v|i)\(([^(),]+)(?:,([^(),]+))?\)\Z", re.I)


# ------------------------------------------------------------ transistors


def check_transistors(netlist: str, where: str) -> None:
    """Every ``M`` line on nmos/pmos has four nodes and both ``W=`` and ``L=``
    (without ``L=`` ngspice silently takes the model's default length)."""
    for number, tokens in element_lines(netlist):
        if tokens[0][0] not in "mM":
            continue
        polarity = [i for i, t in enumerate(tokens) if t.lower() in ("nmos", "pmos")]
        if not polarity:
            continue  # a transistor on the user's own model: written as is
        if polarity[0] != 5:
            raise fail(
                where,
                f"line {number}: {tokens[0]} needs drain gate source bulk "
                "nmos|pmos W=... L=...",
            )
        keys = [t.partition("=")[0].lower() for t in tokens[6:]]
        for token in tokens[6:]:
            if "=" not in token:
                raise fail(
                    where, f"line {number}: {tokens[0]}: {token!r} is not key=value"
                )
        for key in ("w", "l"):
            if keys.count(key) != 1:
                raise fail(
                    where,
                    f"line {number}: {tokens[0]} needs exactly one "
                    f"{key.upper()}=... (got {keys.count(key)})",
                )


# ------------------------------------------------------------ element names


def check_element_names(
    netlist: str, testbenches: tuple[Testbench, ...], where: str
) -> None:
    """No element is defined twice in one deck (the circuit's netlist and
    each testbench are simulated as one flat netlist)."""
    circuit_names = {}
    for number, tokens in element_lines(netlist):
        name = tokens[0].lower()
        if name in circuit_names:
            raise fail(
                where,
                f"netlist lines {circuit_names[name]} and {number} both define "
                f"{tokens[0]}",
            )
        circuit_names[name] = number
    for tb in testbenches:
        seen: dict[str, int] = {}
        for number, tokens in element_lines(tb.template):
            name = tokens[0].lower()
            if name in circuit_names:
                raise fail(
                    where,
                    f"testbench {tb.name} line {number}: {tokens[0]} is also an "
                    f"element of the circuit netlist (line {circuit_names[name]})",
                )
            if name in seen:
                raise fail(
                    where,
                    f"testbench {tb.name} lines {seen[name]} and {number} both "
                    f"define {tokens[0]}",
                )
            seen[name] = number


# ------------------------------------------------------------ parameters


def check_parameters(
    parameters: Iterable[str],
    constants: Iterable[str],
    templates: Mapping[str, str],
    where: str,
    elsewhere: Callable[[], set[str]] = set,
) -> None:
    """Every name a template reads is declared (a parameter, a constant,
    ``VDD`` or a ``.param`` of a template or a file it includes), and every
    parameter and constant of the YAML is read by some template.

    ``templates`` maps a file name (as messages show it) to its text;
    ``elsewhere`` gives further declared names (lower case, e.g. the
    technology's model files), asked only when a name is still unknown.
    """
    declared = {n.lower(): ("parameter", n) for n in parameters}
    declared |= {n.lower(): ("constant", n) for n in constants}
    known = set(declared) | {"vdd"}
    uses = {name: parameter_use(text) for name, text in templates.items()}

    @functools.cache
    def included() -> tuple[ParameterUse, ...]:
        """The included files' uses, read once and only when asked."""
        return tuple(u for text in templates.values() for u in included_uses(text))

    for use in uses.values():
        known |= use.declared
    unknown = [
        (file, name, where_used)
        for file, use in uses.items()
        for name, where_used in use.used.items()
        if name not in known
    ]
    if unknown:
        known |= set().union(*(u.declared for u in included()))
        if any(name not in known for _, name, _ in unknown):
            known |= {n.lower() for n in elsewhere()}
    for file, name, (number, written) in unknown:
        if name not in known:
            raise fail(
                where,
                f"{file} line {number} reads parameter {written!r}, which is "
                "declared nowhere: add it under parameters or constants "
                "(or fix its spelling)",
            )
    read = set().union(*(u.used.keys() | u.mentioned for u in uses.values()))
    if not declared.keys() <= read:
        read |= set().union(*(u.used.keys() | u.mentioned for u in included()))
    for key, (what, name) in declared.items():
        if key not in read:
            raise fail(
                where,
                f"{what} {name} is declared but no netlist uses it: use "
                f"{{{name}}} in {' or '.join(templates)}, or remove it",
            )


# ------------------------------------------------------------ measures

# Vectors of a noise analysis besides the nodes: the summed spectra.
_NOISE_VECTORS = ("inoise_spectrum", "onoise_spectrum")


def _vector_problem(vector: str, deck: Deck, analysis: str) -> str | None:
    """What the deck lacks for ``vector`` (``"no node outx"``), or None."""
    name = vector.strip().lower()
    if name.startswith("@") or "." in name:
        return None  # device parameters, hierarchical names: not checked
    match = _VECTOR.match(name)
    if match is None:
        if analysis == "noise" and name.startswith(("inoise_", "onoise_")):
            return None  # the spectra and, with noisefull, their contributions
        if "#" in name:
            element = name.split("#", 1)[0]
            return None if element in deck.elements else f"no element {element}"
        if name in deck.nodes:
            return None
        if analysis == "noise":
            spectra = " or ".join(_NOISE_VECTORS)
            return f"no node {name} (a noise analysis gives {spectra})"
        return f"no node {name}"
    kind, *names = match.groups()
    if kind.lower() == "i":
        source = names[0].strip()
        if source in deck.elements and source[0] in _BRANCH_LETTERS:
            return None
        return f"no voltage source {source} (its current i({source}) is read)"
    for node in (n.strip() for n in names if n is not None):
        if node not in deck.nodes:
            return f"no node {node}"
    return None


def check_measures(
    measures: tuple[Measure, ...],
    netlist: str,
    testbenches: tuple[Testbench, ...],
    netlist_file: str,
    files: Mapping[str, str],
    where: str,
) -> None:
    """Each measure reads an analysis of the type its kind needs, and every
    vector it names (``v(node)``, ``i(source)``, a noise spectrum) exists in
    its testbench's deck. ``files`` maps testbench names to file names."""
    commands = {(tb.name, a.name): a.command for tb in testbenches for a in tb.analyses}
    decks = {tb.name: deck_of(netlist, tb.template) for tb in testbenches}
    for measure in measures:
        kind = KINDS.get(measure.function)
        if kind is None:
            continue
        ref = f"{measure.testbench}.{measure.analysis}"
        analysis = commands[(measure.testbench, measure.analysis)].split()[0].lower()
        if analysis != kind.analysis:
            raise fail(
                where,
                f"measure {measure.name}: {measure.function} reads "
                f"{kind.analysis!r} analyses but {ref} is {analysis!r}: point "
                f"'analysis' at one of type {kind.analysis!r} (or add one)",
            )
        for arg in (*kind.vectors, *kind.optional_vectors):
            if arg not in measure.args:
                continue
            vector = measure.args[arg]
            if measure.function in ("supply_current", "supply_power"):
                vector = f"i({vector})"
            problem = _vector_problem(vector, decks[measure.testbench], analysis)
            if problem:
                raise fail(
                    where,
                    f"measure {measure.name}: {arg} {measure.args[arg]} is not "
                    f"produced by {ref}: {netlist_file} and "
                    f"{files.get(measure.testbench, measure.testbench)} have "
                    f"{problem}; name one of that deck",
                )


def check_operating_point(
    devices: Mapping[str, str], netlist: str, analysis: str, ref: str, where: str
) -> None:
    """Devices whose operating point is read are transistors of the
    netlist, read from an ``op`` analysis."""
    if not devices:
        return
    if analysis.split()[0].lower() != "op":
        raise fail(
            where,
            f"operating_point: {ref} is {analysis.split()[0]!r}; device operating "
            "points are read from an op analysis",
        )
    transistors = {n.lower() for n in transistor_names(netlist)}
    for name in devices:
        if name.lower() not in transistors:
            raise fail(
                where,
                f"operating_point: no transistor {name} in the netlist "
                "(list the netlist's M devices)",
            )


def check_measure_devices(
    measures: tuple[Measure, ...], netlist: str, devices: dict[str, str], where: str
) -> None:
    """Devices a design measure reads exist in the netlist and have their
    operating point read (Pelgrom's offset needs each pair's gm)."""
    transistors = transistor_names(netlist)
    for measure in measures:
        if measure.function != "offset_pelgrom":
            continue
        for pair in measure.args["pairs"].split(","):
            names = [n.strip() for n in pair.split("/")]
            if len(names) != 2 or not all(names):
                raise fail(
                    where,
                    f"measure {measure.name}: pairs must read 'A/B,C/D', got "
                    f"{measure.args['pairs']!r}",
                )
            for name in names:
                if name not in transistors:
                    raise fail(
                        where,
                        f"measure {measure.name}: no transistor {name} in the netlist",
                    )
                if name not in devices:
                    raise fail(
                        where,
                        f"measure {measure.name}: device {name} must be listed in "
                        "operating_point.devices (its gm weights the offset)",
                    )


# ------------------------------------------------------------ ports


def check_ports(
    ports: tuple[str, ...],
    netlist: str,
    netlist_file: str,
    testbenches: tuple[Testbench, ...],
    files: Mapping[str, str],
    where: str,
) -> None:
    """With ``ports`` declared, the circuit netlist and each testbench share
    only those nodes (and ground and ``.global`` nodes): any other shared
    node is an internal node the testbench connects to by accident."""
    inner = certain_nodes(netlist)
    nodes = deck_of(netlist).nodes
    for port in ports:
        if port.lower() not in nodes:
            raise fail(
                where,
                f"ports: {port} is not a node of {netlist_file}: fix the name "
                "or remove it from ports",
            )
    shared_ok = {p.lower() for p in ports} | GROUND | global_nodes(netlist)
    for tb in testbenches:
        outer = certain_nodes(tb.template)
        clash = sorted(inner & outer - shared_ok - global_nodes(tb.template))
        if clash:
            nodes = ", ".join(clash)
            file = files.get(tb.name, tb.name)
            raise fail(
                where,
                f"node{'s' if len(clash) > 1 else ''} {nodes} of {netlist_file} "
                f"{'are' if len(clash) > 1 else 'is'} not in ports but testbench "
                f"{tb.name} ({file}) uses {'them' if len(clash) > 1 else 'it'} "
                "too, which connects them: rename the node in one file or add "
                "it to ports",
            )


def port_list(value: object, where: str) -> tuple[str, ...]:
    """The YAML ``ports:`` entry: a list of node names (may be absent)."""
    if value is None:
        return ()
    if not isinstance(value, list) or not value:
        raise fail(where, "ports must be a non-empty list of node names")
    out = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, (str, int)):
            raise fail(where, f"ports: {item!r} is not a node name")
        name = str(item)
        if not re.match(r"^[^\s{}()=,;$'\"]+\Z", name):
            raise fail(where, f"ports: {name!r} is not a node name")
        out.append(name)
    return tuple(out)
