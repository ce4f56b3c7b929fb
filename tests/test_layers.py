"""The folders mirror the data flow sim -> surrogate -> envs -> train ->
benchmarks (and ``jaxsizer`` on top): a lower layer never imports a higher
one (checked on the source, imports inside functions included, and imports by
name: ``importlib.import_module``, ``__import__`` and strings naming a
module, as in a command table). No package holds an import circle, and
``sim``'s subpackages are layered in the order its docstring lists.
Simulation runs through one seam: only ``sim.engine.backend.make_backend``
builds the local pool."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import sim
from tests.conftest import REPO

LAYERS = ("sim", "surrogate", "envs", "train", "benchmarks", "jaxsizer")
PACKAGES = LAYERS  # checked for circles
# a dotted name, optionally with ``:attribute`` (entry-point style)
_DOTTED = re.compile(r"([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)(?::\w+)?")


def _is_module(root: Path, name: str) -> bool:
    """Whether ``name`` (dotted) is a module or package under ``root``."""
    path = root.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _names_by_string(tree: ast.AST, root: Path) -> set[str]:
    """Modules ``tree`` names in strings: the first argument of
    ``import_module(...)`` / ``__import__(...)``, and any string that is a
    dotted name of a module of a layer under ``root`` (a command table)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args:
            callee = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            first = node.args[0]
            if (
                callee in ("import_module", "__import__")
                and isinstance(first, ast.Constant)
                and isinstance(first.value, str)
            ):
                names.add(first.value)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            match = _DOTTED.fullmatch(node.value.strip())
            if (
                match
                and match.group(1).split(".")[0] in LAYERS
                and _is_module(root, match.group(1))
            ):
                names.add(match.group(1))
    return names


def _imported_packages(path: Path, root: Path = REPO) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = {name.split(".")[0] for name in _names_by_string(tree, root)}
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
    found = {
        path: _imported_packages(path, root) & higher
        for path in sorted((root / layer).rglob("*.py"))
    }
    return [
        f"{path.relative_to(root)} imports {sorted(names)}"
        for path, names in found.items()
        if names
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
        for folder in LAYERS
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
        for folder in LAYERS
        for path in sorted((REPO / folder).rglob("*.py"))
        if "sim.cli" in _imported_modules(path)
    ]
    assert importers == [str(Path("sim/__main__.py"))], importers


def test_the_checker_fails_on_a_synthetic_upward_import_by_name(tmp_path):
    for folder in ("sim", "envs", "train", "benchmarks/boxes"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "envs" / "definition.py").write_text("")
    (tmp_path / "benchmarks" / "__init__.py").write_text("")
    (tmp_path / "benchmarks" / "boxes" / "command.py").write_text("")
    (tmp_path / "sim" / "loader.py").write_text(
        "import importlib\n\n"
        "def load(name):\n"
        "    return importlib.import_module('envs.definition')\n"
    )
    (tmp_path / "sim" / "dunder.py").write_text("surrogate = __import__('surrogate')\n")
    (tmp_path / "train" / "table.py").write_text(
        "COMMANDS = {'boxes': ('benchmarks.boxes.command', 'main')}\n"
        "FILES = ('train.json', 'benchmarks.csv')  # names of files, not modules\n"
        "SELF = 'train.table'\n"
    )
    assert upward_imports(tmp_path, "sim") == [
        f"{Path('sim/dunder.py')} imports ['surrogate']",
        f"{Path('sim/loader.py')} imports ['envs']",
    ]
    assert upward_imports(tmp_path, "train") == [
        f"{Path('train/table.py')} imports ['benchmarks']"
    ]


