"""Actor-critic networks (flax NNX) and the diagonal Gaussian policy."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx


class MLP(nnx.Module):
    """``n_in -> hidden -> hidden -> n_out`` with tanh activations."""

    def __init__(
        self,
        n_in: int,
        n_out: int,
        hidden: int,
        *,
        rngs: nnx.Rngs,
        out_scale: float = 1.0,
    ) -> None:
        init = nnx.initializers.orthogonal(jnp.sqrt(2.0))
        self.l1 = nnx.Linear(n_in, hidden, kernel_init=init, rngs=rngs)
        self.l2 = nnx.Linear(hidden, hidden, kernel_init=init, rngs=rngs)
        self.l3 = nnx.Linear(
            hidden, n_out, kernel_init=nnx.initializers.orthogonal(out_scale), rngs=rngs
        )

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.l3(jnp.tanh(self.l2(jnp.tanh(self.l1(x)))))


class ObservationScale(nnx.Variable):
    """A fixed affine map of the observation (not trained: gradients stop)."""


class ActorCritic(nnx.Module):
    """Gaussian policy (mean network, state-independent log std) and critic.

    The observation is first standardised, ``(obs - obs_shift) / obs_scale``
    (``[n_obs]`` each; identity until ``standardised`` sets them from
    observed statistics), so figures of very different sizes (degrees,
    log10 hertz, distances) reach the network at order one.
    """

    def __init__(
        self, n_obs: int, n_act: int, hidden: int = 256, *, rngs: nnx.Rngs
    ) -> None:
        self.actor = MLP(n_obs, n_act, hidden, rngs=rngs, out_scale=0.01)
        self.critic = MLP(n_obs, 1, hidden, rngs=rngs, out_scale=1.0)
        self.log_std = nnx.Param(jnp.full((n_act,), -0.5, dtype=jnp.float32))
        self.obs_shift = ObservationScale(jnp.zeros((n_obs,), jnp.float32))
        self.obs_scale = ObservationScale(jnp.ones((n_obs,), jnp.float32))

    def __call__(self, obs: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
        """Mean ``[..., n_act]``, log std ``[n_act]`` and value ``[...]``."""
        shift = jax.lax.stop_gradient(self.obs_shift[...])
        scale = jax.lax.stop_gradient(self.obs_scale[...])
        x = jnp.clip((obs - shift) / scale, -10.0, 10.0)
        return self.actor(x), self.log_std[...], self.critic(x)[..., 0]


def standardised(params, observations: jax.Array):
    """``params`` (an ``ActorCritic`` state) with the observation shift and
    scale set to the mean and spread of ``observations`` ``[N, n_obs]``
    (spread floored so that constant entries pass unchanged in size)."""
    params = jax.tree.map(lambda leaf: leaf, params)  # leave the caller's alone
    shift = observations.mean(axis=0)
    scale = jnp.maximum(observations.std(axis=0), 1e-2 * (1.0 + jnp.abs(shift)))
    params["obs_shift"].set_value(shift.astype(jnp.float32))
    params["obs_scale"].set_value(scale.astype(jnp.float32))
    return params


def gaussian_log_prob(x: jax.Array, mean: jax.Array, log_std: jax.Array) -> jax.Array:
    """Log density of a diagonal Gaussian, summed over the last axis."""
    z = (x - mean) / jnp.exp(log_std)
    return jnp.sum(-0.5 * z**2 - log_std - 0.5 * jnp.log(2 * jnp.pi), axis=-1)


def gaussian_entropy(log_std: jax.Array) -> jax.Array:
    """Entropy of a diagonal Gaussian (nats)."""
    return jnp.sum(log_std + 0.5 * jnp.log(2 * jnp.pi * jnp.e), axis=-1)
