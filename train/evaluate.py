"""Held-out evaluation: a sizer on a set of targets, every answer simulated.

``evaluate(sizer, targets, max_sims)`` is the one measure of success the
trainer (its held-out checks, ``max_sims`` 1), ``python -m train.eval`` and
the benchmarks report: each target ``[T, m]`` sized with at most
``max_sims`` new SPICE simulations (``train.sizer.Sizer.size``), met meaning
every spec met in ngspice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sim.sizing.simulator import Evaluation
from train.sizer import SizingResult


@dataclass(frozen=True)
class EvalOutcome:
    """Per target: its ``SizingResult``; ``met`` ``[T]`` and ``sims`` ``[T]``
    (new simulations spent) as arrays."""

    results: list[SizingResult]
    met: np.ndarray
    sims: np.ndarray

    @property
    def success(self) -> float:
        """Share of the targets met (0 for none)."""
        return float(self.met.mean()) if len(self.met) else 0.0

    @property
    def met_by_verified(self) -> int:
        """Targets met by a design the run had verified (0 new simulations)."""
        return int(sum(r.source == "verified" and r.met for r in self.results))


def evaluate(
    sizer,
    targets: np.ndarray,
    max_sims: int,
    on_simulated: Callable[[list[Evaluation]], None] | None = None,
) -> EvalOutcome:
    """Size ``targets`` ``[T, m]`` with ``sizer`` (anything with
    ``size(targets, max_sims, on_simulated)``: ``train.sizer.Sizer``,
    ``train.sizing.TrainedSizer``), at most ``max_sims`` new simulations
    each; ``on_simulated`` receives every batch of evaluations."""
    results = sizer.size(targets, max_sims, on_simulated)
    return outcome(results)


def outcome(results: list[SizingResult]) -> EvalOutcome:
    """The ``EvalOutcome`` of sizing results (from any sizer)."""
    met = np.asarray([r.met for r in results], bool)
    sims = np.asarray([r.sims for r in results], int)
    return EvalOutcome(list(results), met, sims)
