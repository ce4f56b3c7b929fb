"""The box trainer's goal-conditioned policy: PPO on the surrogate env.

``Policy.train`` runs ``updates`` jitted calls per round, each a
``lax.scan`` over ``PPOConfig.segments`` PPO update segments (PureJaxRL's
shape: ~10^6 environment steps per call, no retrace between calls or
rounds). Episode targets are drawn from three sources (fixed-size tables,
so new targets never recompile):

- the declared box (a share ``box_share`` of the episodes);
- the trainer's curriculum table (targets no verified design meets yet and
  verified designs relabelled as targets);
- goals on the Pareto front of what the policy itself achieved on the
  surrogate in the previous call, pushed a little beyond it towards the
  box's hard end (PPAAS' automatic curriculum, Kim et al. 2025, arXiv
  2507.17003): hindsight goals that the policy nearly reaches, so
  successes are never too rare to learn from.

After training it measures, with the deterministic walk of
``train.propose`` on the surrogate, the share of a fixed set of box targets
the policy meets (``ppo/box_success``) and of the targets the sizer last
asked it for, the ones no verified design meets (``ppo/unmet_success``).
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np

from envs.surrogate_env import EnvParams, SurrogateEnv, ensemble_predictor
from envs.targets import draw_by_seed
from sim.errors import UserInputError
from sim.format.targets import TargetBox
from sim.sizing.session import Session
from train.checkpoint import runner_from_checkpoint
from train.ppo import make_train, scan_updates
from train.propose import make_proposer

PROBE_TARGETS = 512  # box targets of ppo/box_success (fixed per run)
PROBE_SEED = 104729
WALK_BATCH = 256  # targets per jitted walk (padded: one compilation)
FRONT_SAMPLE = 4000  # achieved figures searched for the front at most


def policy_env(session: Session) -> SurrogateEnv:
    """The surrogate env the policy trains on; its ``observation_size`` and
    ``action_size`` are the policy network's input and output sizes."""
    return SurrogateEnv(session.problem, session.default_sizing, ensemble_predictor)


def pareto_front(difficulty: np.ndarray) -> np.ndarray:
    """Indices of the rows of ``difficulty`` ``[N, k]`` no other row
    dominates (at least as hard on every axis, harder on one)."""
    keep = np.ones(len(difficulty), bool)
    for start in range(0, len(difficulty), 512):
        rows = difficulty[start : start + 512, None, :]  # [c, 1, k]
        geq = np.all(difficulty[None] >= rows, axis=-1)
        gt = np.any(difficulty[None] > rows, axis=-1)
        keep[start : start + 512] = ~np.any(geq & gt, axis=1)
    return np.flatnonzero(keep)


def front_goals(
    achieved: np.ndarray,
    box: TargetBox,
    n: int,
    rng: np.random.Generator,
    push: float = 0.1,
) -> np.ndarray:
    """``n`` goals ``[n, m]`` just beyond the Pareto front of ``achieved``
    figures ``[N, m]`` inside the box.

    Figures that miss a fixed spec (pm >= 60 deg) or lie far outside the box
    (more than half its width below an easy end) are dropped; the rest are
    placed in the box's coordinates (0 easy end, 1 hard end, ``box.difficulty``),
    clipped into it; goals are front points moved ``U(0, push)`` towards the
    hard end on every ranged spec. With nothing usable, uniform box targets.
    """
    achieved = achieved[np.all(np.isfinite(achieved), axis=1)]
    fixed = box.low == box.high
    if len(achieved):
        position = box.difficulty(achieved)
        fixed_met = (
            np.where(box.lower, achieved >= box.low, achieved <= box.low) | ~fixed
        )
        near = np.all(fixed_met, axis=1) & np.all(position >= -0.5, axis=1)
        position = np.clip(position[near], 0.0, 1.0)
    else:
        position = np.zeros((0, len(box.names)))
    if len(position) == 0:
        return draw_by_seed(box, n, int(rng.integers(2**31)))
    if len(position) > FRONT_SAMPLE:
        position = position[rng.choice(len(position), FRONT_SAMPLE, replace=False)]
    front = position[pareto_front(position[:, ~fixed])]
    picked = front[rng.integers(0, len(front), n)]
    moved = picked + rng.uniform(0.0, push, picked.shape) * ~fixed
    return box.from_uniform(np.clip(moved, 0.0, 1.0))


