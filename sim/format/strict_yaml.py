"""YAML read strictly: PyYAML's safe loader without its silent surprises.

A key given twice in one mapping is refused (the plain loader keeps the last),
as is a document whose aliases expand to more than ``MAX_YAML_NODES`` values
(an alias bomb); every problem comes out as a ``yaml.YAMLError``. Circuit and
technology files are read with ``load_yaml``.
"""

from __future__ import annotations

from typing import Any

import yaml

MAX_YAML_NODES = 100_000  # nodes of a YAML document with aliases expanded


def _expanded_size(root: yaml.Node) -> int:
    """Nodes of the document with every alias expanded (``MAX_YAML_NODES``
    + 1 once it is over that); a ``yaml.YAMLError`` for a cyclic alias."""
    sizes: dict[int, int] = {}
    active: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if key in sizes:
            continue
        children = node.value if isinstance(node.value, list) else []
        items = [
            child
            for item in children
            for child in (item if isinstance(item, tuple) else (item,))
        ]
        if done:
            active.discard(key)
            sizes[key] = min(MAX_YAML_NODES + 1, 1 + sum(sizes[id(c)] for c in items))
            continue
        if key in active:
            raise yaml.YAMLError("a YAML alias refers to itself (a cycle)")
        active.add(key)
        stack.append((node, True))
        for child in items:
            if id(child) in active:
                raise yaml.YAMLError("a YAML alias refers to itself (a cycle)")
            stack.append((child, False))
    return sizes[id(root)]


class StrictYamlLoader(yaml.SafeLoader):
    """PyYAML's safe loader that refuses a key given twice in one mapping
    (the plain loader keeps the last silently) and a document whose aliases
    expand to more than ``MAX_YAML_NODES`` nodes (an alias bomb)."""

    def compose_document(self) -> yaml.Node:
        node = super().compose_document()
        if node is not None and _expanded_size(node) > MAX_YAML_NODES:
            raise yaml.YAMLError(
                f"the YAML expands to more than {MAX_YAML_NODES} values through "
                "its aliases (&name/*name): refused"
            )
        return node

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # explicit keys may override merged ones
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
            except TypeError:
                continue  # unhashable: the base loader reports it
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"found duplicate key {key!r}",
                    key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep)


def load_yaml(text: str) -> Any:
    """YAML ``text`` with the safe loader, refusing duplicate keys.

    Every problem comes out as a ``yaml.YAMLError`` (PyYAML lets a bad
    date through as ``ValueError``).
    """
    try:
        return yaml.load(text, Loader=StrictYamlLoader)  # noqa: S506 - safe loader
    except (ValueError, TypeError, OverflowError, RecursionError) as error:
        raise yaml.YAMLError(f"{type(error).__name__}: {error}") from None


def yaml_problem(error: yaml.YAMLError) -> str:
    """A YAML error as one line (PyYAML's messages span several)."""
    return " ".join(str(error).split())
