"""The folders mirror the data flow sim -> surrogate -> envs -> train: a lower
layer never imports a higher one (checked on the source, imports inside
functions included). Simulation runs through one seam: only
``sim.engine.backend.make_backend`` builds the local pool."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO

LAYERS = ("sim", "surrogate", "envs", "train", "jaxsizer")  # benchmarks: unchecked


def _imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def upward_imports(root: Path, layer: str) -> list[str]:
    """``<file> imports [<layers>]`` for every module under ``root/layer``
    that imports a layer above ``layer``."""
    higher = set(LAYERS[LAYERS.index(layer) + 1 :])
    return [
        f"{path.relative_to(root)} imports {sorted(_imported_packages(path) & higher)}"
        for path in sorted((root / layer).rglob("*.py"))
        if _imported_packages(path) & higher
    ]


@pytest.mark.parametrize("layer", LAYERS)
def test_a_layer_imports_no_higher_layer(layer):
    offences = upward_imports(REPO, layer)
    assert not offences, offences


def test_the_checker_fails_on_a_synthetic_upward_import(tmp_path):
    package = tmp_path / "sim" / "inner"
    package.mkdir(parents=True)
    (tmp_path / "sim" / "fine.py").write_text(
        "import numpy\nfrom sim.errors import UserInputError\nfrom . import inner\n"
    )
    (package / "late.py").write_text(
        "def f():\n    from envs.definition import reward\n    return reward\n"
    )
    (tmp_path / "sim" / "top.py").write_text("import train.loop\n")
    offences = upward_imports(tmp_path, "sim")
    assert offences == [
        f"{Path('sim/inner/late.py')} imports ['envs']",
        f"{Path('sim/top.py')} imports ['train']",
    ]
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "up.py").write_text("import sim, surrogate, envs\n")
    assert upward_imports(tmp_path, "train") == []  # the top imports anything


def _pool_constructions(path: Path) -> list[int]:
    """Lines of ``path`` that call ``SimulationPool(...)``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and (
            getattr(node.func, "id", None) == "SimulationPool"
            or getattr(node.func, "attr", None) == "SimulationPool"
        )
    ]


def test_only_make_backend_builds_the_local_pool():
    built = {
        str(path.relative_to(REPO)): lines
        for folder in (*LAYERS, "benchmarks")
        for path in sorted((REPO / folder).rglob("*.py"))
        if (lines := _pool_constructions(path))
    }
    assert list(built) == [str(Path("sim/engine/backend.py"))], built


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def test_the_command_line_of_sim_is_imported_by_its_entry_only():
    """``sim.cli`` uses the other modules; none uses it (no import circle)."""
    importers = [
        str(path.relative_to(REPO))
        for folder in (*LAYERS, "benchmarks")
        for path in sorted((REPO / folder).rglob("*.py"))
        if "sim.cli" in _imported_modules(path)
    ]
    assert importers == [str(Path("sim/__main__.py"))], importers