def one_member(arrays: dict, index: int) -> dict:
    """The surrogate ``arrays`` with only ensemble member ``index`` (modulo
    the member count): ~members x cheaper to step, and the policy, trained
    on each member in turn, cannot exploit one member's error alone. The
    shapes do not depend on ``index`` (no recompilation)."""
    weights = arrays["weights"]
    k = index % weights["w1"].shape[0]
    return {**arrays, "weights": {n: w[k : k + 1] for n, w in weights.items()}}


class Policy:
    """PPO on the surrogate env and the proposals of its deterministic walk."""

    def __init__(self, session: Session, config) -> None:
        """``config``: the trainer's ``TrainConfig`` (``ppo``,
        ``episode_steps``, ``walk_steps``, ``table_size``, ``seed``)."""
        self.config = config
        self.box = session.problem.box
        self.env = policy_env(session)
        self.init, self.update, self.graphdef = make_train(
            config.ppo, self.env, self.env.observation_size, self.env.action_size
        )
        self.many = scan_updates(self.update, config.ppo.segments)
        self.walk = make_proposer(self.env, self.graphdef, config.walk_steps)
        self.runner = None
        self.probe = draw_by_seed(self.box, PROBE_TARGETS, PROBE_SEED)
        self.asked: np.ndarray | None = None  # targets the sizer last asked for
        self.rng = np.random.default_rng([config.seed, 2])
        self.front = draw_by_seed(self.box, config.table_size, config.seed)
        self.calls = 0  # jitted training calls so far (picks the member)

    @property
    def steps_per_update(self) -> int:
        """Environment steps of one ``train`` update (one jitted call)."""
        ppo = self.config.ppo
        return ppo.segments * ppo.n_envs * ppo.n_steps

    def params(self, arrays: dict, table: np.ndarray | None) -> EnvParams:
        targets = None if table is None else jnp.asarray(table, jnp.float32)
        ppo = self.config.ppo
        return EnvParams(
            arrays, self.config.episode_steps, targets, ppo.box_share, ppo.success_bonus
        )

    def train(self, key: jax.Array, params: EnvParams, updates: int) -> dict:
        """``updates`` jitted calls of ``PPOConfig.segments`` PPO segments on
        the surrogate; the round's metrics (``ppo/...``)."""
        started = time.perf_counter()
        if self.runner is None:
            self.runner = self.init(key, params)
        curriculum = params.targets
        if curriculum is None:
            curriculum = jnp.asarray(draw_by_seed(self.box, self.config.table_size, 0))
        history = []
        for call in range(updates):
            table = jnp.concatenate(
                [curriculum, jnp.asarray(self.front, jnp.float32)], axis=0
            )
            surrogate = one_member(params.surrogate, call + self.calls)
            self.runner, metrics = self.many(
                self.runner, params.replace(targets=table, surrogate=surrogate)
            )
            achieved = np.asarray(metrics.pop("achieved"), np.float64)
            self.front = front_goals(
                achieved.reshape(-1, achieved.shape[-1]),
                self.box,
                self.config.table_size,
                self.rng,
            )
            history.append(jax.tree.map(lambda m: float(np.mean(m[-5:])), metrics))
        self.calls += updates
        if not history:
            return {}
        out = {f"ppo/{k}": v for k, v in history[-1].items()}
        out["ppo/env_steps"] = updates * self.steps_per_update
        out["ppo/train_seconds"] = time.perf_counter() - started
        out["ppo/box_success"] = self.surrogate_success(params.surrogate, self.probe)
        if self.asked is not None and len(self.asked):
            out["ppo/unmet_success"] = self.surrogate_success(
                params.surrogate, self.asked
            )
            out["ppo/unmet_targets"] = int(len(self.asked))
        return out

    def walk_outcome(self, arrays: dict, targets: np.ndarray, seed: int = 0):
        """The deterministic walk for ``targets`` ``[T, m]`` on the surrogate
        ``arrays``, in padded batches: sizings ``[T, walk_steps, n]`` (SI) and
        the surrogate's met ``[T, walk_steps]``."""
        params = self.params(arrays, None)
        targets = np.asarray(targets, np.float32)
        sizings, met = [], []
        for start in range(0, len(targets), WALK_BATCH):
            chunk = targets[start : start + WALK_BATCH]
            padded = np.resize(chunk, (WALK_BATCH, chunk.shape[1]))
            out = self.walk(
                self.runner.params,
                params,
                jnp.asarray(padded),
                jax.random.key(seed),
                0.0,
            )
            sizings.append(np.asarray(out["sizing"], np.float64)[: len(chunk)])
            met.append(np.asarray(out["met"])[: len(chunk)])
        n = len(self.env.definition.scale.names)
        if not sizings:
            return np.zeros((0, self.config.walk_steps, n)), np.zeros((0, 0), bool)
        return np.concatenate(sizings), np.concatenate(met)

    def surrogate_success(self, arrays: dict, targets: np.ndarray) -> float:
        """Share of ``targets`` whose walk meets every spec on the surrogate."""
        _, met = self.walk_outcome(arrays, targets)
        return float(met.any(axis=1).mean()) if len(met) else 0.0

    def final_designs(self, arrays: dict, targets: np.ndarray) -> np.ndarray:
        """The policy's one design per target ``[T, n]`` (SI): the first
        step of its walk the surrogate predicts to meet the target (where
        the episode ends), else the last step."""
        sizings, met = self.walk_outcome(arrays, targets)
        first = np.where(met.any(axis=1), met.argmax(axis=1), met.shape[1] - 1)
        return sizings[np.arange(len(sizings)), first]

    def proposer(self, arrays: dict, seed: int):
        """``proposer(targets [T, m]) -> sizings [T, walk_steps, n]``."""

        def propose(targets: np.ndarray) -> np.ndarray:
            self.asked = np.asarray(targets, np.float64)
            return self.walk_outcome(arrays, targets, seed)[0]

        return propose

    def restore(self, key: jax.Array, arrays: dict, state: dict, where: str) -> None:
        """The runner of a checkpoint ``state`` (``train.checkpoint``), read
        into one built from the config; ``where`` names it in messages."""
        template = jax.eval_shape(self.init, key, self.params(arrays, None))
        named = state.get("policy")
        if isinstance(named, dict) and "obs_shift" not in named:
            raise UserInputError(
                f"{where}: the policy predates observation standardisation "
                "(Dec 2026); train the run again"
            )
        self.runner = runner_from_checkpoint(template, state, where)


