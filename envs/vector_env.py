"""``SpiceVectorEnv``: B sizing episodes stepped by ONE simulation-pool call.

The native batched path for the trainer: ``step(actions [B, n])`` turns every
action into a design and sends the whole batch to the worker pool with a single
``Simulator.simulate(designs)`` call (so B designs keep all workers busy), then
computes observations and rewards for the batch through ``envs.definition``.
Sub-env ``i`` of an env reset with ``seed=s`` behaves exactly as ``SpiceEnv``
reset with ``seed=s + i`` (same targets, same designs, same results).

Autoreset (``autoreset_mode``, gymnasium's ``AutoresetMode``):

- ``NEXT_STEP`` (default, as gymnasium's Sync/AsyncVectorEnv): after a
  sub-env terminates or truncates, the next ``step`` resets it instead of
  applying its action and returns its first observation with reward 0 and
  ``terminated = truncated = False``. Reset designs ride in the same pool call.
- ``SAME_STEP``: a finished sub-env is reset within the same ``step``; its
  last observation and info are in ``info["final_obs"]``/``info["final_info"]``
  (a second pool call runs the first designs of the new episodes, usually
  served from the simulation store).
- ``DISABLED``: reset sub-envs yourself with ``reset(options={"reset_mask":
  mask})`` (and ``"target"``: the new episodes' targets).

Infos are gymnasium-style: ``info[key]`` is a ``[B]`` array with a ``_key``
mask (nested dicts for ``performance``, ``target``, ``met``, ``params`` and
``observation``, the layout of the observation, ``{name: [B]}``).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from envs.config import build_problem, check_target, make_config
from envs.episodes import EPISODE_INFO_KEY, EpisodeBatch, Outcome
from envs.spaces import clip_observation, observation_bounds, observation_space
from sim.engine.backend import SimulationBackend
from sim.engine.pool import default_workers
from sim.errors import UserInputError
from sim.storage.store import SimulationStore


def _columns(names, values: np.ndarray, rows: np.ndarray, n_envs: int, fill) -> dict:
    """``{name: [B]}`` with ``values`` ``[K, len(names)]`` at ``rows``, plus masks."""
    out: dict[str, np.ndarray] = {}
    mask = np.zeros(n_envs, bool)
    mask[rows] = True
    for k, name in enumerate(names):
        column = np.full(n_envs, fill, dtype=values.dtype)
        column[rows] = values[:, k]
        out[name] = column
        out[f"_{name}"] = mask
    return out


class SpiceVectorEnv(VectorEnv):
    """``num_envs`` episodes of one circuit, simulated batch-wise (see module).

    Keyword arguments are those of ``envs.config.EnvConfig`` (``n_workers``
    defaults to the number of cores here) plus ``pool``/``store`` (a store or
    the path of one). ``max_episode_steps`` (what ``gymnasium.make_vec``
    passes from the spec) is the truncation when ``max_steps`` is not given.
    Observations are clipped to the finite ``envs.spaces`` bounds.
    """

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": []}

    def __init__(
        self,
        circuit: str = "op2",
        tech: str = "generic",
        variant: str = "v1",
        *,
        num_envs: int = 1,
        autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
        pool: SimulationBackend | str | None = None,
        store: SimulationStore | str | os.PathLike | None = None,
        n_workers: int | None = None,
        max_episode_steps: int | None = None,
        **kwargs: Any,
    ) -> None:
        if isinstance(num_envs, bool) or not isinstance(num_envs, int) or num_envs < 1:
            raise UserInputError(f"num_envs must be an integer >= 1, got {num_envs!r}")
        try:
            self.autoreset_mode = AutoresetMode(autoreset_mode)
        except ValueError:
            modes = ", ".join(m.value for m in AutoresetMode)
            raise UserInputError(
                f"autoreset_mode must be one of {modes}, got {autoreset_mode!r}"
            ) from None
        self.metadata = {**self.metadata, "autoreset_mode": self.autoreset_mode}
        workers = n_workers if n_workers is not None else default_workers()
        if max_episode_steps is not None and kwargs.get("max_steps") is None:
            kwargs["max_steps"] = max_episode_steps
        self.config = make_config(
            circuit=circuit, tech=tech, variant=variant, n_workers=workers, **kwargs
        )
        self.problem = build_problem(self.config, pool=pool, store=store)
        self.definition = self.problem.definition
        self.simulator = self.problem.simulator
        self.num_envs = num_envs
        self.episodes = EpisodeBatch(self.problem, num_envs)
        self.single_action_space = self.problem.actions.space
        self.action_space = batch_space(self.single_action_space, num_envs)
        self.single_observation_space = observation_space(self.definition)
        self._bounds = observation_bounds(self.definition)
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.observation_layout = self.definition.observation_layout
        self._needs_reset = np.zeros(num_envs, bool)
        self._obs = np.zeros((num_envs, self.definition.observation_size), np.float32)

    # -- reset -----------------------------------------------------------------
    def reset(self, *, seed: int | list[int | None] | None = None, options=None):
        super().reset(seed=seed if isinstance(seed, int) else None)
        n = self.num_envs
        if seed is None:
            seeds: list[int | None] = [None] * n
        elif isinstance(seed, int):
            seeds = [seed + i for i in range(n)]
        else:
            seeds = list(seed)
            if len(seeds) != n:
                raise UserInputError(f"reset: {len(seeds)} seeds for {n} envs")
        mask = np.ones(n, bool)
        if options and "reset_mask" in options:
            mask = np.asarray(options["reset_mask"], bool)
            if mask.shape != (n,):
                raise UserInputError(f"reset_mask must have shape ({n},)")
        index = np.flatnonzero(mask)
        for i in index:
            if seeds[i] is not None:
                self.episodes.seed(int(i), int(seeds[i]))
        outcome = self._start(index, self._targets((options or {}).get("target")))
        self._obs[index] = outcome.observation
        return self._obs.copy(), self._infos(outcome)

    def _targets(self, target) -> list[np.ndarray | None]:
        """Per-env targets from ``options["target"]``: one dict for every env,
        a list of ``num_envs`` dicts (None: drawn as configured) or an array
        ``[num_envs, m]`` in spec order (SI; NaN: no requirement)."""
        if target is None:
            return [None] * self.num_envs
        if isinstance(target, np.ndarray):
            m = len(self.definition.specs)
            if target.shape != (self.num_envs, m):
                raise UserInputError(
                    f"options['target'] array must have shape ({self.num_envs}, {m})"
                )
            return list(target.astype(np.float32))
        if isinstance(target, dict):
            target = [target] * self.num_envs
        if not isinstance(target, (list, tuple)) or len(target) != self.num_envs:
            raise UserInputError(
                f"options['target'] must be a dict or a list of {self.num_envs} dicts"
            )
        return [None if t is None else check_target(t, self.definition) for t in target]

    def _start(
        self, index: np.ndarray, targets: list[np.ndarray | None] | None = None
    ) -> Outcome:
        """Start new episodes for envs ``index``, one pool call for their
        first designs."""
        targets = targets or [None] * self.num_envs
        designs = np.stack(
            [
                self.episodes.start(
                    int(i), int(self.np_random.integers(2**31)), targets[i]
                )
                for i in index
            ]
        )
        outcome = self._outcome(index, designs)
        self.episodes.log(outcome, None)
        self._needs_reset[index] = False
        return outcome

    # -- step ------------------------------------------------------------------
    def step(self, actions):
        actions = self.problem.actions.check(actions, (self.num_envs,))
        resetting = self._needs_reset.copy()
        stepping = np.flatnonzero(~resetting)
        restart = np.flatnonzero(resetting)
        designs = np.empty((self.num_envs, len(self.problem.design_low)))
        if stepping.size:
            designs[stepping] = self.episodes.advance(stepping, actions[stepping])
        for i in restart:
            designs[i] = self.episodes.start(
                int(i), int(self.np_random.integers(2**31))
            )
        index = np.arange(self.num_envs)
        outcome = self._outcome(index, designs)
        outcome.reward[restart] = 0.0
        outcome.terminated[restart] = False
        outcome.truncated[restart] = False
        if stepping.size:
            self.episodes.log(_rows(outcome, stepping), actions[stepping])
        if restart.size:
            self.episodes.log(_rows(outcome, restart), None)
        done = outcome.terminated | outcome.truncated
        infos = self._infos(outcome)
        obs = outcome.observation.copy()
        if self.autoreset_mode is AutoresetMode.SAME_STEP and done.any():
            finished = np.flatnonzero(done)
            infos["final_obs"] = np.full(self.num_envs, None, dtype=object)
            infos["final_info"] = {}
            infos["_final_obs"] = done.copy()
            infos["_final_info"] = done.copy()
            for k in finished:
                infos["final_obs"][k] = obs[k].copy()
            infos["final_info"] = self._infos(_rows(outcome, finished))
            fresh = self._start(finished)
            obs[finished] = fresh.observation
        elif self.autoreset_mode is AutoresetMode.NEXT_STEP:
            self._needs_reset = done
        self._obs = obs
        return (
            obs,
            outcome.reward.copy(),
            outcome.terminated.copy(),
            outcome.truncated.copy(),
            infos,
        )

    def _outcome(self, index: np.ndarray, designs: np.ndarray) -> Outcome:
        """Simulate ``designs`` of envs ``index``; observations clipped."""
        outcome = self.episodes.outcome(index, self.episodes.simulate(designs))
        outcome.observation[:] = clip_observation(outcome.observation, *self._bounds)
        return outcome

    # -- infos -----------------------------------------------------------------
    def _infos(self, outcome: Outcome) -> dict[str, Any]:
        """Gymnasium-style vector infos of the rows in ``outcome``."""
        n, rows = self.num_envs, outcome.index
        definition = self.definition
        mask = np.zeros(n, bool)
        mask[rows] = True
        infos: dict[str, Any] = {}
        evaluations = outcome.evaluations
        scalars = {
            "status": np.asarray([e.status.value for e in evaluations], object),
            "message": np.asarray([e.message for e in evaluations], object),
            EPISODE_INFO_KEY: outcome.episode,
            "step": outcome.steps,
            "sizing_issue": outcome.sizing_issue.astype(object),
        }
        for key, values in scalars.items():
            column = np.full(n, None if values.dtype == object else 0, values.dtype)
            column[rows] = values
            infos[key], infos[f"_{key}"] = column, mask
        names = self.simulator.circuit.parameter_names
        params = np.asarray([[e.params[p] for p in names] for e in evaluations])
        tables = {
            "params": (names, params, np.nan),
            "performance": (definition.figures, outcome.figures, np.nan),
            "operating_point": (definition.op_names, outcome.operating_point, np.nan),
            "target": (definition.specs, outcome.target, np.nan),
            "met": (definition.specs, outcome.met, False),
            "observation": (self.observation_layout, outcome.observation, 0.0),
        }
        for key, (names, values, fill) in tables.items():
            infos[key] = _columns(names, values, rows, n, fill)
            infos[f"_{key}"] = mask
        return infos

    def single_info(self, infos: dict, i: int) -> dict:
        """The ``SpiceEnv``-style info dict of sub-env ``i`` from vector infos."""

        def scalar(column: np.ndarray):
            value = column[i].item() if hasattr(column[i], "item") else column[i]
            missing = isinstance(value, float) and not np.isfinite(value)
            return None if missing else value

        plain = {}
        for key, value in infos.items():
            if key.startswith("_") or key in ("final_obs", "final_info"):
                continue
            if isinstance(value, dict):
                plain[key] = {
                    k: scalar(v) for k, v in value.items() if not k.startswith("_")
                }
            else:
                plain[key] = scalar(value)
        return plain

    def close_extras(self, **kwargs: Any) -> None:
        self.problem.close()


def _rows(outcome: Outcome, rows: np.ndarray) -> Outcome:
    """The sub-outcome of positions ``rows`` of ``outcome``."""
    return Outcome(
        index=outcome.index[rows],
        observation=outcome.observation[rows],
        reward=outcome.reward[rows],
        terminated=outcome.terminated[rows],
        truncated=outcome.truncated[rows],
        figures=outcome.figures[rows],
        operating_point=outcome.operating_point[rows],
        target=outcome.target[rows],
        met=outcome.met[rows],
        steps=outcome.steps[rows],
        episode=outcome.episode[rows],
        evaluations=[outcome.evaluations[k] for k in rows],
        sizing_issue=outcome.sizing_issue[rows],
    )
