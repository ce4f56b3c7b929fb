"""Strategies that reach the hard end of a box when the frontier search stalls.

The box trainer's frontier search (``train.loop``: the sizer on fresh box
targets no verified design meets) covers the bulk of a box but not its hard
end: the surrogate is cautious where it has no data, so it proposes designs it
trusts, inside the region already verified. When held-out success stalls
below the box's ceiling, the loop spends part of each round on one of these
strategies, each producing designs to verify in ngspice:

- ``trust``: a trust region (TuRBO, Eriksson et al., NeurIPS 2019) around
  the verified design closest to each target still unmet; the surrogate
  search (at the ensemble mean) may move each parameter at most ``length``
  action units from it. ``length`` doubles after a use that met new targets
  and halves after one that did not.
- ``extremes``: constrained extreme-seeking per spec: the other specs drawn
  over the box (fixed ones at their value) are constraints, and the pushed
  spec aims a step (``STEP`` box widths) past the best value any verified
  design reaches while meeting them: the verified front extended along that
  spec's axis, one step at a time.
- ``front``: NSGA-II (``sim.search.front.evolve_on_model``) on the surrogate's
  predictions, started from the verified designs, its non-dominated designs
  verified in ngspice, spread by crowding distance.

Which strategy runs is chosen from what each has found: every strategy is
tried once, then the one with the most new probe targets met per simulation
over its recent uses (``Explorer.choose``); the loop logs per round which
strategy ran, its simulations and the probe targets it newly met.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from sim.search.archive import oriented
from sim.search.front import FrontConfig, crowding_distance, evolve_on_model
from sim.sizing.parameter_space import action_of, scale_action
from sim.sizing.problem import SizingProblem
from surrogate.circuit.dataset import surrogate_features
from surrogate.circuit.model import from_model_units, predict_arrays
from surrogate.circuit.search import (
    SearchConfig,
    empty_correction,
    make_search,
)
from train.sizer import harder, padded_search

STRATEGIES = ("trust", "extremes", "front")
CAUTION = 0.0  # search caution of trust and extremes (the ensemble mean)
STEP = (0.05, 0.2)  # extremes aim this far past the verified front (box widths)
FRONT_GENERATIONS = 40


@dataclass
class StrategyLog:
    """What one strategy did over a run: uses, simulations, new probe
    targets met (by the designs it proposed), and per use the yield."""

    uses: int = 0
    sims: int = 0
    new_met: int = 0
    recent: list[float] = field(default_factory=list)  # new_met per sim

    def add(self, sims: int, new_met: int) -> None:
        self.uses += 1
        self.sims += sims
        self.new_met += new_met
        self.recent = (self.recent + [new_met / max(sims, 1)])[-2:]

    def to_json(self) -> dict:
        return {"uses": self.uses, "sims": self.sims, "new_met": self.new_met}


class Explorer:
    """The strategies of one run, their searches (compiled once per trust
    length) and their logs."""

    def __init__(self, problem: SizingProblem, seed: int) -> None:
        self.problem = problem
        self.seed = seed
        self.length = 0.2  # trust-region half-width (action units)
        self.logs = {name: StrategyLog() for name in ("frontier", *STRATEGIES)}
        self._searches: dict[tuple, object] = {}
        self._predict = jax.jit(self._predict_specs)

    # -- choosing ------------------------------------------------------------------
    def choose(self) -> str:
        """The next strategy: each once, then the best recent yield."""
        for name in STRATEGIES:
            if self.logs[name].uses == 0:
                return name

        def score(name: str) -> tuple[float, int]:
            log = self.logs[name]
            return (float(np.mean(log.recent)), -log.uses)

        return max(STRATEGIES, key=score)

    def record(self, name: str, sims: int, new_met: int) -> None:
        self.logs[name].add(sims, new_met)
        if name == "trust":
            grow = new_met > 0
            self.length = float(
                np.clip(self.length * (2.0 if grow else 0.5), 1 / 32, 0.8)
            )

    def summary(self) -> dict:
        return {name: log.to_json() for name, log in self.logs.items()}

    # -- proposing -----------------------------------------------------------------
    def propose(
        self,
        name: str,
        arrays: dict,
        verified,
        unmet: np.ndarray,
        count: int,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """Up to ``count`` sizings ``[K, n]`` (SI) from strategy ``name``;
        ``unmet`` ``[U, m]`` are box targets no verified design meets;
        ``verified`` is the run's ``train.verified.VerifiedDesigns``."""
        if count <= 0:
            return np.zeros((0, len(self.problem.scale.names)))
        if name == "trust":
            sizings = self.trust(arrays, verified, unmet, count, rng)
        elif name == "extremes":
            sizings = self.extremes(arrays, verified, count, rng)
        elif name == "front":
            sizings = self.front(arrays, verified, count, rng)
        else:
            raise ValueError(f"unknown strategy {name}")
        return new_designs(sizings, verified.sizings)[:count]

    def _search(self, caution: float, radius: float):
        key = (caution, radius)
        if key not in self._searches:
            config = SearchConfig(caution=caution, radius=radius)
            self._searches[key] = make_search(self.problem, config)
        return self._searches[key]

    def _run_search(self, search, arrays, targets, starts) -> np.ndarray:
        n, m = len(self.problem.scale.names), len(self.problem.specs)
        correction = empty_correction(len(targets), n, m)
        sizings, _ = padded_search(search, arrays, targets, starts, correction)
        return sizings

    def trust(self, arrays, verified, unmet, count, rng) -> np.ndarray:
        """Optimistic surrogate search within ``length`` of the verified
        design closest to each of ``count`` unmet targets."""
        if len(unmet) == 0 or len(verified) == 0:
            return np.zeros((0, len(self.problem.scale.names)))
        targets = unmet[rng.permutation(len(unmet))[:count]]
        closest = verified.closest(targets, 1)[:, 0]
        centre = action_of(verified.sizings[closest], self.problem.scale)
        jitter = rng.uniform(-1, 1, (len(targets), 4, centre.shape[1]))
        starts = np.clip(centre[:, None] + 0.5 * self.length * jitter, -1, 1)
        starts[:, 0] = centre
        search = self._search(CAUTION, self.length)
        return self._run_search(search, arrays, targets, starts)

    def extremes(self, arrays, verified, count, rng) -> np.ndarray:
        """Per free spec in turn: the others drawn uniformly over the box as
        constraints, that spec a step past the best verified value among
        the designs meeting them (``extreme_targets``)."""
        box = self.problem.box
        targets = extreme_targets(box, verified.figures, count, rng)
        n = len(self.problem.scale.names)
        starts = [rng.uniform(-1, 1, (count, 4, n))]
        if len(verified):
            index = verified.closest(targets, 4)
            starts.append(action_of(verified.sizings[index], self.problem.scale))
        starts = np.concatenate(starts, axis=1)
        search = self._search(CAUTION, 0.0)
        return self._run_search(search, arrays, targets, starts)

    def front(self, arrays, verified, count, rng) -> np.ndarray:
        """NSGA-II on the surrogate's mean figures; its non-dominated
        designs, ``count`` of them spread by crowding distance."""
        problem, box = self.problem, self.problem.box
        n = len(problem.scale.names)

        def figures_of(units: np.ndarray) -> np.ndarray:
            actions = 2.0 * np.asarray(units) - 1.0
            return np.asarray(self._predict(arrays, jnp.asarray(actions, jnp.float32)))

        start = None
        if len(verified):
            ok = np.all(np.isfinite(verified.figures), axis=1)
            met = box.met(verified.figures, box.easy) & ok
            rows = np.flatnonzero(met)
            if len(rows) > 100:
                rows = rng.choice(rows, 100, replace=False)
            start = (action_of(verified.sizings[rows], problem.scale) + 1.0) / 2.0
        config = FrontConfig(population=200, seed=int(rng.integers(2**31)))
        units, ranks, _ = evolve_on_model(
            figures_of, n, box, box.easy, FRONT_GENERATIONS, config, start
        )
        front = units[ranks == 0]
        if len(front) > count:  # spread: the most isolated designs first
            figures = figures_of(front)
            free = ~np.asarray([s.fixed for s in box.specs])
            objectives = -oriented(figures, box)[:, free]
            crowding = crowding_distance(objectives, np.zeros(len(front), int))
            order = np.argsort(-crowding, kind="stable")
            front = front[order]
        return scale_action(2.0 * front - 1.0, problem.scale)

    def _predict_specs(self, arrays, actions):
        """Mean spec figures ``[N, m]`` (SI) of actions ``[N, n]``."""
        problem = self.problem
        params = scale_action(actions, problem.scale, jnp)
        features = surrogate_features(params, problem.scale, jnp)
        y, _, p_valid = predict_arrays(arrays, features)
        index = jnp.asarray(problem.spec_index)
        figures = from_model_units(
            y[:, index], arrays["log_mask"][index], arrays["sign"][index]
        )
        return jnp.where(p_valid[:, None] > 0.5, figures, jnp.nan)


