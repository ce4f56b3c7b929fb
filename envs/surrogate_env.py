"""The pure-JAX environment: the circuit is a surrogate, not ngspice.

``SurrogateEnv`` has gymnax-style pure functions over pytree state:

    obs, state = env.reset(key, params)
    obs, state, reward, terminated, truncated, info = env.step(
        key, state, action, params)

Both are jit- and vmap-able. Observation, reward, termination, target draws
and action scaling are the functions of ``envs.definition`` that the SPICE
environment uses (``step_outcome``), so the two differ only in where the
figures come from.

Auto-reset: when a step terminates or truncates, the returned ``obs`` and
``state`` are those of a fresh episode (new target from ``key``, default
design), while ``reward``, ``terminated``, ``truncated`` and ``info`` describe
the step that ended; ``info["final_observation"]`` is its observation.

Targets come from the declared box (``envs.targets``), or, when
``EnvParams.targets`` holds a table ``[K, m]`` (a trainer's curriculum), from
that table for a share ``1 - box_share`` of the episodes.

A design the surrogate deems invalid (validity probability < 0.5) is treated
like a failed simulation: its figures are missing, which the definition turns
into the failure penalty.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from envs import definition as d
from envs.targets import BOX_SHARE, draw_target
from sim.sizing.problem import SizingProblem
from surrogate.circuit.dataset import surrogate_features
from surrogate.circuit.model import predict_raw, surrogate_arrays

# predictor(surrogate_params, features [B, n]) -> (raw outputs [B, K], validity [B])
Predictor = Callable[[Any, jax.Array], tuple[jax.Array, jax.Array]]


@struct.dataclass
class EnvParams:
    """What may change between calls without recompiling: the surrogate's
    arrays, the training targets ``targets`` ``[K, m]`` (None: the box
    only), drawn for a share ``1 - box_share`` of the episodes, and the
    reward's ``success_bonus`` (``envs.definition.step_outcome``)."""

    surrogate: Any
    max_steps: int = struct.field(pytree_node=False, default=200)
    targets: Any = None
    box_share: float = BOX_SHARE
    success_bonus: float = d.SUCCESS_BONUS


@struct.dataclass
class EnvState:
    target: jax.Array  # [m] float32
    step: jax.Array  # int32
    observation: jax.Array  # [obs_size] float32


# The predictor of a ``surrogate_arrays`` pytree: raw figures and validity.
ensemble_predictor: Predictor = predict_raw


def surrogate_params(loaded, model: str = "distilled") -> dict:
    """The pytree ``EnvParams.surrogate`` of a ``CircuitSurrogate``.

    ``model``: ``"distilled"`` (the one-member network distilled from the
    ensemble, ~40x faster for op2; falls back to the ensemble when the
    surrogate has none) or ``"ensemble"`` (the mean of all members).
    """
    if model not in ("distilled", "ensemble"):
        raise ValueError(f"model must be 'distilled' or 'ensemble', not {model!r}")
    use_fast = model == "distilled" and loaded.fast_weights is not None
    physics = None if use_fast else getattr(loaded, "physics", None)
    return surrogate_arrays(
        loaded.fast_weights if use_fast else loaded.weights,
        loaded.mean,
        loaded.std,
        loaded.log_mask,
        loaded.sign,
        physics=physics,  # the distilled network takes the plain features
    )


class SurrogateEnv:
    """Pure functional environment for one ``SizingProblem`` and a predictor."""

    def __init__(
        self,
        definition: SizingProblem,
        default_params: np.ndarray,
        predictor: Predictor = ensemble_predictor,
    ) -> None:
        self.definition = definition
        self.predictor = predictor
        self.default_params = jnp.asarray(default_params, jnp.float32)
        self.n_figures = len(definition.figures)

    @property
    def action_size(self) -> int:
        return len(self.definition.scale.names)

    @property
    def observation_size(self) -> int:
        return self.definition.observation_size

    # -- pieces ----------------------------------------------------------------
    def sample_target(self, key: jax.Array, params: EnvParams | None = None):
        """One target ``[m]``: uniform over the box, or a row of
        ``params.targets`` for a share ``1 - params.box_share`` of draws."""
        # the box draw uses ``key`` itself, as the SPICE envs do (same targets)
        from_box = draw_target(key, self.definition, jnp)
        if params is None or params.targets is None:
            return from_box
        table = params.targets
        pick_key, share_key = jax.random.split(jax.random.fold_in(key, 1))
        row = jax.random.randint(pick_key, (), 0, table.shape[0])
        use_box = jax.random.uniform(share_key) < params.box_share
        return jnp.where(use_box, from_box, table[row])

    def evaluate(self, sizing: jax.Array, target: jax.Array, params: EnvParams):
        """Observation, reward, termination and figures of one sizing [n]."""
        definition = self.definition
        features = surrogate_features(sizing, definition.scale, jnp)
        raw, p_valid = self.predictor(params.surrogate, features[None])
        raw = jnp.where(p_valid[0] >= 0.5, raw[0], jnp.nan)
        figures, operating_point = raw[: self.n_figures], raw[self.n_figures :]
        obs, reward, done, _ = d.step_outcome(
            definition,
            figures,
            target,
            operating_point,
            jnp,
            success_bonus=params.success_bonus,
        )
        performance = figures[definition.spec_index]
        return obs, reward.astype(jnp.float32), done, performance

    # -- gymnax-style API ------------------------------------------------------
    def reset(self, key: jax.Array, params: EnvParams) -> tuple[jax.Array, EnvState]:
        target = self.sample_target(key, params)
        obs, _, _, _ = self.evaluate(self.default_params, target, params)
        return obs, EnvState(target, jnp.int32(0), obs)

    def step(
        self, key: jax.Array, state: EnvState, action: jax.Array, params: EnvParams
    ):
        sizing = d.scale_action(action, self.definition.scale, jnp)
        obs, reward, terminated, performance = self.evaluate(
            sizing, state.target, params
        )
        steps = state.step + 1
        truncated = (~terminated) & (steps >= params.max_steps)
        done = terminated | truncated
        reset_obs, reset_state = self.reset(key, params)
        stepped = EnvState(state.target, steps, obs)
        next_state = jax.tree.map(
            lambda a, b: jnp.where(done, a, b), reset_state, stepped
        )
        info = {"final_observation": obs, "performance": performance, "sizing": sizing}
        return (
            jnp.where(done, reset_obs, obs),
            next_state,
            reward,
            terminated,
            truncated,
            info,
        )
