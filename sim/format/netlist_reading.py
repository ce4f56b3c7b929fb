"""Static reading of SPICE netlist templates: logical lines, elements, nodes.

Netlists are read the way ngspice reads node names: case-insensitive, ``+``
continuation lines joined, comments dropped, ``.subckt`` bodies kept apart
(their nodes are local). ``sim.format.circuit_checks`` checks a circuit's
netlists with these, and ``sim.commands.export`` names a deck's nodes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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


def element_lines(text: str) -> list[tuple[int, list[str]]]:
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
        for _, tokens in element_lines(text):
            elements.add(tokens[0].lower())
            nodes.update(n.lower() for n in element_nodes(tokens)[1])
        nodes.update(global_nodes(text))
    return Deck(frozenset(nodes), frozenset(elements))


def global_nodes(text: str) -> set[str]:
    """Nodes a ``.global`` line makes global (lower case)."""
    return {
        node
        for s in statements(text)
        if s.tokens[0].lower() == ".global"
        for node in s.text.lower().split()[1:]
    }


def transistor_names(netlist: str) -> set[str]:
    """Names of the netlist's top-level ``M`` elements, as written."""
    return {
        tokens[0]
        for _, tokens in element_lines(netlist)
        if tokens[0][0] in "mM" and len(tokens) > 5
    }


def certain_nodes(text: str) -> set[str]:
    """Nodes the top-level elements of ``text`` take for certain (lower case)."""
    return {
        node.lower()
        for _, tokens in element_lines(text)
        for node in element_nodes(tokens)[0]
    }
