"""Sizing targets with what a run learned, verified in ngspice.

For each target ``Sizer.size`` spends at most ``max_sims`` SPICE simulations:

1. a design the run already verified that meets the target (0 new sims);
2. otherwise the best design of a search on the surrogate
   (``surrogate.circuit.search``) started from the verified designs closest
   to meeting the target, from random points and from the policy's own
   proposals (its walk on the surrogate), simulated in ngspice;
3. after a miss, the surrogate is re-anchored on the design ngspice just
   returned (the verified error is added to predictions near it) and the
   search runs again from there: a correction informed by SPICE, until the
   target is met or ``max_sims`` are spent.
4. a miss whose closest design has slack on some spec (a margin of at least
   ``SizerConfig.slack`` box widths: current allowed 9 mA, design at 0.4 mA)
   trades it: the next search aims each failing spec past its target by
   ``overshoot`` times the verified shortfall (the surrogate was optimistic
   there), and runs in a trust region (``refine_radius``) around the closest
   verified designs with the surrogate trusted as corrected (``caution`` 0),
   so it moves along the trade-off, spending the slack spec toward its bound
   to buy the failing ones.

A missed target keeps the closest verified design (the largest worst-spec
margin) and reports by how much each spec misses (``SizingResult.margins``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import jax
import jax.numpy as jnp
import numpy as np

from sim.errors import UserInputError
from sim.sizing.parameter_space import action_of
from sim.sizing.problem import SizingProblem
from sim.sizing.simulator import Evaluation, Simulator
from surrogate.circuit.dataset import surrogate_features
from surrogate.circuit.model import predict_arrays
from surrogate.circuit.search import SearchConfig, best_per_target, make_search
from train.verified import VerifiedDesigns

# what a proposer gives for targets [T, m]: candidate sizings [T, K, n] (SI)
Proposer = Callable[[np.ndarray], np.ndarray]
MINIMISE_STEP = 0.05  # --minimise aims this share of the box's width lower


@dataclass(frozen=True)
class SizerConfig:
    """Starts of the surrogate search per target, and the search itself."""

    verified_starts: int = 8  # verified designs closest to meeting the target
    random_starts: int = 8  # uniform random actions
    search: SearchConfig = field(default_factory=SearchConfig)
    seed: int = 0
    slack: float = 0.1  # a spec margin this large (box widths) is slack to trade
    overshoot: float = 1.0  # failing specs aimed past target x verified shortfall
    refine_radius: float = 0.25  # trust region of the slack trade (action units)


@dataclass(eq=False)
class SizingResult:
    """One target's outcome: the met (or closest) verified design.

    ``margins`` ``[m]``: ``TargetBox.margin`` per spec (>= 0 where met, in
    units of the box's width); ``sims`` new simulations spent on this target
    (0 when a design the run had verified meets it); ``source``:
    ``"verified"`` or ``"search"``.
    """

    target: np.ndarray
    met: bool
    sims: int
    params: dict[str, float]
    performance: dict[str, float]
    margins: np.ndarray
    source: str
    figures: np.ndarray  # [m] the verified spec figures (NaN where missing)
    first_met: SizingResult | None = None  # with minimise: the first met design

    @property
    def worst_margin(self) -> float:
        return float(np.min(self.margins))


def padded_search(search, arrays, targets, starts, correction):
    """``best_per_target`` of ``search`` (``make_search``) on targets
    ``[T, m]``, starts ``[T, S, n]`` and a correction, the batch padded to a
    power of two (its first row repeated) so that varying target counts
    reuse a few compiled searches."""
    count = len(targets)
    size = 1 << max(count - 1, 0).bit_length()

    def pad(a):
        a = np.asarray(a)
        return np.concatenate([a, np.repeat(a[:1], size - count, axis=0)])

    out = search(
        arrays,
        jnp.asarray(pad(targets), jnp.float32),
        jnp.asarray(pad(starts), jnp.float32),
        jax.tree.map(lambda a: jnp.asarray(pad(a)), correction),
    )
    params, margin = best_per_target(out)
    return params[:count], margin[:count]


def harder(box, target: np.ndarray, delta: np.ndarray) -> np.ndarray:
    """``target`` ``[m]`` with each spec made ``delta`` ``[m]`` box widths
    (``TargetBox.unit_width``, on the spec's scale) harder: a lower bound
    raised, an upper bound lowered; NaN (no requirement) stays NaN."""
    target = np.asarray(target, np.float64)
    step = np.where(box.lower, 1.0, -1.0) * np.asarray(delta) * box.unit_width
    log = np.asarray(box.log)
    moved = np.where(log, target * np.exp(np.where(log, step, 0.0)), target + step)
    return np.where(np.isfinite(target), moved, target)


class Sizer:
    """Sizes targets of ``problem`` with a surrogate (``surrogate_arrays``),
    the designs verified so far, and optionally a policy's proposals."""

    def __init__(
        self,
        problem: SizingProblem,
        simulator: Simulator,
        arrays: dict,
        verified: VerifiedDesigns,
        config: SizerConfig = SizerConfig(),
        proposer: Proposer | None = None,
        search=None,
    ) -> None:
        self.problem = problem
        self.simulator = simulator
        self.arrays = arrays
        self.verified = verified
        self.config = config
        self.proposer = proposer
        self.search = search or make_search(problem, config.search)
        self.refine = make_search(
            problem,
            replace(config.search, caution=0.0, radius=config.refine_radius),
        )

    # -- pieces ------------------------------------------------------------------
    def starts(self, targets: np.ndarray) -> np.ndarray:
        """Search starts ``[T, S, n]`` (actions in [-1, 1]) per target (the
        random ones from ``config.seed``: the same targets, the same starts)."""
        scale, config = self.problem.scale, self.config
        n = len(scale.names)
        rng = np.random.default_rng(config.seed)
        parts = [rng.uniform(-1.0, 1.0, (len(targets), config.random_starts, n))]
        if len(self.verified) and config.verified_starts:
            index = self.verified.closest(targets, config.verified_starts)
            parts.append(action_of(self.verified.sizings[index], scale))
        if self.proposer is not None:
            parts.append(action_of(self.proposer(targets), scale))
        return np.concatenate(parts, axis=1).astype(np.float32)

    def propose(
        self,
        targets: np.ndarray,
        starts: np.ndarray,
        correction: dict,
        search=None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The best searched sizing ``[T, n]`` (SI) and its predicted margin
        (``search``: another ``make_search`` than the sizer's own)."""
        return padded_search(
            search or self.search, self.arrays, targets, starts, correction
        )

    def model_bias(self, sizings: np.ndarray, figures: np.ndarray):
        """Features ``[K, n]`` of verified sizings and the surrogate's error
        there ``[K, m]`` in model units (0 where a figure is missing)."""
        problem, arrays = self.problem, self.arrays
        features = surrogate_features(
            jnp.asarray(sizings, jnp.float32), problem.scale, jnp
        )
        y, _, _ = predict_arrays(arrays, features)
        index = problem.spec_index
        y = np.asarray(y)[:, index]
        log_mask = np.asarray(arrays["log_mask"])[index]
        with np.errstate(divide="ignore", invalid="ignore"):
            truth = np.where(log_mask, np.log10(np.abs(figures)), figures)
        bias = np.where(np.isfinite(truth), truth - y, 0.0)
        return np.asarray(features), bias

    # -- sizing ------------------------------------------------------------------
    def size(
        self,
        targets: np.ndarray,
        max_sims: int,
        on_simulated: Callable[[list[Evaluation]], None] | None = None,
        minimise: str | None = None,
    ) -> list[SizingResult]:
        """Size every target ``[T, m]`` (NaN: no requirement) with at most
        ``max_sims`` new simulations each; ``on_simulated`` receives every
        batch of evaluations as it comes back.

        ``minimise``: an upper-bounded spec (power, current, ...): once a
        target is met, the remaining simulations search for designs that
        still meet it with that figure lower (the search aims a step below the
        best verified value, ``MINIMISE_STEP`` of the box's width, halved
        after a step that fails); the result is the best met design and
        ``first_met`` the first one.
        """
        problem = self.problem
        targets = np.asarray(targets, np.float64).reshape(-1, len(problem.specs))
        n_targets, n, m = len(targets), len(problem.scale.names), len(problem.specs)
        lowered = None if minimise is None else self._minimised_spec(minimise)
        results: list[SizingResult | None] = [None] * n_targets
        hit = self.verified.meeting(targets)
        for i in np.flatnonzero(hit >= 0):
            j = int(hit[i])
            verified = self.verified
            results[i] = self._result(
                targets[i],
                verified.params_of(j),
                verified.performance_of(j),
                0,
                "verified",
            )
            results[i].first_met = results[i]
        aims = targets.copy()  # what the search aims at (tightened to minimise)
        steps = np.full(n_targets, MINIMISE_STEP)
        if lowered is not None:
            for i in np.flatnonzero(hit >= 0):
                aims[i] = self._tightened(targets[i], results[i], lowered, steps[i])
        todo = np.arange(n_targets) if lowered is not None else np.flatnonzero(hit < 0)
        slots = max(max_sims, 1)
        correction = {
            "features": np.zeros((n_targets, slots, n), np.float32),
            "bias": np.zeros((n_targets, slots, m), np.float32),
            "weight": np.zeros((n_targets, slots), np.float32),
        }
        starts = np.zeros((n_targets, 0, n), np.float32)
        if len(todo):
            chosen = self.starts(aims[todo])
            starts = np.zeros((n_targets,) + chosen.shape[1:], np.float32)
            starts[todo] = chosen
        sims = np.zeros(n_targets, int)
        for attempt in range(max_sims):
            done = [results[i] is not None and results[i].met for i in todo]
            active = todo if lowered is not None else todo[~np.asarray(done, bool)]
            if len(active) == 0:
                break
            chunk_correction = {k: v[active] for k, v in correction.items()}
            sizings, _ = self.propose(aims[active], starts[active], chunk_correction)
            trade = [k for k, i in enumerate(active) if self._has_slack(results[i])]
            if lowered is None and trade:  # spend slack on the failing specs
                rows = active[trade]
                traded = np.stack([self._traded(targets[i], results[i]) for i in rows])
                refined, _ = self.propose(
                    traded,
                    starts[rows],
                    {k: v[rows] for k, v in correction.items()},
                    self.refine,
                )
                sizings[trade] = refined
            evaluations = self.simulator.simulate([problem.design(s) for s in sizings])
            if on_simulated is not None:
                on_simulated(evaluations)
            figures = np.stack(
                [
                    problem.spec_vector(e.performance) if e.ok else np.full(m, np.nan)
                    for e in evaluations
                ]
            )
            features, bias = self.model_bias(sizings, figures)
            for k, i in enumerate(active):
                sims[i] += 1
                e = evaluations[k]
                result = self._result(
                    targets[i], e.params, e.performance, sims[i], "search", e.ok
                )
                previous = results[i]
                if previous is not None and previous.first_met is not None:
                    result.first_met = previous.first_met
                elif result.met:
                    result.first_met = result
                if self._better(result, previous, lowered):
                    results[i] = result
                elif lowered is not None and previous is not None and previous.met:
                    steps[i] /= 2  # the step below the best was too far
                results[i].sims = int(sims[i])
                if lowered is not None and results[i].met:
                    aims[i] = self._tightened(targets[i], results[i], lowered, steps[i])
                correction["features"][i, attempt] = features[k]
                correction["bias"][i, attempt] = bias[k]
                correction["weight"][i, attempt] = 1.0 if e.ok else 0.0
                starts[i, -1] = action_of(sizings[k], problem.scale)
        for i in range(n_targets):
            if results[i] is None:  # max_sims == 0 and nothing verified meets it
                missing = np.full(m, np.nan)
                results[i] = SizingResult(
                    targets[i], False, 0, {}, {}, np.full(m, -np.inf), "none", missing
                )
        return results  # type: ignore[return-value]

    def _has_slack(self, result: SizingResult | None) -> bool:
        """A miss with a spec to trade: one failing spec and one whose margin
        is at least ``config.slack``."""
        if result is None or result.met or not np.all(np.isfinite(result.figures)):
            return False
        margins = result.margins
        return bool(np.any(margins < 0) and np.any(margins >= self.config.slack))

    def _traded(self, target: np.ndarray, best: SizingResult) -> np.ndarray:
        """The aim of a slack trade ``[m]``: each failing spec of ``target``
        moved past it by ``overshoot`` x its verified shortfall (box widths);
        the other specs stay at their target, i.e. the slack spec may be
        spent all the way to its bound."""
        shortfall = np.maximum(-np.asarray(best.margins, np.float64), 0.0)
        return harder(self.problem.box, target, self.config.overshoot * shortfall)

    def _minimised_spec(self, name: str) -> int:
        box = self.problem.box
        uppers = [s.name for s in box.specs if s.bound == "upper"]
        if name not in uppers:
            raise UserInputError(
                f"--minimise takes a spec with an upper bound: {', '.join(uppers)}"
            )
        return box.names.index(name)

    def _tightened(
        self, target: np.ndarray, best: SizingResult, k: int, step: float
    ) -> np.ndarray:
        """The target with spec ``k`` a ``step`` of the box's width below the
        best verified value (on the spec's scale)."""
        box = self.problem.box
        value = best.figures[k]
        width = box.unit_width[k]
        aim = target.copy()
        aim[k] = value * np.exp(-step * width) if box.log[k] else value - step * width
        return aim

    @staticmethod
    def _better(
        result: SizingResult, previous: SizingResult | None, lowered: int | None
    ) -> bool:
        if previous is None:
            return True
        if result.met != previous.met:
            return result.met
        if result.met and lowered is not None:
            key = lowered
            return bool(result.figures[key] < previous.figures[key])
        if result.met:
            return False  # the first met design stays
        return result.worst_margin > previous.worst_margin

    def _result(
        self,
        target: np.ndarray,
        params: dict,
        performance: dict,
        sims: int,
        source: str,
        ok: bool = True,
    ) -> SizingResult:
        problem = self.problem
        figures = (
            problem.spec_vector(performance)
            if ok
            else np.full(len(problem.specs), np.nan)
        )
        margins = problem.box.margin(figures, target)
        met = bool(problem.box.met(figures, target))
        return SizingResult(
            target, met, sims, dict(params), dict(performance), margins, source, figures
        )
