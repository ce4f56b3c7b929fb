"""The state of B sizing episodes and what one simulation batch means for them.

``EpisodeBatch`` is the logic shared by ``SpiceEnv`` (B = 1) and
``SpiceVectorEnv`` (B envs, one ``Simulator.simulate`` call per step): target
draws (``jax.random`` keys per env, so env i of a vector env seeded ``s``
behaves exactly as a single env seeded ``s + i``), step counts, action-map
state, and the batched observation/reward/termination through
``envs.definition.step_outcome``. Nothing here calls ngspice except
``simulate``.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import jax
import numpy as np

from envs import definition as d
from envs.config import EnvSetup
from envs.targets import draw_target
from sim.sizing.simulator import Evaluation

# The info key of the episode count. Plain ``"episode"`` is reserved: SB3's
# Monitor and gymnasium's RecordEpisodeStatistics write their end-of-episode
# statistics dict there (and refuse an env that already does).
EPISODE_INFO_KEY = "jaxsizer/episode"


@dataclass
class Outcome:
    """What a batch of K simulations gives (arrays ``[K, ...]``).

    ``figures`` all performance figures, ``met`` per spec; ``evaluations``
    the simulator's results (status, message, params, cached).
    """

    index: np.ndarray  # [K] env indices
    observation: np.ndarray  # [K, obs] float32
    reward: np.ndarray  # [K] float64
    terminated: np.ndarray  # [K] bool
    truncated: np.ndarray  # [K] bool
    figures: np.ndarray  # [K, n_figures]
    operating_point: np.ndarray  # [K, n_op], raw (SI), NaN where missing
    target: np.ndarray  # [K, m] float32
    met: np.ndarray  # [K, m] bool
    steps: np.ndarray  # [K]
    episode: np.ndarray  # [K]
    evaluations: list[Evaluation]
    sizing_issue: np.ndarray  # [K] str: why v0 sizing left the model's region


def _json_number(value: float) -> float | None:
    return value if math.isfinite(value) else None


class EpisodeBatch:
    """B episodes on one problem (``envs.config.EnvSetup``)."""

    def __init__(self, problem: EnvSetup, n_envs: int) -> None:
        self.problem = problem
        self.n_envs = n_envs
        definition = problem.definition
        self.keys: list[jax.Array | None] = [None] * n_envs
        self.target = np.zeros((n_envs, len(definition.specs)), np.float32)
        self.steps = np.zeros(n_envs, np.int64)
        self.episode = np.full(n_envs, -1, np.int64)
        start = problem.actions.initial_state(problem.initial_design)
        self.state = np.repeat(start[None, :], n_envs, axis=0)
        self.sizing_issue = np.full(n_envs, "", dtype=object)
        config = problem.config
        self.data_log = Path(config.data_log_path) if config.data_log_path else None
        self.params_log = (
            Path(config.params_log_path) if config.params_log_path else None
        )

    # -- episodes ----------------------------------------------------------------
    def seed(self, i: int, seed: int) -> None:
        """Restart env ``i``'s random stream (and its episode count)."""
        self.keys[i] = jax.random.key(seed)
        self.episode[i] = -1

    def start(
        self, i: int, fallback_seed: int, target: np.ndarray | None = None
    ) -> np.ndarray:
        """Begin env ``i``'s next episode: a new target (``target`` ``[m]`` if
        given); returns its first design ``[n_params]`` (``fallback_seed``
        seeds a never-seeded env)."""
        if self.keys[i] is None:
            self.seed(i, fallback_seed)
        self.keys[i], key = jax.random.split(self.keys[i])
        problem = self.problem
        if target is not None:
            self.target[i] = target
        elif problem.random_target:
            self.target[i] = draw_target(key, problem.definition)
        else:
            self.target[i] = problem.fixed_target
            if problem.config.noisy_target:
                noise = np.asarray(jax.random.normal(key, self.target[i].shape))
                self.target[i] = d.noisy_target(problem.fixed_target, noise)
        self.steps[i] = 0
        self.episode[i] += 1
        self.sizing_issue[i] = ""
        self.state[i] = problem.actions.initial_state(problem.initial_design)
        return problem.initial_design.copy()

    def advance(self, index: np.ndarray, actions: np.ndarray) -> np.ndarray:
        """Designs ``[K, n_params]`` for checked actions ``[K, n]`` of envs
        ``index`` ``[K]``; counts the step."""
        problem = self.problem
        designs, state = problem.actions.designs(actions, self.state[index])
        self.state[index] = state
        self.steps[index] += 1
        issues = getattr(problem.actions, "last_issues", None)
        self.sizing_issue[index] = "" if issues is None else issues
        return np.clip(designs, problem.design_low, problem.design_high)

    # -- simulation --------------------------------------------------------------
    def simulate(self, designs: np.ndarray) -> list[Evaluation]:
        """One ``Simulator.simulate`` call for designs ``[K, n_params]``."""
        names = self.problem.simulator.circuit.parameter_names
        batch = [dict(zip(names, map(float, row), strict=True)) for row in designs]
        return self.problem.simulator.simulate(batch)

    def outcome(self, index: np.ndarray, evaluations: list[Evaluation]) -> Outcome:
        """Observation, reward, termination of envs ``index`` from their results."""
        definition = self.problem.definition
        figures = np.stack(
            [definition.figure_vector(e.performance) for e in evaluations]
        )
        op = np.stack([definition.op_vector(e.performance) for e in evaluations])
        target = self.target[index]
        kind = self.problem.reward_kind
        obs, reward, terminated, met = d.step_outcome(
            definition,
            figures,
            target,
            op,
            kind=kind,
            success_bonus=self.problem.config.success_bonus,
        )
        steps = self.steps[index]
        truncated = ~terminated & (steps >= self.problem.config.max_steps)
        return Outcome(
            index=np.asarray(index),
            observation=obs,
            reward=np.asarray(reward, np.float64),
            terminated=np.asarray(terminated, bool),
            truncated=np.asarray(truncated, bool),
            figures=figures,
            operating_point=op,
            target=target.copy(),
            met=np.asarray(met, bool),
            steps=steps.copy(),
            episode=self.episode[index].copy(),
            evaluations=evaluations,
            sizing_issue=self.sizing_issue[index].copy(),
        )

    # -- logs --------------------------------------------------------------------
    def log(self, outcome: Outcome, actions: np.ndarray | None) -> None:
        """Append the data log (every row) and the failure log (failed rows)."""
        definition = self.problem.definition
        records, failures = [], []
        for k, evaluation in enumerate(outcome.evaluations):
            spec_values = outcome.figures[k, definition.spec_index]
            missing = [
                s
                for s, v in zip(definition.specs, spec_values, strict=True)
                if not math.isfinite(v)
            ]
            if self.params_log is not None and (not evaluation.ok or missing):
                failures.append(self._failure(evaluation, missing))
            if self.data_log is None:
                continue
            records.append(
                {
                    "pid": os.getpid(),  # async vector envs share one path
                    "env": int(outcome.index[k]),
                    "episode": int(outcome.episode[k]),
                    "step": int(outcome.steps[k]),
                    "kind": "reset" if actions is None else "step",
                    "action": None if actions is None else actions[k].tolist(),
                    "params": evaluation.params,
                    "status": evaluation.status.value,
                    "sizing_issue": outcome.sizing_issue[k],
                    "performance": {
                        f: _json_number(float(v))
                        for f, v in zip(
                            definition.figures, outcome.figures[k], strict=True
                        )
                    },
                    "target": dict(
                        zip(
                            definition.specs, map(float, outcome.target[k]), strict=True
                        )
                    ),
                    "met": dict(
                        zip(definition.specs, map(bool, outcome.met[k]), strict=True)
                    ),
                    "reward": float(outcome.reward[k]),
                    "terminated": bool(outcome.terminated[k]),
                    "truncated": bool(outcome.truncated[k]),
                }
            )
        _append(self.data_log, records)
        _append(self.params_log, failures)

    def _failure(self, evaluation: Evaluation, missing: list[str]) -> dict:
        simulator, config = self.problem.simulator, self.problem.config
        return {
            "circuit": str(config.circuit),
            "technology": str(config.tech),
            "corner": simulator.corner,
            "constants": simulator.circuit.constants,
            "params": evaluation.params,
            "status": evaluation.status.value,
            "message": evaluation.message,
            "missing_specs": missing,
        }


def _append(path: Path | None, records: list[dict]) -> None:
    if path is None or not records:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        for record in records:
            handle.write(json.dumps(record) + "\n")
