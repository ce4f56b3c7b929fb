"""Gymnasium environments that simulate every step in ngspice.

``SpiceEnv`` follows GAC²E's semantics (see ``envs.definition``): an action
sizes the whole circuit, the observation shows performance, target, distance
and operating point, the episode terminates when every spec is met and is
truncated after ``max_steps``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import gymnasium as gym
import jax
import numpy as np

from envs import definition as d
from envs.problem import EnvDefinition, build_definition, figure_vector, op_vector
from envs.targets import draw_target
from sim.errors import UserInputError
from sim.simulator import Simulator
from sim.specs import load_feasible

FAIL_REWARD_FLOOR = -100.0  # never reached by valid figures; see definition


class SpiceEnv(gym.Env):
    """A circuit sized by actions in ``[-1, 1]^n``, simulated in ngspice.

    Keyword arguments (GAC²E's names): ``target`` (dict spec -> value, fixed
    target), ``random_target`` (draw a feasible target per episode, default
    True unless ``target`` is given), ``noisy_target`` (multiply the fixed
    target by 1 + N(0, 1 %) per episode), ``design_constraints`` (dict
    parameter -> value that overrides the action), ``max_steps`` (200),
    ``corner``, ``data_log_path`` (JSON lines, one per step),
    ``params_log_path`` (designs whose simulation failed, for replay).
    """

    metadata = {"render_modes": []}

    def __init__(
        self,
        circuit: str = "op2",
        tech: str = "generic",
        variant: str = "v1",
        *,
        target: dict[str, float] | None = None,
        random_target: bool | None = None,
        noisy_target: bool = False,
        design_constraints: dict[str, float] | None = None,
        max_steps: int = 200,
        corner: str | None = None,
        data_log_path: str | None = None,
        params_log_path: str | None = None,
        n_workers: int = 1,
        timeout: float = 60.0,
        simulator: Simulator | None = None,
    ) -> None:
        if variant != "v1":
            raise UserInputError(f"variant {variant!r} is not available; use v1")
        if not isinstance(max_steps, int) or max_steps < 1:
            raise UserInputError(
                f"max_steps must be a positive integer, got {max_steps!r}"
            )
        self.simulator = simulator or Simulator(
            circuit, tech, corner, n_workers=n_workers, timeout=timeout
        )
        sim = self.simulator
        feasible = load_feasible(sim.circuit, sim.technology.name)
        self.definition: EnvDefinition = build_definition(
            sim.circuit, sim.technology.name, sim.corner, feasible
        )
        self.fixed_target = None if target is None else self._check_target(target)
        self.random_target = (
            (target is None) if random_target is None else random_target
        )
        if not self.random_target and self.fixed_target is None:
            raise UserInputError("random_target=False needs a target dict")
        self.noisy_target = bool(noisy_target)
        self.constraints = self._check_constraints(design_constraints or {})
        self.max_steps = max_steps
        self.data_log = Path(data_log_path) if data_log_path else None
        self.params_log = Path(params_log_path) if params_log_path else None
        n = len(self.definition.scale.names)
        self.action_space = gym.spaces.Box(-1.0, 1.0, (n,), np.float32)
        self.observation_space = gym.spaces.Box(
            -np.inf, np.inf, (self.definition.observation_size,), np.float32
        )
        self._key = jax.random.key(0)
        self._target = np.zeros(len(self.definition.specs), np.float32)
        self._steps = 0
        self._episode = -1

    # -- input checks ----------------------------------------------------------
    def _check_target(self, target: Any) -> np.ndarray:
        names = self.definition.specs
        if not isinstance(target, dict):
            raise UserInputError(f"target must be a dict of {list(names)}")
        unknown = set(target) - set(names)
        missing = set(names) - set(target)
        if unknown or missing:
            raise UserInputError(
                f"target must give exactly the specs {list(names)}"
                + (f"; unknown {sorted(unknown)}" if unknown else "")
                + (f"; missing {sorted(missing)}" if missing else "")
            )
        values = []
        for name in names:
            value = target[name]
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not math.isfinite(value)
            ):
                raise UserInputError(
                    f"target {name} must be a finite number, got {value!r}"
                )
            values.append(float(value))
        return np.asarray(values, np.float32)

    def _check_constraints(self, constraints: Any) -> dict[str, float]:
        if not isinstance(constraints, dict):
            raise UserInputError(
                "design_constraints must map parameter names to values"
            )
        circuit = self.simulator.circuit
        return {
            name: circuit.parameter(name).check(value)
            for name, value in constraints.items()
        }

    def _check_action(self, action: Any) -> np.ndarray:
        array = np.asarray(action)
        if array.shape != self.action_space.shape:
            raise UserInputError(
                f"action must have shape {self.action_space.shape}, got {array.shape}"
            )
        if not np.issubdtype(array.dtype, np.floating):
            raise UserInputError(
                f"action must be floating point, got dtype {array.dtype}"
            )
        if not np.all(np.isfinite(array)):
            raise UserInputError("action contains NaN or inf")
        return array.astype(np.float64)

    # -- episode ---------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        if seed is not None:
            self._key = jax.random.key(seed)
        self._key, episode_key = jax.random.split(self._key)
        if self.random_target:
            self._target = draw_target(episode_key, self.definition)
        else:
            self._target = self.fixed_target.copy()
            if self.noisy_target:
                noise = np.asarray(jax.random.normal(episode_key, self._target.shape))
                self._target = (self._target * (1 + 0.01 * noise)).astype(np.float32)
        self._steps = 0
        self._episode += 1
        design = {**self.simulator.circuit.default_design(), **self.constraints}
        obs, _, info = self._evaluate(design)
        return obs, info

    def step(self, action):
        array = self._check_action(action)
        params = d.scale_action(array, self.definition.scale)
        design = dict(zip(self.definition.scale.names, map(float, params), strict=True))
        design.update(self.constraints)
        obs, reward, info = self._evaluate(design)
        self._steps += 1
        terminated = bool(info["terminated"])
        truncated = (not terminated) and self._steps >= self.max_steps
        self._log(action=array, reward=reward, info=info)
        return obs, reward, terminated, truncated, info

    def _evaluate(self, design: dict[str, float]):
        result = self.simulator.simulate_one(design)
        definition = self.definition
        figures = figure_vector(definition, result.performance)
        operating_point = op_vector(definition, result.performance)
        obs = self.observe(figures, operating_point, self._target)
        performance = figures[definition.spec_index]
        reward = float(
            d.reward(
                performance, self._target, definition.lower, definition.reward_kind
            )
        )
        done = bool(d.terminated(performance, self._target, definition.lower))
        info = {
            "status": result.status.value,
            "message": result.message,
            "params": result.params,
            "performance": {
                n: float(v) for n, v in zip(definition.figures, figures, strict=True)
            },
            "target": {
                n: float(v) for n, v in zip(definition.specs, self._target, strict=True)
            },
            "met": dict(
                zip(
                    definition.specs,
                    map(bool, d.spec_met(performance, self._target, definition.lower)),
                    strict=True,
                )
            ),
            "terminated": done,
            "observation": dict(
                zip(definition.observation_layout, map(float, obs), strict=True)
            ),
        }
        if not result.ok and self.params_log is not None:
            self._append(
                self.params_log,
                {
                    "params": result.params,
                    "status": result.status.value,
                    "message": result.message,
                },
            )
        return obs, reward, info

    def observe(
        self, figures: np.ndarray, operating_point: np.ndarray, target: np.ndarray
    ) -> np.ndarray:
        """The observation ``[obs_size]`` float32 (``envs.definition``)."""
        definition = self.definition
        return d.observation(
            figures,
            definition.spec_index,
            target,
            operating_point,
            definition.figure_log,
            definition.target_log,
            definition.op_log,
        )

    # -- logs ------------------------------------------------------------------
    @staticmethod
    def _append(path: Path, record: dict) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a") as handle:
            handle.write(json.dumps(record, default=float) + "\n")

    def _log(self, action, reward: float, info: dict) -> None:
        if self.data_log is None:
            return
        record = {
            "episode": self._episode,
            "step": self._steps,
            "action": [float(a) for a in action],
            "reward": reward,
            **{
                k: info[k] for k in ("status", "params", "performance", "target", "met")
            },
        }
        self._append(
            self.data_log,
            json.loads(json.dumps(record, default=float).replace("NaN", "null")),
        )

    def close(self) -> None:
        self.simulator.close()
        super().close()
