"""Sizing targets with a trained run: surrogate proposals, SPICE verification.

``TrainedSizer`` loads a run (problem, surrogate, policy). For a batch of
targets it walks the policy on the surrogate (deterministic, then with the
policy's own noise), ranks each target's candidates, and simulates them in
ngspice round by round — every unsolved target's next candidate in one batch
— until each target is met or has used ``max_sims`` simulations.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from envs import definition as d
from envs.surrogate_env import EnvParams, SurrogateEnv
from surrogate.circuit.store import load_surrogate
from train.loop import _restore_leaves, config_from_dict
from train.ppo import make_train
from train.problem import load_problem
from train.propose import make_proposer, ranked_candidates
from train.run_dir import RunDir


@dataclass
class SizingResult:
    """Outcome for one target: the best verified design and its cost."""

    target: np.ndarray
    met: bool
    sims: int
    params: dict
    performance: dict
    reward: float


class TrainedSizer:
    def __init__(
        self, run: str, workers: int | None = None, noisy_walks: int = 16
    ) -> None:
        self.dir = RunDir(run)
        try:
            self.config = config_from_dict(self.dir.read_config())
        except FileNotFoundError:
            from sim.errors import UserInputError

            raise UserInputError(f"no run in {run} (config.json missing)") from None
        self.problem = load_problem(
            self.config.env, workers, all_figures=self.config.all_figures
        )
        self.definition = self.problem.definition
        loaded = load_surrogate(self.dir.path / "surrogate")
        self.env_params = EnvParams(
            {
                "weights": loaded.weights,
                "mean": loaded.mean,
                "std": loaded.std,
                "log_mask": loaded.log_mask,
                "sign": loaded.sign,
            },
            self.config.episode_steps,
        )
        self.env = SurrogateEnv(self.definition, self.problem.default_params)
        init, _, graphdef = make_train(
            self.config.ppo,
            self.env,
            self.definition.observation_size,
            len(self.definition.scale.names),
        )
        state = self.dir.load_checkpoint()
        # only the structure and dtypes are needed: no need to run the envs
        template = jax.eval_shape(init, jax.random.key(0), self.env_params)
        leaves = [state["runner"][str(i)] for i in range(len(state["runner"]))]
        self.policy = _restore_leaves(template, leaves).params
        self.propose = make_proposer(self.env, graphdef, self.config.walk_steps)
        self.noisy_walks = noisy_walks

    def candidates(self, targets: np.ndarray, limit: int) -> list[list[np.ndarray]]:
        """Ranked candidate sizings per target ``[B, m]``."""
        t = jnp.asarray(targets, jnp.float32)
        key = jax.random.key(self.config.seed)
        walks = [self.propose(self.policy, self.env_params, t, key, 0.0)]
        for k in jax.random.split(key, self.noisy_walks):
            walks.append(self.propose(self.policy, self.env_params, t, k, 1.0))
        sizing = np.concatenate([np.asarray(w["sizing"]) for w in walks], axis=1)
        reward = np.concatenate([np.asarray(w["reward"]) for w in walks], axis=1)
        met = np.concatenate([np.asarray(w["met"]) for w in walks], axis=1)
        # the deterministic walk's steps come first among equally ranked ones
        return [
            ranked_candidates(sizing[i], reward[i], met[i], limit)
            for i in range(len(targets))
        ]

    def size(self, targets: np.ndarray, max_sims: int) -> list[SizingResult]:
        """Verify candidates in SPICE until each target is met (or out of sims)."""
        lists = self.candidates(targets, max_sims)
        names = self.definition.scale.names
        best: list[SizingResult | None] = [None] * len(targets)
        open_ = list(range(len(targets)))
        for attempt in range(max_sims):
            todo = [i for i in open_ if attempt < len(lists[i])]
            if not todo:
                break
            designs = [
                dict(zip(names, map(float, lists[i][attempt]), strict=True))
                for i in todo
            ]
            results = self.problem.simulator.simulate(designs)
            for i, result in zip(todo, results, strict=True):
                perf = np.asarray(
                    [result.performance.get(n, np.nan) for n in self.definition.specs]
                )
                met = bool(
                    d.terminated(
                        perf,
                        targets[i],
                        self.definition.lower,
                        point=self.definition.point,
                    )
                )
                reward = float(
                    d.reward(
                        perf,
                        targets[i],
                        self.definition.lower,
                        self.definition.reward_kind,
                        point=self.definition.point,
                    )
                )
                if best[i] is None or met or reward > best[i].reward:
                    best[i] = SizingResult(
                        targets[i],
                        met,
                        attempt + 1,
                        result.params,
                        result.performance,
                        reward,
                    )
                best[i].sims = attempt + 1
                if met:
                    open_.remove(i)
        return [b for b in best if b is not None]

    def close(self) -> None:
        self.problem.close()
