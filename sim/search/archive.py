"""Every design a search verified in SPICE, and which targets they meet.

``DesignArchive`` keeps each distinct design a search simulated: its point in
the unit cube ``[0, 1]^n`` (``Parameter.from_unit`` maps it to a design;
integers and grids snap, so many points give one design), its parameter
values and its spec figures (NaN where a figure is missing or the simulation
failed). ``SpiceEvaluator`` runs the simulations for the searches
(``sim.search.front``, ``sim.search.targeted``), serves repeats from the
archive for free and counts every design it sends to the simulator.

``archive_meets`` answers, for many targets at once, whether some verified
design meets each; ``pareto_mask`` keeps the designs nothing else beats.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sim.format.circuit import Parameter
from sim.format.targets import TargetBox

MEETS_CHUNK = 2**22  # designs x targets x specs compared per NumPy call


def oriented(figures: np.ndarray, box: TargetBox) -> np.ndarray:
    """Figures ``[..., m]`` turned so that larger is better on every spec.

    Log specs compare logarithms; a missing figure (NaN, or not positive on a
    log spec) becomes ``-inf``, worse than anything.
    """
    figures = np.asarray(figures, np.float64)
    log = np.asarray(box.log)
    usable = np.isfinite(figures) & (~log | (figures > 0))
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(log, np.log(np.where(usable, np.abs(figures), 1.0)), figures)
    value = np.where(box.lower, value, -value)
    return np.where(usable, value, -np.inf)


def pareto_mask(better: np.ndarray) -> np.ndarray:
    """Bool ``[N]``: rows of ``better`` ``[N, m]`` (larger is better) that no
    other row dominates (at least as good everywhere, better somewhere).

    Of identical rows, one is kept.
    """
    better = np.asarray(better, np.float64)
    n = len(better)
    if n == 0:
        return np.zeros(0, bool)
    order = np.lexsort(better.T[::-1] * -1.0)  # best first on the first column
    candidates = better[order]
    keep = np.arange(n)
    i = 0
    while i < len(candidates):
        point = candidates[i]
        dominated = np.all(candidates <= point, axis=1)
        dominated[i] = False
        candidates, keep = candidates[~dominated], keep[~dominated]
        i = int(np.sum(~dominated[:i])) + 1
    mask = np.zeros(n, bool)
    mask[order[keep]] = True
    return mask


def archive_meets(
    spec_values: np.ndarray, targets: np.ndarray, box: TargetBox
) -> np.ndarray:
    """Bool ``[T]``: whether some design of ``spec_values`` ``[N, m]`` meets
    each target of ``targets`` ``[T, m]`` (``box.met``; NaN targets ask
    nothing). Vectorised in chunks; the designs may be all of an archive or
    its ``pareto_mask`` (the same answer, faster)."""
    values = np.asarray(spec_values, np.float64).reshape(-1, len(box.specs))
    targets = np.asarray(targets, np.float64).reshape(-1, len(box.specs))
    out = np.zeros(len(targets), bool)
    if len(values) == 0 or len(targets) == 0:
        return out
    step = max(1, MEETS_CHUNK // max(1, len(values) * len(box.specs)))
    for start in range(0, len(targets), step):
        chunk = targets[start : start + step]
        met = box.met(values[None, :, :], chunk[:, None, :])  # [t, N]
        out[start : start + step] = met.any(axis=1)
    return out


def best_margin(
    spec_values: np.ndarray, target: np.ndarray, box: TargetBox
) -> np.ndarray:
    """Per design ``[N]``: the smallest ``box.margin`` over specs for one
    ``target`` ``[m]``; >= 0 exactly where the design meets the target."""
    return box.margin(np.asarray(spec_values, np.float64), target).min(axis=-1)


def design_of(parameters: Sequence[Parameter], unit: np.ndarray) -> np.ndarray:
    """Parameter values ``[n]`` (SI) of a unit-cube point ``[n]`` (snapped)."""
    return np.asarray(
        [p.from_unit(float(u)) for p, u in zip(parameters, unit, strict=True)]
    )


class DesignArchive:
    """Every distinct design verified so far (arrays grow by rows).

    ``units`` ``[N, n]`` (the first unit-cube point that gave each design),
    ``designs`` ``[N, n]`` parameter values (SI), ``figures`` ``[N, m]`` spec
    figures in ``box`` order (NaN where missing), ``ok`` ``[N]`` whether the
    simulation succeeded.
    """

    def __init__(self, parameters: Sequence[Parameter], box: TargetBox) -> None:
        self.parameters = tuple(parameters)
        self.box = box
        n, m = len(self.parameters), len(box.specs)
        self._units = np.zeros((0, n))
        self._designs = np.zeros((0, n))
        self._figures = np.zeros((0, m))
        self._ok = np.zeros(0, bool)
        self._size = 0
        self._index: dict[bytes, int] = {}
        self._front_cache: tuple = (None, None)

    def __len__(self) -> int:
        return self._size

    @property
    def units(self) -> np.ndarray:
        return self._units[: self._size]

    @property
    def designs(self) -> np.ndarray:
        return self._designs[: self._size]

    @property
    def figures(self) -> np.ndarray:
        return self._figures[: self._size]

    @property
    def ok(self) -> np.ndarray:
        return self._ok[: self._size]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parameters)

    def find(self, design: np.ndarray) -> int | None:
        """Row of a design (parameter values ``[n]``), if it is archived."""
        return self._index.get(np.asarray(design, np.float64).tobytes())

    def add(self, unit, design, figures, ok: bool) -> int:
        """Archive one design; returns its row (the old one if known)."""
        design = np.asarray(design, np.float64)
        key = design.tobytes()
        if key in self._index:
            return self._index[key]
        if self._size == len(self._units):
            grow = max(1024, self._size)
            self._units = _grown(self._units, grow)
            self._designs = _grown(self._designs, grow)
            self._figures = _grown(self._figures, grow)
            self._ok = _grown(self._ok, grow)
        row = self._size
        self._units[row], self._designs[row] = unit, design
        self._figures[row], self._ok[row] = figures, ok
        self._index[key] = row
        self._size += 1
        return row

    def params(self, row: int) -> dict[str, float]:
        """The design of ``row`` as a parameter dict (SI)."""
        return dict(zip(self.names, map(float, self._designs[row]), strict=True))

    def front(self, easy: np.ndarray) -> np.ndarray:
        """Rows ``[k]`` of the designs meeting ``easy`` ``[m]`` (a box's easy
        ends and fixed specs) that no other such design beats on the free
        specs (those ``easy`` does not fix). Every target of a box with these
        easy ends that the archive meets, one of them meets."""
        easy = np.asarray(easy, np.float64)
        key = (self._size, easy.tobytes())
        if self._front_cache[0] == key:
            return self._front_cache[1]
        rows = np.flatnonzero(self.ok)
        rows = rows[self.box.met(self.figures[rows], easy)]
        free = ~np.asarray([s.fixed for s in self.box.specs])
        mask = pareto_mask(oriented(self.figures[rows], self.box)[:, free])
        self._front_cache = (key, rows[mask])
        return rows[mask]


class SpiceEvaluator:
    """Simulates unit-cube points for the searches and archives the results.

    ``simulator`` is a ``sim.sizing.simulator.Simulator`` (restrict its circuit to
    the box's specs for speed). ``sims`` counts the designs sent to the
    simulator (each a SPICE simulation now or, ``from_store`` of them, an
    earlier one served by the simulation store); points whose design is
    already archived cost nothing.
    """

    def __init__(self, simulator, box: TargetBox, archive: DesignArchive | None = None):
        self.simulator = simulator
        self.box = box
        self.archive = archive or DesignArchive(simulator.circuit.parameters, box)
        self.sims = 0
        self.from_store = 0

    def evaluate(self, units: np.ndarray, on_sims=None) -> np.ndarray:
        """Archive rows ``[k]`` of unit-cube points ``units`` ``[k, n]``.

        New designs are simulated in one batch; ``on_sims(count)`` is called
        with how many were (for progress bars).
        """
        units = np.clip(np.asarray(units, np.float64), 0.0, 1.0)
        archive = self.archive
        rows = np.empty(len(units), np.int64)
        new: dict[bytes, list[int]] = {}
        designs = {}
        for i, unit in enumerate(units):
            design = design_of(archive.parameters, unit)
            row = archive.find(design)
            if row is not None:
                rows[i] = row
                continue
            key = design.tobytes()
            new.setdefault(key, []).append(i)
            designs[key] = design
        if new:
            keys = list(new)
            batch = [
                dict(zip(archive.names, map(float, designs[k]), strict=True))
                for k in keys
            ]
            results = self.simulator.simulate(batch)
            for key, result in zip(keys, results, strict=True):
                figures = np.asarray(
                    [_number(result.performance.get(s)) for s in self.box.names]
                )
                first = new[key][0]
                row = archive.add(units[first], designs[key], figures, result.ok)
                rows[new[key]] = row
                self.from_store += bool(result.cached)
            self.sims += len(keys)
            if on_sims is not None:
                on_sims(len(keys))
        return rows


def _grown(array: np.ndarray, rows: int) -> np.ndarray:
    return np.concatenate([array, np.zeros((rows,) + array.shape[1:], array.dtype)])


def _number(value) -> float:
    return np.nan if value is None else float(value)
