"""Pre-binned transistor subcircuits: the fast exact update path for sky130.

SkyWater's models put 48 size bins (``.model nshort_model.1`` ... ``.48``) in
each transistor subcircuit, and ngspice copies all of them for every instance
on each ``reset`` (~2.5 ms per instance: 25 ms of a 29 ms op2 simulation).
Here each subcircuit is split into its body and its bins; a deck then defines,
per bin in use, a subcircuit ``<name>__b<k>`` holding only that bin, chosen in
Python by the same rule ngspice applies (``lmin <= L < lmax`` and
``wmin <= W < wmax``, metres). Results are identical (tested against
``ngspice -b`` on the full library); only the bin choice moved out of ngspice.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

_NUMBER = r"([-+]?\d*\.?\d+(?:[eE][-+]?\d+)?)"
_LIMITS = {
    k: re.compile(rf"\b{k}\s*=\s*{_NUMBER}", re.I)
    for k in ("lmin", "lmax", "wmin", "wmax")
}


@dataclass(frozen=True)
class ModelBin:
    """One ``.model`` card and the size range (m) it covers."""

    lmin: float
    lmax: float
    wmin: float
    wmax: float
    text: str

    def covers(self, length: float, width: float) -> bool:
        return self.lmin <= length < self.lmax and self.wmin <= width < self.wmax


@dataclass(frozen=True)
class BinnedSubcircuit:
    """A transistor subcircuit split into its body lines and its model bins."""

    name: str
    header: str  # the ``.subckt`` line
    body: str  # everything but the model cards and ``.ends``
    bins: tuple[ModelBin, ...]

    def bin_index(self, length: float, width: float) -> int:
        """Index of the bin ngspice would pick for L, W in metres (nf = 1)."""
        for index, model in enumerate(self.bins):
            if model.covers(length, width):
                return index
        raise ValueError(
            f"{self.name}: no model bin covers L={length:g} m, W={width:g} m"
        )

    def bin_name(self, index: int) -> str:
        return f"{self.name}__b{index}"

    def definition(self, index: int) -> str:
        """A subcircuit ``<name>__b<index>`` that holds only that bin."""
        header = self.header.replace(self.name, self.bin_name(index), 1)
        return "\n".join(
            [header, self.body, self.bins[index].text, f".ends {self.bin_name(index)}"]
        )


def _model_bin(lines: list[str]) -> ModelBin:
    text = "\n".join(lines)
    limits = {}
    for key, pattern in _LIMITS.items():
        match = pattern.search(text)
        if match is None:
            raise ValueError(f"model card without {key}: {lines[0]}")
        limits[key] = float(match.group(1))
    return ModelBin(text=text, **limits)


def split_library(
    text: str, names: tuple[str, ...]
) -> tuple[str, dict[str, BinnedSubcircuit]]:
    """Remove the subcircuits ``names`` from a library text and split them.

    Returns the rest of the library (to ``.include``) and the split
    subcircuits by name.
    """
    rest: list[str] = []
    found: dict[str, BinnedSubcircuit] = {}
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        tokens = lines[i].split()
        if len(tokens) >= 2 and tokens[0].lower() == ".subckt" and tokens[1] in names:
            name, header = tokens[1], lines[i]
            body: list[str] = []
            cards: list[list[str]] = []
            i += 1
            while not lines[i].lower().startswith(".ends"):
                line = lines[i]
                if line.lower().startswith(".model"):
                    cards.append([line])
                elif cards and (
                    line.startswith("+") or not line.strip() or line.startswith("*")
                ):
                    cards[-1].append(line)
                else:
                    if cards:
                        raise ValueError(f"{name}: body line after model cards: {line}")
                    body.append(line)
                i += 1
            found[name] = BinnedSubcircuit(
                name, header, "\n".join(body), tuple(_model_bin(c) for c in cards)
            )
        else:
            rest.append(lines[i])
        i += 1
    missing = set(names) - set(found)
    if missing:
        raise ValueError(f"subcircuits not found in the library: {sorted(missing)}")
    return "\n".join(rest) + "\n", found


@dataclass
class BinnedLibrary:
    """A model library with its transistor subcircuits split into bins.

    ``base`` is the library without those subcircuits (to ``.include``);
    ``bin_file`` writes, once, a small file defining one one-bin subcircuit,
    so decks include only the bins they use and stay a few kB.
    """

    base: Path
    subcircuits: dict[str, BinnedSubcircuit]
    directory: Path
    _written: set[Path] = field(default_factory=set)

    def bin_file(self, subckt: str, index: int) -> Path:
        path = self.directory / f"{self.subcircuits[subckt].bin_name(index)}.spice"
        if path not in self._written:
            if not path.is_file():
                text = self.subcircuits[subckt].definition(index) + "\n"
                write_atomically(path, text)
            self._written.add(path)
        return path


def write_atomically(target: Path, text: str) -> None:
    """Write ``text`` so that concurrent readers never see a partial file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
