"""The surrogate environment as a gymnax ``Environment``, and a gymnasium
wrapper of it.

``make`` builds everything from an id in one call (the stored surrogate
``models/<tech>/<circuit>/`` or a trained run's ``surrogate/``):

    from envs.gymnax_env import make

    env, params = make("jaxsizer/op2-sky130-surrogate-v0")
    env, params = make("jaxsizer/run-surrogate-v0", run="runs/op2")
    obs, state = env.reset(key, params)
    obs, state, reward, done, info = env.step(key, state, action, params)

``SurrogateGymnaxEnv`` subclasses ``gymnax.environments.environment.
Environment`` when gymnax is installed (``pip install jaxsizer[clients]``),
so gymnax's wrappers (``gymnax.wrappers.purerl.LogWrapper``) and trainers
built on it (``rejax.PPO.create(env=env, env_params=params)``) take it as
it is. It implements gymnax's hooks, ``reset_env`` and ``step_env``, and
inherits ``reset``/``step`` (jitted, auto-reset: a finished episode's
``obs`` and ``state`` are a fresh episode's from the second half of the
step key) from gymnax; without gymnax, ``_Environment`` below is the same
base (gymnax 0.0.9's, which rejax 0.1.3 expects).

The step tuple is the installed gymnax's: ``(obs, state, reward, done,
info)`` for gymnax < 1.0 (and without gymnax), ``(obs, state, reward,
terminated, truncated, info)`` for gymnax >= 1.0, whose ``step`` splits
``done``. rejax 0.1.3 (the newest) unpacks five values, so it runs with
gymnax < 1.0 only (the ``clients`` extra pins that). Either way ``info``
holds ``terminated``, ``truncated``, ``discount`` (0 when terminated),
``performance`` ``[m]`` and ``sizing`` ``[n]`` of the step, and
``final_observation`` (< 1.0: set by this env; >= 1.0: by gymnax).

Params: ``SurrogateGymnaxParams``, the surrogate env's ``EnvParams`` plus
gymnax's ``max_steps_in_episode`` (= ``max_steps``, the truncation; a
trainer's evaluation loops at most that long). Spaces: gymnax's ``Box``
(the local ``Box`` without gymnax), ``action_space(params)`` ``[-1, 1]^n``
and ``observation_space(params)`` with finite bounds (``envs.spaces``;
observations are clipped to them, as in the SPICE envs).

``SurrogateGymEnv`` is a ``gymnasium.Env`` over the same functions (NumPy in
and out, jitted inside), registered as ``jaxsizer/<circuit>-<tech>-
surrogate-v0`` and ``jaxsizer/run-surrogate-v0`` (``envs.registration``).
"""

from __future__ import annotations

import json
import os
from functools import partial
from pathlib import Path
from typing import Any

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from envs import definition as d
from envs.config import DEFAULT_MAX_STEPS, NO_STEP_LIMIT, check_target
from envs.registration import RUN_SURROGATE_ID, surrogate_env_ids
from envs.spaces import clip_observation, observation_bounds
from envs.surrogate_env import (
    EnvParams,
    EnvState,
    SurrogateEnv,
    ensemble_predictor,
    surrogate_params,
)
from envs.targets import BOX_SHARE
from sim.errors import UserInputError

MODELS = ("distilled", "ensemble")


class _Box:
    """gymnax's ``spaces.Box`` (used without gymnax): ``low``/``high``
    (scalars or arrays), ``shape``, ``dtype``; jittable ``sample(key)`` and
    ``contains(x)``."""

    def __init__(self, low, high, shape: tuple[int, ...], dtype=jnp.float32) -> None:
        self.low = low
        self.high = high
        self.shape = shape
        self.dtype = dtype

    def __repr__(self) -> str:
        return f"Box(shape={self.shape}, dtype={np.dtype(self.dtype).name})"

    def sample(self, key: jax.Array) -> jax.Array:
        return jax.random.uniform(
            key, self.shape, minval=self.low, maxval=self.high
        ).astype(self.dtype)

    def contains(self, x) -> jax.Array:
        return jnp.logical_and(jnp.all(x >= self.low), jnp.all(x <= self.high))