# -- circles ------------------------------------------------------------------
def _module_name(root: Path, path: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _import_edges(root: Path, path: Path, modules: set[str]) -> set[str]:
    """Modules of ``modules`` that the file ``path`` imports, anywhere in it
    (inside functions and ``if TYPE_CHECKING:`` too; relative imports
    resolved; ``from package import module`` names the module), and those
    it imports by ``import_module``/``__import__``. A bare string naming a
    module (a gymnasium entry point) is no import of the module holding it:
    a third party loads it, after both modules are imported."""
    name = _module_name(root, path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if full in modules else base)
        elif (
            isinstance(node, ast.Call)
            and (getattr(node.func, "id", None) or getattr(node.func, "attr", None))
            in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            found.add(str(node.args[0].value))
    return {m for m in found if m in modules and m != name}


def _is_in_packages(root: Path, path: Path) -> bool:
    """Whether every folder from ``root`` down to ``path`` is a package."""
    folders = path.relative_to(root).parents
    return all((root / f / "__init__.py").is_file() for f in folders if f.parts)


def import_graph(root: Path, package: str) -> dict[str, set[str]]:
    """module -> the modules of ``package`` it imports (all under ``root``).
    Files in folders without ``__init__.py`` (``sim/circuits/``' schematic
    scripts) are no modules of the package."""
    files = {
        _module_name(root, path): path
        for path in sorted((root / package).rglob("*.py"))
        if _is_in_packages(root, path)
    }
    return {name: _import_edges(root, path, set(files)) for name, path in files.items()}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan),
    each sorted: every import circle of ``graph``."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for successor in sorted(graph.get(node, ())):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_circle_inside_a_package(package):
    found = circles(import_graph(REPO, package))
    assert not found, found


def _subpackage(root: Path, module: str) -> str:
    """The subpackage of a package under ``root`` that holds ``module``
    (``sim.engine.pool`` -> ``engine``); ``""`` for the package's own
    modules (``sim.errors``, ``sim``)."""
    parts = module.split(".")
    is_package = (
        len(parts) > 1 and (root / parts[0] / parts[1] / "__init__.py").is_file()
    )
    return parts[1] if is_package else ""


def subpackage_graph(root: Path, graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """Subpackage -> the other subpackages its modules import (``""``: the
    package's top modules)."""
    links: dict[str, set[str]] = {}
    for module, imported in graph.items():
        here = _subpackage(root, module)
        links.setdefault(here, set())
        links[here] |= {_subpackage(root, m) for m in imported} - {here}
    return links


def _sim_order() -> list[str]:
    """The subpackages ``sim``'s docstring lists, lowest first."""
    return re.findall(r"^\d+\. ``sim\.(\w+)``", sim.__doc__, re.MULTILINE)


def test_the_subpackages_of_sim_are_layered_as_its_docstring_says():
    graph = import_graph(REPO, "sim")
    links = subpackage_graph(REPO, graph)
    order = _sim_order()
    assert sorted(order) == sorted(s for s in links if s), (order, sorted(links))
    upward = [
        f"sim.{here} imports sim.{there}"
        for here in order
        for there in sorted(links[here] - {""})
        if order.index(there) > order.index(here)
    ]
    assert not upward, upward
    assert not circles({k: v - {""} for k, v in links.items() if k}), links
    # the shared modules at the top import no subpackage (cli and
    # __main__ are the command line on top of everything)
    top = {
        module: sorted({_subpackage(REPO, m) for m in imported} - {""})
        for module, imported in graph.items()
        if _subpackage(REPO, module) == ""
        and module not in ("sim", "sim.cli", "sim.__main__")
    }
    assert not any(top.values()), top


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_the_checker_fails_on_a_synthetic_circle(tmp_path):
    _write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "from pkg import b\n",
            "pkg/b.py": "def f():\n    from .a import x\n    return x\n",
            "pkg/c.py": "import pkg.a\nfrom pkg.b import f\n",
            "pkg/d.py": "import importlib\nM = importlib.import_module('pkg.e')\n",
            "pkg/e.py": "def g():\n    return __import__('pkg.d')\n",
            "pkg/f.py": "ENTRY = 'pkg.a:x'  # loaded by a third party\n",
        },
    )
    graph = import_graph(tmp_path, "pkg")
    assert graph["pkg.c"] == {"pkg.a", "pkg.b"}
    assert circles(graph) == [["pkg.a", "pkg.b"], ["pkg.d", "pkg.e"]]
    (tmp_path / "pkg" / "b.py").write_text("def f():\n    return 1\n")
    (tmp_path / "pkg" / "e.py").write_text("TABLE = {'d': 'pkg.d'}\n")
    assert circles(import_graph(tmp_path, "pkg")) == []


def test_the_checker_fails_on_a_synthetic_circle_of_subpackages(tmp_path):
    _write(
        tmp_path,
        {
            "sim/__init__.py": "",
            "sim/errors.py": "",
            "sim/low/__init__.py": "",
            "sim/low/x.py": "from sim import errors\n"
            "def f():\n    from sim.high import y\n    return y\n",
            "sim/low/z.py": "",
            "sim/high/__init__.py": "",
            "sim/high/y.py": "from sim.low import z\n",
        },
    )
    graph = import_graph(tmp_path, "sim")
    assert circles(graph) == []  # no circle of modules ...
    links = subpackage_graph(tmp_path, graph)
    assert links == {"": set(), "low": {"", "high"}, "high": {"low"}}
    assert circles({k: v - {""} for k, v in links.items() if k}) == [["high", "low"]]
