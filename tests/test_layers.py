"""The folders mirror the data flow sim -> surrogate -> envs -> train: a lower
layer never imports a higher one (checked on the source, imports inside
functions included)."""

from __future__ import annotations

import ast

import pytest

from tests.conftest import REPO

LAYERS = ("sim", "surrogate", "envs", "train")


def _imported_packages(path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("layer", LAYERS)
def test_a_layer_imports_no_higher_layer(layer):
    higher = set(LAYERS[LAYERS.index(layer) + 1 :])
    offences = [
        f"{path.relative_to(REPO)} imports {sorted(_imported_packages(path) & higher)}"
        for path in sorted((REPO / layer).rglob("*.py"))
        if _imported_packages(path) & higher
    ]
    assert not offences, offences