class _Environment:
    """gymnax 0.0.9's ``Environment`` base, for when gymnax is not installed:
    ``reset``/``step`` around the hooks ``reset_env``/``step_env``, with
    gymnax's auto-reset (the step key split in two, the second resets)."""

    @partial(jax.jit, static_argnames=("self",))
    def step(self, key: jax.Array, state, action, params=None):
        params = self.default_params if params is None else params
        key, key_reset = jax.random.split(key)
        obs_st, state_st, reward, done, info = self.step_env(key, state, action, params)
        obs_re, state_re = self.reset_env(key_reset, params)
        state = jax.tree.map(
            lambda x, y: jax.lax.select(done, x, y), state_re, state_st
        )
        obs = jax.lax.select(done, obs_re, obs_st)
        return obs, state, reward, done, info

    @partial(jax.jit, static_argnames=("self",))
    def reset(self, key: jax.Array, params=None):
        params = self.default_params if params is None else params
        return self.reset_env(key, params)


try:  # the gymnax clients expect its classes (isinstance checks in rejax)
    from gymnax.environments.environment import Environment as _Base
    from gymnax.environments.spaces import Box
except ImportError:  # gymnax is optional: the same protocol without it
    _Base, Box = _Environment, _Box

# gymnax >= 1.0 splits ``done`` (its ``step`` returns six values and asks
# ``step_env`` for ``terminated`` and ``is_truncated`` for the rest)
SPLIT_DONE = hasattr(_Base, "is_truncated")


@struct.dataclass
class SurrogateGymnaxParams(EnvParams):
    """``envs.surrogate_env.EnvParams`` with gymnax's name of the episode
    length (``max_steps_in_episode`` = ``max_steps``, steps)."""

    @property
    def max_steps_in_episode(self) -> int:
        return self.max_steps