def extreme_targets(
    box, figures: np.ndarray, count: int, rng: np.random.Generator
) -> np.ndarray:
    """``count`` targets ``[count, m]`` that extend the verified front
    ``figures`` ``[N, m]`` along one free spec each (in turn): the other
    specs uniform over the box, the pushed one a random ``STEP`` (box
    widths) past the best value of the designs meeting the others (past
    the box's easy end when none does)."""
    free = np.flatnonzero([not s.fixed for s in box.specs])
    targets = box.from_uniform(rng.random((count, len(box.specs))))
    figures = np.asarray(figures, np.float64)
    good = oriented(figures, box)  # larger is better on every spec
    for row in range(count):
        k = free[row % len(free)]
        others = targets[row].copy()
        others[k] = np.nan
        meeting = box.met(figures, others)
        best = box.easy.copy()
        if meeting.any():
            best[k] = figures[meeting][np.argmax(good[meeting, k]), k]
        delta = np.zeros(len(box.specs))
        delta[k] = rng.uniform(*STEP)
        targets[row, k] = harder(box, best, delta)[k]
    return targets


def new_designs(sizings: np.ndarray, known: np.ndarray) -> np.ndarray:
    """The rows of ``sizings`` ``[K, n]`` not already in ``known`` ``[N, n]``
    nor repeated (first copy kept), in order."""
    sizings = np.asarray(sizings, np.float64)
    if len(sizings) == 0:
        return sizings
    seen = {tuple(row) for row in np.asarray(known, np.float32)}
    keep = []
    for k, row in enumerate(sizings):
        key = tuple(row.astype(np.float32))
        if key not in seen:
            seen.add(key)
            keep.append(k)
    return sizings[keep]
