"""Generalised advantage estimation with terminated and truncated apart."""

from __future__ import annotations

import jax
import jax.numpy as jnp


def gae(
    rewards: jax.Array,
    values: jax.Array,
    next_values: jax.Array,
    terminated: jax.Array,
    truncated: jax.Array,
    gamma: float,
    lam: float,
) -> tuple[jax.Array, jax.Array]:
    """Advantages and returns ``[T, B]`` of a rollout.

    ``values[t]`` is V(s_t); ``next_values[t]`` is V of the observation that
    step t led to (for truncated steps, the final observation before the
    auto-reset), so truncation bootstraps and termination does not. An episode
    boundary (terminated or truncated) stops the advantage recursion.
    """

    def body(carry, step):
        reward, value, next_value, term, trunc = step
        delta = reward + gamma * next_value * (1.0 - term) - value
        advantage = delta + gamma * lam * (1.0 - jnp.maximum(term, trunc)) * carry
        return advantage, advantage

    _, advantages = jax.lax.scan(
        body,
        jnp.zeros_like(rewards[0]),
        (
            rewards,
            values,
            next_values,
            terminated.astype(rewards.dtype),
            truncated.astype(rewards.dtype),
        ),
        reverse=True,
    )
    return advantages, advantages + values
