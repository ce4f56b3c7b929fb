"""Held-out progress of a training run and its stop rules.

``HeldOutProgress`` keeps the held-out curve (one point per evaluation:
rounds, SPICE sims, held-out success ...), the best success so far, how
many evaluations in a row did not improve on it (``stale``) and whether any
did not (``stalled``: from then on every round also runs a strategy of
``train.explore``). Training stops when held-out success reaches ``goal``
(and, when the box's feasibility ceiling is known, is within ``CEILING_GAP``
of it), or when it has not improved for ``patience`` evaluations within
``CEILING_GAP`` of the ceiling: below the ceiling (or with it unknown) a
stall never stops a run; the budget and ``--max-rounds`` still do.
"""

from __future__ import annotations

from dataclasses import dataclass, field

CEILING_GAP = 0.01  # a stall this close to the box's ceiling may stop a run


@dataclass
class HeldOutProgress:
    """The held-out curve and the stop rules over it.

    ``goal``: held-out success that ends training (fraction); ``patience``:
    evaluations without improvement that end it near the ceiling;
    ``ceiling``: the box's feasibility ceiling (fraction, None: unknown).
    """

    goal: float
    patience: int
    ceiling: float | None
    curve: list[dict] = field(default_factory=list)
    best: float = -1.0
    stale: int = 0
    stalled: bool = False  # held-out stopped improving at least once

    def judge(self, success: float) -> None:
        """Count a round's held-out ``success`` towards the stop rules: a new
        best, or one more evaluation without improvement."""
        if success > self.best + 1e-9:
            self.best, self.stale = success, 0
        else:
            self.stale += 1
            self.stalled = True  # from now on, a strategy per round

    @property
    def success(self) -> float:
        """The last held-out success (0 before the first evaluation)."""
        return self.curve[-1]["held_out_success"] if self.curve else 0.0

    def near_ceiling(self, success: float) -> bool:
        """Whether ``success`` is within ``CEILING_GAP`` of the box's
        ceiling (False when the ceiling is unknown)."""
        return self.ceiling is not None and success >= self.ceiling - CEILING_GAP

    def finished(self) -> bool:
        """Stop: held-out success reached the goal (and, when the box's
        ceiling is known, is within ``CEILING_GAP`` of it), or it stalled
        for ``patience`` checks within ``CEILING_GAP`` of the ceiling.
        Below the ceiling a stall never stops the run: it changes strategy
        until the budget is spent."""
        if not self.curve:
            return False
        success = self.success
        goal = success >= self.goal and (
            self.ceiling is None or self.near_ceiling(success)
        )
        stale = self.stale >= self.patience and self.near_ceiling(self.best)
        return goal or stale

    def stop_reason(self, room: int, budget: int, max_rounds: int) -> str:
        """Why training ended, in words (``room``: SPICE sims left of
        ``budget``; ``max_rounds``: ``--max-rounds``)."""
        ceiling = "unknown" if self.ceiling is None else f"{self.ceiling:.1%}"
        if self.finished() and self.success >= self.goal:
            return (
                f"held-out success reached the goal {self.goal:.0%} "
                f"(box ceiling {ceiling})"
            )
        if self.finished():
            return (
                f"held-out success did not improve for {self.stale} checks "
                f"within {CEILING_GAP:.0%} of the box ceiling {ceiling}"
            )
        if room == 0:
            return f"the SPICE budget of {budget} was spent"
        return f"--max-rounds {max_rounds} reached"