class SurrogateGymnaxEnv(_Base):
    """``SurrogateEnv`` as a gymnax ``Environment`` (see module docstring).

    ``env`` the pure-JAX environment, ``params`` its default
    ``SurrogateGymnaxParams`` (surrogate arrays, ``max_steps``, optional
    target table), ``name`` the id. Actions ``[n]`` in ``[-1, 1]``;
    observations ``[obs]`` float32.
    """

    def __init__(
        self, env: SurrogateEnv, params: SurrogateGymnaxParams, name: str
    ) -> None:
        super().__init__()
        self.env = env
        self._params = params
        self._name = name
        low, high = observation_bounds(env.definition)
        self._low, self._high = jnp.asarray(low), jnp.asarray(high)

    @property
    def definition(self):
        """The ``sim.sizing.problem.SizingProblem`` (specs, layout, parameter names)."""
        return self.env.definition

    @property
    def default_params(self) -> SurrogateGymnaxParams:
        return self._params

    @property
    def name(self) -> str:
        return self._name

    @property
    def num_actions(self) -> int:
        """Number of action entries (one per sized parameter)."""
        return self.env.action_size

    def action_space(self, params: EnvParams | None = None):
        return Box(-1.0, 1.0, (self.num_actions,), jnp.float32)

    def observation_space(self, params: EnvParams | None = None):
        return Box(self._low, self._high, (self.env.observation_size,), jnp.float32)

    def _clip(self, obs: jax.Array) -> jax.Array:
        return clip_observation(obs, self._low, self._high, jnp)

    # -- gymnax's hooks -----------------------------------------------------------
    def reset_env(
        self, key: jax.Array, params: EnvParams
    ) -> tuple[jax.Array, EnvState]:
        """A new episode: observation ``[obs]`` and state (target from ``key``)."""
        obs, state = self.env.reset(key, params)
        obs = self._clip(obs)
        return obs, state.replace(observation=obs)

    def transition(
        self, key: jax.Array, state: EnvState, action: jax.Array, params: EnvParams
    ):
        """One step without auto-reset: ``(obs, state, reward, terminated,
        truncated, info)`` of the episode as it stands after ``action``."""
        del key  # the step is deterministic; the key serves the reset
        env = self.env
        sizing = d.scale_action(
            jnp.asarray(action, jnp.float32), env.definition.scale, jnp
        )
        obs, reward, terminated, performance = env.evaluate(
            sizing, state.target, params
        )
        obs = self._clip(obs)
        steps = state.step + 1
        truncated = (~terminated) & (steps >= params.max_steps)
        info = {
            "final_observation": obs,
            "terminated": terminated,
            "truncated": truncated,
            "discount": 1.0 - terminated.astype(jnp.float32),
            "performance": performance,
            "sizing": sizing,
        }
        stepped = EnvState(state.target, steps, obs)
        return obs, stepped, reward, terminated, truncated, info

    def step_env(self, key: jax.Array, state: EnvState, action, params: EnvParams):
        """gymnax's hook: the step before auto-reset (``done`` for gymnax <
        1.0, ``terminated`` for >= 1.0, which asks ``is_truncated``)."""
        obs, state, reward, terminated, truncated, info = self.transition(
            key, state, action, params
        )
        return (
            obs,
            state,
            reward,
            terminated if SPLIT_DONE else (terminated | truncated),
            info,
        )

    def is_truncated(self, state: EnvState, params: EnvParams) -> jax.Array:
        """Whether ``state`` has reached the step limit (gymnax >= 1.0)."""
        return state.step >= params.max_steps

    def is_terminal(self, state: EnvState, params: EnvParams) -> jax.Array:
        """Only the step limit is known from the state alone (a met target
        is known from the step's figures: ``info["terminated"]``)."""
        return self.is_truncated(state, params)

    @partial(jax.jit, static_argnames=("self",))
    def evaluate_target(self, target: jax.Array, params: EnvParams | None = None):
        """Observation and state of a new episode with a given target ``[m]``."""
        params = self._params if params is None else params
        obs, _, _, _ = self.env.evaluate(self.env.default_params, target, params)
        obs = self._clip(obs)
        return obs, EnvState(target, jnp.int32(0), obs)


# -- building an env from an id ------------------------------------------------
def _problem(options):
    """The ``SizingProblem`` and default sizing ``[n]`` of ``ProblemOptions``
    in its space (``envs.sizing_space.open_problem``), without a simulator
    (nothing is simulated or stored)."""
    from envs.sizing_space import open_problem

    opened = open_problem(options)
    return opened.problem, opened.default_sizing


def _outputs(problem) -> tuple[str, ...]:
    return tuple(problem.figures) + tuple(problem.op_names)


def _run_options(run: str | os.PathLike):
    """``ProblemOptions`` and surrogate directory of a trained run."""
    from sim.sizing.session import ProblemOptions

    path = Path(run)
    try:
        config = json.loads((path / "config.json").read_text())
        options = ProblemOptions.from_json(config["problem"])
    except (OSError, ValueError, TypeError, KeyError) as error:
        raise UserInputError(
            f"{path} holds no trained run (config.json with a 'problem' entry): {error}"
        ) from None
    return options, path / "surrogate"


def _stored_options(circuit: str, tech: str, loaded):
    """``ProblemOptions`` matching a stored surrogate's outputs: the spec
    figures only, or every figure."""
    from sim.sizing.session import ProblemOptions

    corner = loaded.meta.get("corner")
    for all_figures in (False, True):
        options = ProblemOptions(circuit, tech, corner, all_figures=all_figures)
        problem, sizing = _problem(options)
        if _outputs(problem) == loaded.output_names:
            return problem, sizing
    raise UserInputError(
        f"the surrogate of {circuit}/{tech} predicts other figures than the "
        "circuit has now: refit it (python -m surrogate.fit circuit "
        f"--circuit {circuit} --tech {tech})"
    )


