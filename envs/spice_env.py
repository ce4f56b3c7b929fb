"""``SpiceEnv``: one sizing episode at a time, every step simulated in ngspice.

GAC²E's semantics (see ``envs.definition``): an action sizes the whole circuit,
the observation shows performance, target, distance and operating point, the
episode terminates when every spec is met and is truncated after
``max_steps``. Keyword arguments are those of ``envs.config.EnvConfig``, plus
``pool`` (a simulation backend, e.g. ``sim.engine.backend.make_backend()``'s local
pool, or ``"shared"``: one pool per process, see ``envs.pools``) and ``store``
to share a simulation pool or store (``store`` may also be the path of an
SQLite store file).

Made through ``gymnasium.make``, the env does not truncate itself: the ids
pass ``max_steps=None`` and their spec's ``max_episode_steps`` (200) wraps it
in gymnasium's ``TimeLimit`` (change it with ``gymnasium.make(id,
max_episode_steps=N)``). Built directly, ``SpiceEnv(...)`` truncates after
``max_steps`` (200) steps, as GAC²E's envs do.

``info`` holds: ``status`` and ``message`` of the simulation (``"ok"``,
``"nonconvergence"``, ``"timeout"``, ...), ``params`` (the design, SI),
``performance`` (every figure, None where the simulation gave none),
``operating_point`` (``"<device>:<quantity>"``, SI, None where missing),
``target``, ``met`` (per spec), ``observation`` (the observation as
``{name: value}``: its layout), ``"jaxsizer/episode"`` (counted from the
last seeded reset; not ``"episode"``, which SB3's ``Monitor`` and gymnasium's
``RecordEpisodeStatistics`` reserve for their statistics), ``step`` and
``sizing_issue`` (v0: why the requested gm/Id and fug left a device
network's characterised region, "" when they did not).
"""

from __future__ import annotations

import os
from typing import Any

import gymnasium as gym
import numpy as np

from envs.config import build_problem, check_target, make_config
from envs.episodes import EPISODE_INFO_KEY, EpisodeBatch, Outcome
from envs.spaces import clip_observation, observation_bounds, observation_space
from sim.engine.backend import SimulationBackend
from sim.storage.store import SimulationStore


def _values(names, values) -> dict[str, float | None]:
    """``{name: value}`` with None for a missing (non-finite) value."""
    return {
        name: float(value) if np.isfinite(value) else None
        for name, value in zip(names, values, strict=True)
    }


def outcome_info(outcome: Outcome, k: int, layout: list[str], definition) -> dict:
    """The ``info`` dict of row ``k`` of a batch outcome."""
    evaluation = outcome.evaluations[k]
    return {
        "status": evaluation.status.value,
        "message": evaluation.message,
        "params": dict(evaluation.params),
        "performance": _values(definition.figures, outcome.figures[k]),
        "operating_point": _values(definition.op_names, outcome.operating_point[k]),
        "target": dict(
            zip(definition.specs, map(float, outcome.target[k]), strict=True)
        ),
        "met": dict(zip(definition.specs, map(bool, outcome.met[k]), strict=True)),
        "observation": dict(
            zip(layout, map(float, outcome.observation[k]), strict=True)
        ),
        EPISODE_INFO_KEY: int(outcome.episode[k]),
        "step": int(outcome.steps[k]),
        "sizing_issue": str(outcome.sizing_issue[k]),
    }


class SpiceEnv(gym.Env):
    """A circuit sized by actions, simulated in ngspice (GAC²E semantics).

    Observation: a finite ``Box((n_obs,), float32)`` (``envs.spaces``: distances
    in ``[0, 10]``, every other entry in ``[-1e6, 1e6]``, clipped) laid out as
    ``observation_layout`` (performance figures, targets, distances, device
    operating points). Actions: ``Box(-1, 1, (n,), float32)`` for v0/v1,
    ``MultiDiscrete([3] * n)`` for the AutoCkt variant.
    """

    metadata = {"render_modes": []}

    def __init__(
        self,
        circuit: str = "op2",
        tech: str = "generic",
        variant: str = "v1",
        *,
        pool: SimulationBackend | str | None = None,
        store: SimulationStore | str | os.PathLike | None = None,
        **kwargs: Any,
    ) -> None:
        self.config = make_config(circuit=circuit, tech=tech, variant=variant, **kwargs)
        self.problem = build_problem(self.config, pool=pool, store=store)
        self.definition = self.problem.definition
        self.simulator = self.problem.simulator
        self.episodes = EpisodeBatch(self.problem, 1)
        self.action_space = self.problem.actions.space
        self.observation_space = observation_space(self.definition)
        self._bounds = observation_bounds(self.definition)
        self.observation_layout = self.definition.observation_layout

    @property
    def target(self) -> dict[str, float]:
        """The current episode's target ``{spec: value}``."""
        values = map(float, self.episodes.target[0])
        return dict(zip(self.definition.specs, values, strict=True))

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        """Start an episode; ``options={"target": {spec: value}}`` sets its
        target (else drawn or fixed as configured)."""
        super().reset(seed=seed)
        if seed is not None:
            self.episodes.seed(0, seed)
        target = (options or {}).get("target")
        if target is not None:
            target = check_target(target, self.definition)
        fallback = int(self.np_random.integers(2**31))
        design = self.episodes.start(0, fallback, target)
        outcome = self._run(np.asarray([0]), design[None, :], None)
        return outcome.observation[0], self._info(outcome)

    def step(self, action):
        actions = self.problem.actions.check(action)[None, :]
        designs = self.episodes.advance(np.asarray([0]), actions)
        outcome = self._run(np.asarray([0]), designs, actions)
        return (
            outcome.observation[0],
            float(outcome.reward[0]),
            bool(outcome.terminated[0]),
            bool(outcome.truncated[0]),
            self._info(outcome),
        )

    def _run(self, index, designs, actions) -> Outcome:
        outcome = self.episodes.outcome(index, self.episodes.simulate(designs))
        outcome.observation[:] = clip_observation(outcome.observation, *self._bounds)
        self.episodes.log(outcome, actions)
        return outcome

    def _info(self, outcome: Outcome) -> dict:
        return outcome_info(outcome, 0, self.observation_layout, self.definition)

    def close(self) -> None:
        self.problem.close()
        super().close()
