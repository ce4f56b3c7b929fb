"""Parameter names a netlist template declares and reads, read statically.

What ``.param``, ``.func`` and ``.subckt`` lines declare and what brace and
quote expressions read, in lower case as ngspice compares them; also the
declarations of the files a template includes (at any depth).
``sim.format.circuit_checks.check_parameters`` compares them with the YAML.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sim.engine.deck_check import expand_deck
from sim.format.netlist_reading import element_nodes, statements

_IDENTIFIER = re.compile(r"(?<![\w.@#$])([A-Za-z_]\w*)(?!\w)(?!\s*\()")
_EXPRESSION = re.compile(r"\{([^{}]*)\}|'([^']*)'")
_PROBE = re.compile(r"\b[vi]\s*\([^()]*\)|@[\w.#:]+(\[\w+\])?", re.I)


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


def included_uses(text: str) -> list[ParameterUse]:
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
    return set().union(*(u.declared for u in included_uses(text)))
