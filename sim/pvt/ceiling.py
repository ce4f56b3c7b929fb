"""The all-condition feasibility ceiling of a target box (``sim specs --pvt``).

The nominal search (``sim.search.specs``) leaves an archive of verified designs and
the ceiling's targets. A target is met at every condition when some design
meets it at each; the candidates are the archive's designs meeting it at the
nominal condition, most slack first (``best_margin``), at most
``max_candidates`` per target. They are verified conditionally
(``ConditionalVerifier``): a candidate stops at its first failing condition,
the conditions that failed before go first, and a design shared by many
targets is simulated at a condition once. Targets go in rounds, one
candidate each per round, so every round is one batch per condition.

This is a lower bound of the true all-condition ceiling: no search runs at
the corners themselves (a design tuned for the worst case that the nominal
search never visited is not tried).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from sim.search.archive import archive_meets, best_margin


@dataclass(frozen=True)
class PvtCeiling:
    """``met`` ``[T]`` at every condition, ``met_nominal`` ``[T]`` by the
    archive at the nominal one, ``rows`` ``[T]`` the archive row that met
    each (-1: none), ``tried`` ``[T]`` candidates verified per target; the
    verifier's spend (``sims``, ``from_store``, per condition) and its
    learned failure counts ``[k, m]``."""

    met: np.ndarray
    met_nominal: np.ndarray
    rows: np.ndarray
    tried: np.ndarray
    sims: int
    from_store: int
    sims_per_condition: np.ndarray
    failures: np.ndarray
    full_sims: int  # what verifying every tried candidate at every condition costs
    seconds: float

    @property
    def value(self) -> float:
        return float(np.mean(self.met)) if len(self.met) else float("nan")


def pvt_ceiling(
    verifier,
    archive,
    targets: np.ndarray,
    max_candidates: int = 20,
    chunk: int = 25,
    progress: bool = True,
) -> PvtCeiling:
    """The all-condition ceiling of ``targets`` ``[T, m]`` from ``archive``
    (``sim.search.archive.DesignArchive`` of nominal results, same spec order as
    ``verifier.box``).

    Targets go ``chunk`` at a time; a design verified at every condition is
    remembered with its worst case, and a target that worst case meets costs
    nothing more."""
    start = time.perf_counter()
    box = verifier.box
    targets = np.asarray(targets, np.float64)
    rows_ok = np.flatnonzero(archive.ok)
    figures = archive.figures[rows_ok]
    met_nominal = archive_meets(figures, targets, box)
    n = len(targets)
    met = np.zeros(n, bool)
    rows = np.full(n, -1, np.int64)
    tried = np.zeros(n, np.int64)
    robust: dict[int, np.ndarray] = {}  # row -> worst case over every condition
    pairs: set[tuple[int, int]] = set()  # (row, condition) a full check would run
    k = len(verifier.conditions)

    def known(t: int) -> bool:
        for row, worst in robust.items():
            if box.met(worst, targets[t]):
                met[t], rows[t] = True, row
                return True
        return False

    def candidates(t: int) -> np.ndarray:
        margin = best_margin(figures, targets[t], box)
        usable = np.flatnonzero(margin >= 0)
        best = usable[np.argsort(-margin[usable], kind="stable")]
        return rows_ok[best[:max_candidates]]

    bar = _progress(n, progress)
    for first in range(0, n, chunk):
        group = [t for t in range(first, min(n, first + chunk)) if met_nominal[t]]
        lists = {t: candidates(t) for t in group}
        for round_ in range(max_candidates):
            todo = [
                t
                for t in group
                if not met[t] and round_ < len(lists[t]) and not known(t)
            ]
            if not todo:
                break
            designs = [archive.params(int(lists[t][round_])) for t in todo]
            verdicts = verifier.verify(designs, targets[todo])
            for t, verdict in zip(todo, verdicts, strict=True):
                tried[t] += 1
                row = int(lists[t][round_])
                pairs.update((row, c) for c in range(k))
                if verdict.complete:
                    robust[row] = verdict.worst()[0]
                if verdict.met:
                    met[t], rows[t] = True, row
        if bar is not None:
            bar.update(min(n, first + chunk) - first)
            bar.set_postfix(met=int(met.sum()), sims=verifier.sims)
    if bar is not None:
        bar.close()
    return PvtCeiling(
        met=met,
        met_nominal=met_nominal,
        rows=rows,
        tried=tried,
        sims=verifier.sims,
        from_store=verifier.from_store,
        sims_per_condition=verifier.sims_per_condition.copy(),
        failures=verifier.failures.copy(),
        full_sims=len(pairs),
        seconds=time.perf_counter() - start,
    )


def _progress(total: int, enabled: bool):
    if not enabled or total == 0:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="target", desc="all conditions", dynamic_ncols=True)


def ceiling_json(ceiling: PvtCeiling, verifier) -> dict:
    """The JSON of an all-condition ceiling."""
    return {
        "conditions": verifier.conditions.to_json(),
        "ceiling_all_conditions": ceiling.value,
        "met_nominal_by_archive": float(np.mean(ceiling.met_nominal)),
        "met": ceiling.met.tolist(),
        "candidates_tried": ceiling.tried.tolist(),
        "condition_sims": ceiling.sims,
        "condition_sims_from_store": ceiling.from_store,
        "condition_sims_if_every_condition": ceiling.full_sims,
        "sims_per_condition": ceiling.sims_per_condition.tolist(),
        "failures": ceiling.failures.tolist(),
        "seconds": round(ceiling.seconds, 1),
    }