def _load(directory: Path, hint: str):
    from surrogate.circuit.store import load_surrogate

    if not (directory / "surrogate.json").is_file():
        raise UserInputError(f"no surrogate in {directory}: {hint}")
    return load_surrogate(directory)


def build(
    circuit: str | None = None,
    tech: str | None = None,
    *,
    run: str | os.PathLike | None = None,
    surrogate: str | os.PathLike | None = None,
    options=None,
    model: str = "distilled",
    max_steps: int | None = DEFAULT_MAX_STEPS,
    targets=None,
    box_share: float = BOX_SHARE,
    success_bonus: float = d.SUCCESS_BONUS,
    name: str = "",
) -> tuple[SurrogateGymnaxEnv, SurrogateGymnaxParams]:
    """The gymnax env and its params for a circuit/technology (stored
    surrogate, or ``surrogate=`` directory), for ``options``
    (``sim.sizing.session.ProblemOptions``, its space included) with a ``surrogate``
    directory fitted on them (what a trainer passes down), or a trained
    ``run`` directory.

    ``model``: ``"distilled"`` (default; the ensemble when there is none) or
    ``"ensemble"``; ``max_steps``: truncation (None: never); ``targets``
    ``[K, m]`` (SI, NaN: no requirement): a target table drawn for a share
    ``1 - box_share`` of the episodes (None: the declared box only);
    ``success_bonus``: the reward on top when a step meets every spec
    (``envs.definition.step_outcome``).
    """
    from surrogate.circuit.store import surrogate_dir

    if model not in MODELS:
        raise UserInputError(f"model must be one of {', '.join(MODELS)}, not {model!r}")
    hint = "fit or train it first"
    if run is not None:
        options, surrogate = _run_options(run)
        if circuit is not None and (circuit, tech) != (options.circuit, options.tech):
            raise UserInputError(
                f"run {run} sizes {options.circuit}/{options.tech}, not "
                f"{circuit}/{tech}: use {RUN_SURROGATE_ID} with run="
            )
        hint = "train the run first (python -m train)"
    if options is not None:
        if surrogate is None:
            raise UserInputError("options= needs surrogate= (its fitted surrogate)")
        directory = Path(surrogate)
        loaded = _load(directory, hint)
        problem, sizing = _problem(options)
        if _outputs(problem) != loaded.output_names:
            raise UserInputError(
                f"{directory} predicts other figures than {options.circuit} has now"
            )
    elif circuit is not None and tech is not None:
        directory = Path(surrogate) if surrogate else surrogate_dir(tech, circuit)
        hint = f"run python -m surrogate.fit circuit --circuit {circuit} --tech {tech}"
        loaded = _load(directory, hint)
        problem, sizing = _stored_options(circuit, tech, loaded)
    else:
        raise UserInputError("give circuit and tech, or run= (a trained run)")
    steps = NO_STEP_LIMIT if max_steps is None else _positive_int(max_steps)
    table = None if targets is None else jnp.asarray(targets, jnp.float32)
    if table is not None and (table.ndim != 2 or table.shape[1] != len(problem.specs)):
        raise UserInputError(
            f"targets must have shape [K, {len(problem.specs)}] ({problem.specs})"
        )
    share = float(box_share)
    if not 0.0 <= share <= 1.0:
        raise UserInputError(f"box_share must lie in [0, 1], got {box_share!r}")
    env = SurrogateEnv(problem, sizing, ensemble_predictor)
    params = SurrogateGymnaxParams(
        surrogate_params(loaded, model), steps, table, share, float(success_bonus)
    )
    return SurrogateGymnaxEnv(env, params, name), params


def _positive_int(value) -> int:
    if isinstance(value, bool) or not float(value).is_integer() or value < 1:
        raise UserInputError(f"max_steps must be an integer >= 1, got {value!r}")
    return int(value)


