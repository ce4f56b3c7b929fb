"""Load-time checks of a circuit's netlists against its YAML, one line each.

``sim.format.circuit.load_circuit`` calls these after parsing: transistor lines
(four nodes, ``W=`` and ``L=``), element names defined twice in one deck,
Pelgrom pairs naming op-point devices, parameters used but not declared (or
declared but unused), measures that read vectors their analysis does not
produce, and internal nodes of the circuit netlist that a testbench also
uses (when the YAML declares the netlist's ``ports``).

Netlists are read statically, the way ngspice reads node and parameter
names: case-insensitive, ``+`` continuation lines joined, comments dropped,
``.subckt`` bodies kept apart (their nodes and parameters are local).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sim.engine.deck_check import expand_deck
from sim.errors import UserInputError
from sim.format.circuit_model import VDD_PLACEHOLDER
from sim.format.measure_kinds import KINDS
from sim.units import spice_number

if TYPE_CHECKING:
    from sim.format.circuit_model import Measure, Testbench

GROUND = frozenset({"0", "gnd"})
# Nodes each element letter takes for certain (before any model or value).
# Letters missing here (X, Q's optional substrate, E/G with four control
# nodes, XSPICE A devices) have their nodes read separately or guessed.
_NODE_COUNT = {
    "r": 2,
    "c": 2,
    "l": 2,
    "v": 2,
    "i": 2,
    "d": 2,
    "b": 2,
    "f": 2,
    "h": 2,
    "w": 2,
    "e": 2,
    "g": 2,
    "j": 3,
    "z": 3,
    "q": 3,
    "u": 3,
    "m": 4,
    "s": 4,
    "t": 4,
    "o": 4,
    "k": 0,
}
# Elements with a branch current ngspice saves as i(<name>).
_BRANCH_LETTERS = "vehlb"
_IDENTIFIER = re.compile(r"(?<![\w.@#$])([A-Za-z_]\w*)(?!\w)(?!\s*\()")
_EXPRESSION = re.compile(r"\{([^{}]*)\}|'([^']*)'")
_PROBE = re.compile(r"\b[vi]\s*\([^()]*\)|@[\w.#:]+(\[\w+\])?", re.I)
_VECTOR = re.compile(r"^(v|i)\(([^(),]+)(?:,([^(),]+))?\)\Z", re.I)


def fail(where: str, message: str) -> UserInputError:
    """The one-line error of a check: ``<where>: <message>``."""
    return UserInputError(f"{where}: {message}")


@dataclass(frozen=True)
class Statement:
    """One logical netlist line: where it starts and its text (comments
    removed, continuations joined); ``depth`` > 0 inside .subckt."""

    number: int
    text: str
    depth: int

    @property
    def tokens(self) -> list[str]:
        return self.text.split()


def statements(text: str) -> list[Statement]:
    """The logical lines of a netlist template, comments dropped."""
    joined: list[list] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = re.split(r"\s\$|;", raw, maxsplit=1)[0].strip()
        if not line or line.startswith("*"):
            continue
        if line.startswith("+"):
            if joined:
                joined[-1][1] += " " + line[1:].strip()
            continue
        joined.append([number, line])
    out, depth = [], 0
    for number, line in joined:
        word = line.split()[0].lower()
        if word.startswith(".ends"):
            depth = max(depth - 1, 0)
        out.append(Statement(number, line, depth))
        if word.startswith(".subckt"):
            depth += 1
    return out


def _element_lines(text: str) -> list[tuple[int, list[str]]]:
    """(line number, tokens as written) of the element lines outside
    ``.subckt`` blocks."""
    return [
        (s.number, s.tokens)
        for s in statements(text)
        if s.depth == 0 and not s.tokens[0].startswith(".")
    ]


def element_nodes(tokens: list[str]) -> tuple[list[str], list[str]]:
    """(nodes for certain, nodes maybe) of one element line's tokens.

    The second list holds every token that might be a node where the
    syntax is ambiguous without the models (a bipolar's substrate, the
    control nodes of E/G, XSPICE devices, unknown letters).
    """
    letter = tokens[0][0].lower()
    words = [t for t in tokens[1:] if "=" not in t and not t.startswith("{")]
    if letter == "x":
        nodes: list[str] = []
        for token in tokens[1:]:
            if "=" in token or token.startswith("{") or token == "params:":
                break
            nodes.append(token)
        return nodes[:-1], nodes[:-1]
    count = _NODE_COUNT.get(letter)
    if count is None:
        return [], words
    certain = tokens[1 : 1 + count]
    maybe = certain + (words[count:] if letter in "egq" else [])
    return certain, maybe


@dataclass(frozen=True)
class Deck:
    """The nodes and elements of one flat deck (circuit netlist + testbench)."""

    nodes: frozenset[str]  # every name that may be a node (lower case)
    elements: frozenset[str]  # element names (lower case)


def deck_of(*texts: str) -> Deck:
    """The nodes and elements of ``texts`` simulated as one deck."""
    nodes: set[str] = set(GROUND)
    elements: set[str] = set()
    for text in texts:
        for _, tokens in _element_lines(text):
            elements.add(tokens[0].lower())
            nodes.update(n.lower() for n in element_nodes(tokens)[1])
        nodes.update(_globals(text))
    return Deck(frozenset(nodes), frozenset(elements))


def _globals(text: str) -> set[str]:
    """Nodes a ``.global`` line makes global (lower case)."""
    return {
        node
        for s in statements(text)
        if s.tokens[0].lower() == ".global"
        for node in s.text.lower().split()[1:]
    }


# ------------------------------------------------------------ transistors


def check_transistors(netlist: str, where: str) -> None:
    """Every ``M`` line on nmos/pmos has four nodes and both ``W=`` and ``L=``
    (without ``L=`` ngspice silently takes the model's default length)."""
    for number, tokens in _element_lines(netlist):
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


def transistor_names(netlist: str) -> set[str]:
    """Names of the netlist's top-level ``M`` elements, as written."""
    return {
        tokens[0]
        for _, tokens in _element_lines(netlist)
        if tokens[0][0] in "mM" and len(tokens) > 5
    }


# ------------------------------------------------------------ element names


def check_element_names(
    netlist: str, testbenches: tuple[Testbench, ...], where: str
) -> None:
    """No element is defined twice in one deck (the circuit's netlist and
    each testbench are simulated as one flat netlist)."""
    circuit_names = {}
    for number, tokens in _element_lines(netlist):
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
        for number, tokens in _element_lines(tb.template):
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


def _identifiers(expression: str) -> set[str]:
    """Parameter names an expression reads, as written: functions,
    ``v(node)``/``i(source)`` probes and ``@device[param]`` left out."""
    return set(_IDENTIFIER.findall(_PROBE.sub(" ", expression)))


@dataclass(frozen=True)
class ParameterUse:
    """What a template declares (``.param``, ``.func``, ``.subckt`` params)
    and reads (brace and quote expressions, ``.param`` right-hand sides).
    Names in lower case, as ngspice compares them."""

    declared: frozenset[str]
    used: dict[str, tuple[int, str]]  # name -> (first line reading it, as written)
    mentioned: frozenset[str]  # also bare words outside node positions


def parameter_use(text: str) -> ParameterUse:
    """What one template (or included file) declares and reads."""
    declared: set[str] = set()
    used: dict[str, tuple[int, str]] = {}
    mentioned: set[str] = set()

    def read(expression: str, number: int) -> None:
        for name in _identifiers(expression):
            used.setdefault(name.lower(), (number, name))
            mentioned.add(name.lower())

    for s in statements(text):
        word = s.tokens[0].lower()
        rest = s.text.split(None, 1)[1] if len(s.tokens) > 1 else ""
        if word in (".param", ".csparam") or word.startswith(".subckt"):
            names = re.findall(r"([A-Za-z_]\w*)\s*=", rest)
            declared.update(n.lower() for n in names)
            if word.startswith(".subckt"):  # name and nodes, then a=value
                values = " ".join(re.findall(r"=\s*(\S+)", rest))
            else:
                values = re.sub(r"[A-Za-z_]\w*\s*=", " ", rest)
            read(values, s.number)
            continue
        if word.startswith(".meas"):  # names a result; its expressions read results
            if len(s.tokens) > 2:
                declared.add(s.tokens[2].lower())
            continue
        if word == ".func":
            head = re.match(r"([A-Za-z_]\w*)\s*\(([^)]*)\)", rest)
            if head:
                arguments = [a.strip() for a in head[2].split(",")]
                declared.update(n.lower() for n in [head[1], *arguments] if n)
            continue
        for braced, quoted in _EXPRESSION.findall(s.text):
            read(braced or quoted, s.number)
        if not word.startswith("."):
            bare = _EXPRESSION.sub(" ", s.text).split()
            skip = 1 + len(element_nodes(bare)[0]) if bare else 0
            for token in bare[skip:]:
                words = _identifiers(token.partition("=")[2] or token)
                mentioned.update(w.lower() for w in words)
    return ParameterUse(frozenset(declared), used, frozenset(mentioned))


def _included_uses(text: str) -> list[ParameterUse]:
    """What the files ``text`` includes (at any depth) declare and read."""
    out = []
    for included in expand_deck(text, "template").files:
        try:
            out.append(parameter_use(included.path.read_text("latin-1")))
        except OSError:
            continue
    return out


def include_declarations(text: str) -> set[str]:
    """Names ``.param`` lines of included files declare (lower case)."""
    return set().union(*(u.declared for u in _included_uses(text)))


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
        return tuple(u for text in templates.values() for u in _included_uses(text))

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
    inner = _certain_nodes(netlist)
    nodes = deck_of(netlist).nodes
    for port in ports:
        if port.lower() not in nodes:
            raise fail(
                where,
                f"ports: {port} is not a node of {netlist_file}: fix the name "
                "or remove it from ports",
            )
    shared_ok = {p.lower() for p in ports} | GROUND | _globals(netlist)
    for tb in testbenches:
        outer = _certain_nodes(tb.template)
        clash = sorted(inner & outer - shared_ok - _globals(tb.template))
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


def _certain_nodes(text: str) -> set[str]:
    """Nodes the top-level elements of ``text`` take for certain (lower case)."""
    return {
        node.lower()
        for _, tokens in _element_lines(text)
        for node in element_nodes(tokens)[0]
    }


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


# ------------------------------------------------------------ units

# SI units figures and parameters come in; a prefix on one (MHz, uW) is a
# mistake: values are SI numbers, only targets may carry prefixes.
SI_UNITS = frozenset("A V W F H S s m m² Hz ohm Ω V/s V/√Hz A/√Hz".split())
_PREFIX_LETTERS = "TGMkmuµnpf"


def unit_problem(unit: str) -> str | None:
    """What is wrong with a measure's or parameter's ``unit``, or None."""
    if not unit.isprintable() or any(c.isspace() for c in unit) or len(unit) > 16:
        return f"unit {unit!r} must be one short word (e.g. Hz, V/√Hz, dB)"
    if unit not in SI_UNITS and unit[:1] in _PREFIX_LETTERS and unit[1:] in SI_UNITS:
        return (
            f"unit {unit!r} carries a prefix, but values are SI numbers: "
            f"write {unit[1:]!r} (targets may still be given as 10{unit})"
        )
    return None


def display_name(path: str | Path) -> str:
    """A template's file name as messages show it."""
    return Path(path).name


# -- analysis commands ---------------------------------------------------------
_SWEEPS = ("dec", "oct", "lin")


def _numbers(words: list[str]) -> list[float] | None:
    try:
        return [spice_number(w) for w in words]
    except ValueError:
        return None


def _sweep_problem(words: list[str]) -> str | None:
    """Problem of ``dec|oct|lin points fstart fstop`` (None when right)."""
    if len(words) != 4 or words[0].lower() not in _SWEEPS:
        return "needs dec|oct|lin <points> <fstart> <fstop>"
    values = _numbers(words[1:])
    if values is None:
        return "points and frequencies must be numbers"
    points, start, stop = values
    if points < 1 or points != int(points):
        return "the number of points must be a positive integer"
    if start <= 0 or stop < start:
        return "needs 0 < fstart <= fstop"
    return None


def analysis_problem(command: str) -> str | None:
    """What is wrong with an analysis command's arguments, or None.

    ngspice reports some mistakes only when the analysis runs (``tran 2p``:
    "TSTOP is invalid") and loops forever on others (``dc vin 0 1`` without
    a step): they are caught here, at load time, instead.
    """
    text = re.sub(r"\(([^)]*)\)", lambda m: "(" + "".join(m[1].split()) + ")", command)
    words = text.replace(VDD_PLACEHOLDER, "1").split()
    kind, args = words[0].lower(), words[1:]
    if kind == "op":
        return None if not args else "op takes no arguments"
    if kind == "ac":
        return _sweep_problem(args)
    if kind == "noise":
        if len(args) not in (6, 7):
            return "needs v(out[,ref]) <source> dec|oct|lin <points> <fstart> <fstop>"
        return _sweep_problem(args[2:6])
    if kind == "dc":
        if len(args) not in (4, 8):
            return "needs <source> <start> <stop> <step> (one or two sweeps)"
        for i in range(0, len(args), 4):
            values = _numbers(args[i + 1 : i + 4])
            if values is None:
                return "start, stop and step must be numbers"
            if values[2] == 0 or (values[1] - values[0]) * values[2] < 0:
                return "the step must be non-zero and go from start towards stop"
        return None
    if kind == "tran":
        if args and args[-1].lower() == "uic":
            args = args[:-1]
        values = _numbers(args)
        if values is None or not 2 <= len(values) <= 4:
            return "needs <tstep> <tstop> [<tstart> [<tmax>]] [uic] as numbers"
        if values[0] <= 0 or values[1] <= 0:
            return "tstep and tstop must be positive"
        return None
    if kind == "tf":
        return None if len(args) == 2 else "needs <output> <input source>"
    if len(args) != 6:  # pz
        return "needs <4 nodes> cur|vol pol|zer|pz"
    return None
