"""Sizing a target for every declared condition with a nominal sizer.

The run's sizer (``train.sizer``) knows the nominal condition only. To meet
a target at every declared condition (``sim.pvt``), each target is sized
at the nominal for a *derated* target, the target tightened spec by spec,
and the design it returns is verified conditionally over the conditions
(``sim.pvt.verify``: nominal first, the conditions that failed before next,
stopping at the first failure). When a condition fails, the target's
derating grows by what the failure showed: per failing spec, how far the
design's figure at that condition fell below its nominal figure (in units
of the box's width, ``TargetBox.margin``), and the target is sized again,
up to ``attempts`` times.

The derating is learned from verified data and shared: a new target starts
from the median of the shifts every failure so far showed, so later targets
aim past the usual corner loss at once. ``max_sims`` bounds the sizer's
nominal simulations per target over all attempts; the condition
simulations are counted beside them (``condition_sims``) and stored.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.pvt.verify import ConditionalVerifier, Verdict

ATTEMPTS = 4
EXTRA = 0.02  # margin units added to a learned shift (a little beyond it)


@dataclass
class PvtResult:
    """One target over the conditions: the nominal sizer's last ``result``
    (``train.sizer.SizingResult``, met at the nominal for ``aim``), its
    conditional ``verdict`` (None when the nominal search failed), whether
    every condition met the target, nominal ``sims`` and ``condition_sims``
    spent, the derating ``[m]`` it ended with and the ``attempts`` made."""

    target: np.ndarray
    result: object
    verdict: Verdict | None
    met: bool
    sims: int
    condition_sims: int
    derate: np.ndarray
    attempts: int

    @property
    def total_sims(self) -> int:
        return self.sims + self.condition_sims


def tighten(box, targets: np.ndarray, derate: np.ndarray) -> np.ndarray:
    """``targets`` ``[..., m]`` made harder by ``derate`` ``[..., m]``
    (>= 0, in ``TargetBox.margin`` units): a figure meeting the result with
    margin d meets the original with margin d + derate. NaN stays NaN."""
    width = np.asarray(box.unit_width)
    sign = np.where(np.asarray(box.lower), 1.0, -1.0)
    step = sign * np.asarray(derate) * width
    log = np.asarray(box.log)
    with np.errstate(invalid="ignore", over="ignore"):
        return np.where(log, targets * np.exp(step), targets + step)


class PvtSizer:
    """A nominal ``sizer`` (``train.sizing.TrainedSizer``) sizing over the
    conditions of ``verifier`` (a ``ConditionalVerifier`` on its circuit).

    ``attempts=1`` is the nominal-only baseline (size at the nominal, then
    check every condition); ``conditional=False`` simulates every condition
    of every returned design (the naive all-conditions baseline)."""

    def __init__(
        self,
        sizer,
        verifier: ConditionalVerifier,
        attempts: int = ATTEMPTS,
        conditional: bool = True,
    ):
        self.sizer = sizer
        self.verifier = verifier
        self.box = verifier.box
        self.attempts = attempts
        self.conditional = conditional
        self.shifts: list[np.ndarray] = []  # [m] per failure seen (NaN: spec ok)

    @classmethod
    def for_trained(cls, sizer, conditions, **options) -> PvtSizer:
        """The PVT sizer of a ``TrainedSizer`` over ``conditions``."""
        verifier = ConditionalVerifier.for_session(sizer.session, conditions)
        return cls(sizer, verifier, **options)

    def prior(self) -> np.ndarray:
        """The derating ``[m]`` a new target starts from: the median learned
        shift per spec (0 where no failure showed one)."""
        m = len(self.box.specs)
        if not self.shifts:
            return np.zeros(m)
        stacked = np.stack(self.shifts)
        out = np.zeros(m)
        for s in range(m):
            seen = stacked[:, s][np.isfinite(stacked[:, s])]
            out[s] = float(np.median(seen)) if seen.size else 0.0
        return out

    def _shift(self, verdict: Verdict, nominal: int) -> np.ndarray:
        """Per spec ``[m]``: how much margin the worst simulated condition
        lost against the nominal, where that spec failed (NaN elsewhere)."""
        target = verdict.target
        worst, _ = verdict.worst()
        at = self.box.margin(worst, target)
        base = self.box.margin(verdict.figures[nominal], target)
        lost = np.where(at < 0, base - at, np.nan)
        return np.where(np.isfinite(lost) & (lost < 1e3), lost, np.nan)

    def size(self, targets: np.ndarray, max_sims: int) -> list[PvtResult]:
        """Every target ``[T, m]`` sized for every condition (see module)."""
        targets = np.asarray(targets, np.float64).reshape(-1, len(self.box.specs))
        n = len(targets)
        conditions = self.verifier.conditions
        nominal = (
            conditions.index(conditions.nominal)
            if conditions.nominal in conditions.conditions
            else 0
        )
        derate = np.tile(self.prior(), (n, 1))
        out: list[PvtResult | None] = [None] * n
        spent = np.zeros(n, int)
        condition_sims = np.zeros(n, int)
        active = list(range(n))
        for attempt in range(1, self.attempts + 1):
            if not active:
                break
            budget = int(max(0, max_sims - spent[active].max()))
            aims = tighten(self.box, targets[active], derate[active])
            results = self.sizer.size(aims, budget)
            passed = []
            for i, result in zip(active, results, strict=True):
                spent[i] += result.sims
                out[i] = PvtResult(
                    targets[i], result, None, False, 0, 0, derate[i].copy(), attempt
                )
                if result.met:
                    passed.append(i)
            verdicts = self.verifier.verify(
                [out[i].result.params for i in passed],
                targets[passed],
                stop_on_fail=self.conditional,
            )
            still = []
            for i, verdict in zip(passed, verdicts, strict=True):
                condition_sims[i] += verdict.sims
                out[i].verdict, out[i].met = verdict, verdict.met
                if verdict.met or verdict.failed_at is None or self.attempts == 1:
                    continue
                shift = self._shift(verdict, nominal)
                self.shifts.append(shift)
                grown = np.where(np.isfinite(shift), derate[i] + shift + EXTRA, 0)
                derate[i] = np.maximum(derate[i], grown)
                still.append(i)  # a verified design may meet it with no new sims
            active = still
        for i, one in enumerate(out):
            one.sims, one.condition_sims = int(spent[i]), int(condition_sims[i])
            one.derate = derate[i].copy()
        return out  # type: ignore[return-value]
