"""A mixture-density head: several answers per input, each with a probability.

sky130's pfet reaches some (gm/Id, fug) at two (L, Vgs) pairs (its gm/Id is
not monotonic in Vgs in moderate inversion), so a single-valued inverse map
averages the branches. A mixture head instead predicts ``K`` diagonal
Gaussians over the (scaled) outputs; the point answer is the mean of the most
probable component and the other means stay available (the sizing helper
starts its Newton solve from each of them).

The raw network output ``[batch, K * (1 + 2 * D)]`` is laid out as
``[logits (K) | means (K * D) | scale parameters (K * D)]``, component-major
inside each block. Pure JAX: a loader needs no flax or optax.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

SCALE_FLOOR = 3e-4  # smallest standard deviation, in MinMax-scaled output units


def raw_size(n_components: int, n_outputs: int) -> int:
    """Width of the network's last layer for ``K`` components of ``D`` outputs."""
    return n_components * (1 + 2 * n_outputs)


def split_mixture(
    raw: jax.Array, n_components: int, n_outputs: int
) -> tuple[jax.Array, jax.Array, jax.Array]:
    """``raw`` [batch, K(1+2D)] -> log-weights [batch, K] (normalised), means
    [batch, K, D] and standard deviations [batch, K, D] (scaled units)."""
    k, d = n_components, n_outputs
    logits = raw[:, :k]
    means = raw[:, k : k + k * d].reshape(-1, k, d)
    scales = jax.nn.softplus(raw[:, k + k * d :].reshape(-1, k, d)) + SCALE_FLOOR
    return jax.nn.log_softmax(logits, axis=-1), means, scales


def mixture_nll(
    raw: jax.Array, y: jax.Array, n_components: int, n_outputs: int
) -> jax.Array:
    """Negative log-likelihood [batch] of ``y`` [batch, D] under the mixture
    (constant ``D/2 log 2 pi`` dropped)."""
    log_w, means, scales = split_mixture(raw, n_components, n_outputs)
    z = (y[:, None, :] - means) / scales
    log_p = -0.5 * jnp.sum(z**2, axis=-1) - jnp.sum(jnp.log(scales), axis=-1)
    return -jax.nn.logsumexp(log_w + log_p, axis=-1)


def mixture_point(raw: jax.Array, n_components: int, n_outputs: int) -> jax.Array:
    """The mean [batch, D] of each row's most probable component."""
    log_w, means, _ = split_mixture(raw, n_components, n_outputs)
    best = jnp.argmax(log_w, axis=-1)
    return jnp.take_along_axis(means, best[:, None, None], axis=1)[:, 0]