def policy_only(trained, targets: np.ndarray) -> list:
    """Policy-only sizing of ``targets`` ``[T, m]`` with a trained run
    (``train.sizing.TrainedSizer``): the policy's deterministic walk on the
    run's surrogate, its final design (``Policy.final_designs``) simulated
    once in ngspice; no verified-design lookup, no search, no refinement.
    Returns ``train.sizer.SizingResult`` per target (``source`` "policy").
    A run without a policy is a ``UserInputError`` of one line."""
    from train.sizer import SizingResult

    policy = trained.trained_policy()
    if policy is None:
        raise UserInputError(f"{trained.dir.path}: the run has no trained policy")
    problem = trained.problem
    designs = policy.final_designs(trained.arrays, np.asarray(targets, np.float64))
    evaluations = trained.session.simulator.simulate(
        [problem.design(s) for s in designs]
    )
    results = []
    for target, e in zip(targets, evaluations, strict=True):
        ok = e.ok
        figures = (
            problem.spec_vector(e.performance)
            if ok
            else np.full(len(problem.specs), np.nan)
        )
        results.append(
            SizingResult(
                np.asarray(target),
                bool(problem.box.met(figures, target)),
                1,
                dict(e.params),
                dict(e.performance),
                problem.box.margin(figures, target),
                "policy",
                figures,
            )
        )
    return results