def make(
    env_id: str, **kwargs: Any
) -> tuple[SurrogateGymnaxEnv, SurrogateGymnaxParams]:
    """``(env, params)`` of a surrogate env id (``envs.registration``):
    ``jaxsizer/<circuit>-<tech>-surrogate-v0`` (the stored surrogate, or
    ``surrogate=DIR``) or ``jaxsizer/run-surrogate-v0`` with ``run=DIR``.
    Keyword arguments as ``build``."""
    plain = env_id.split(":", 1)[-1]
    ids = surrogate_env_ids()
    if plain not in ids:
        examples = ", ".join(list(ids)[:2])
        raise UserInputError(
            f"unknown surrogate env id {env_id!r}; e.g. {examples}, {RUN_SURROGATE_ID}"
        )
    if plain == RUN_SURROGATE_ID and kwargs.get("run") is None:
        raise UserInputError(f"{RUN_SURROGATE_ID} needs run= (a trained run)")
    return build(**{**ids[plain], **kwargs, "name": plain})


# -- gymnasium ---------------------------------------------------------------
def _named(names, values: np.ndarray) -> dict[str, float | None]:
    return {
        n: float(v) if np.isfinite(v) else None
        for n, v in zip(names, values, strict=True)
    }


class SurrogateGymEnv(gym.Env):
    """The surrogate env as a ``gymnasium.Env`` (NumPy in and out).

    Keyword arguments as ``build`` (``circuit``/``tech`` or ``run``). Made
    through ``gymnasium.make``, truncation is the spec's ``TimeLimit``
    (``max_episode_steps`` 200) and the env passes ``max_steps=None``.
    ``reset(options={"target": {spec: value}})`` fixes one episode's target.
    ``info``: ``performance`` and ``target`` ``{spec: value}`` (None where
    the surrogate deems the design invalid), ``params`` (the sizing, SI).
    """

    metadata = {"render_modes": []}

    def __init__(self, circuit: str | None = None, tech: str | None = None, **kwargs):
        name = f"jaxsizer/{circuit}-{tech}-surrogate-v0" if circuit else ""
        self.gymnax, self.params = build(circuit, tech, **kwargs, name=name)
        self.definition = self.gymnax.definition
        self.observation_layout = self.definition.observation_layout
        low, high = observation_bounds(self.definition)
        self.observation_space = gym.spaces.Box(low, high, low.shape, np.float32)
        n = self.gymnax.num_actions
        self.action_space = gym.spaces.Box(-1.0, 1.0, (n,), np.float32)
        self._state: EnvState | None = None
        self._key: jax.Array | None = None
        self._transition = jax.jit(self.gymnax.transition)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self._key = jax.random.key(int(self.np_random.integers(2**31)))
        self._key, key = jax.random.split(self._key)
        target = (options or {}).get("target")
        if target is None:
            obs, self._state = self.gymnax.reset(key, self.params)
        else:
            vector = jnp.asarray(check_target(target, self.definition))
            obs, self._state = self.gymnax.evaluate_target(vector, self.params)
        info = {"target": _named(self.definition.specs, np.asarray(self._state.target))}
        return np.asarray(obs, np.float32), info

    def step(self, action):
        if self._state is None:
            raise gym.error.ResetNeeded("call reset() before step()")
        action = np.asarray(action, np.float32)
        if action.shape != self.action_space.shape or not np.all(np.isfinite(action)):
            raise UserInputError(
                f"action must be {self.action_space.shape} finite numbers, "
                f"got shape {action.shape}"
            )
        target = np.asarray(self._state.target)
        self._key, key = jax.random.split(self._key)
        obs, self._state, reward, terminated, truncated, info = self._transition(
            key, self._state, action, self.params
        )
        specs, names = self.definition.specs, self.definition.scale.names
        out = {
            "performance": _named(specs, np.asarray(info["performance"])),
            "target": _named(specs, target),
            "params": dict(
                zip(names, map(float, np.asarray(info["sizing"])), strict=True)
            ),
        }
        return (
            np.asarray(obs, np.float32),
            float(reward),
            bool(terminated),
            bool(truncated),
            out,
        )
