"""An ensemble of MLPs predicting circuit figures and design validity.

``Ensemble`` holds ``members`` MLPs with stacked weights, so one einsum runs
them all: input ``[B, n_params]`` positions in [0, 1] -> output
``[members, B, n_outputs + 1]`` (standardised figures in model units, then a
validity logit). The spread between members is the uncertainty.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx


def _init(key: jax.Array, shape: tuple[int, ...]) -> jax.Array:
    fan_in = shape[-2]
    return jax.random.normal(key, shape, jnp.float32) * jnp.sqrt(2.0 / fan_in)


class Ensemble(nnx.Module):
    """``members`` MLPs ``n_in -> hidden -> hidden -> n_out + 1`` (SiLU)."""

    def __init__(
        self,
        n_in: int,
        n_out: int,
        hidden: int = 256,
        members: int = 5,
        *,
        rngs: nnx.Rngs,
    ) -> None:
        dims = (n_in, hidden, hidden, n_out + 1)
        self.w1 = nnx.Param(_init(rngs.params(), (members, dims[0], dims[1])))
        self.b1 = nnx.Param(jnp.zeros((members, dims[1])))
        self.w2 = nnx.Param(_init(rngs.params(), (members, dims[1], dims[2])))
        self.b2 = nnx.Param(jnp.zeros((members, dims[2])))
        self.w3 = nnx.Param(_init(rngs.params(), (members, dims[2], dims[3])) * 0.1)
        self.b3 = nnx.Param(jnp.zeros((members, dims[3])))

    def __call__(self, x: jax.Array) -> jax.Array:
        return forward(
            {k: getattr(self, k)[...] for k in ("w1", "b1", "w2", "b2", "w3", "b3")}, x
        )


def forward(weights: dict[str, jax.Array], x: jax.Array) -> jax.Array:
    """Pure forward pass: ``x`` [B, n_in] -> [members, B, n_out + 1]."""
    h = jax.nn.silu(
        jnp.einsum("bi,mio->mbo", x, weights["w1"]) + weights["b1"][:, None]
    )
    h = jax.nn.silu(
        jnp.einsum("mbi,mio->mbo", h, weights["w2"]) + weights["b2"][:, None]
    )
    return jnp.einsum("mbi,mio->mbo", h, weights["w3"]) + weights["b3"][:, None]


def predict(
    weights: dict[str, jax.Array],
    mean: jax.Array,
    std: jax.Array,
    x: jax.Array,
    spread_scale: jax.Array | None = None,
) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Ensemble prediction in model units.

    Returns the member mean ``[B, K]``, the member spread ``[B, K]`` (times
    the calibration ``spread_scale`` [K] when given) and the probability that
    the design is valid ``[B]``. A one-member model has zero spread.
    """
    out = forward(weights, x)
    figures = out[..., :-1] * std + mean
    p_valid = jax.nn.sigmoid(out[..., -1]).mean(axis=0)
    # the square root's gradient at zero variance is inf (and inf times a
    # zero cotangent is NaN): a tiny floor keeps gradients through it finite
    spread = jnp.sqrt(figures.var(axis=0) + 1e-12)
    if spread_scale is not None:
        spread = spread * spread_scale
    return figures.mean(axis=0), spread, p_valid


def from_model_units(
    y: jax.Array, log_mask: jax.Array, sign: jax.Array, xp=jnp
) -> jax.Array:
    """Raw figures from model units (``sign * 10**y`` where logged).

    The power is taken of 0 where not logged: a dB figure of 60 would give
    10**60 = inf in float32, and inf times a zero cotangent is a NaN gradient.
    """
    return xp.where(log_mask, sign * xp.power(10.0, xp.where(log_mask, y, 0.0)), y)


def surrogate_arrays(
    weights: dict,
    mean,
    std,
    log_mask,
    sign,
    spread_scale=None,
    physics=None,
) -> dict:
    """The one pytree a surrogate is used through (JAX env, search, sizing).

    ``weights`` of an ``Ensemble`` (or of a distilled one-member network),
    the output standardisation ``mean``/``std`` [K] (model units), the
    transform ``log_mask``/``sign`` [K], the spread's calibration [K] (or
    None) and the optional ``surrogate.circuit.physics`` inputs.
    """
    f32 = lambda a: jnp.asarray(a, jnp.float32)  # noqa: E731
    return {
        "weights": {k: f32(v) for k, v in weights.items()},
        "mean": f32(mean),
        "std": f32(std),
        "log_mask": jnp.asarray(log_mask, bool),
        "sign": f32(sign),
        "spread_scale": f32(jnp.ones_like(f32(mean)))
        if spread_scale is None
        else f32(spread_scale),
        "physics": physics,
    }


def predict_arrays(arrays: dict, features: jax.Array):
    """Prediction of ``surrogate_arrays`` for ``surrogate_features`` [B, n].

    Returns the member mean in model units ``[B, K]``, the calibrated spread
    ``[B, K]`` and the validity probability ``[B]``.
    """
    if arrays.get("physics") is not None:
        from surrogate.circuit.physics import physics_inputs

        features = physics_inputs(arrays["physics"], features)
    return predict(
        arrays["weights"],
        arrays["mean"],
        arrays["std"],
        features,
        arrays["spread_scale"],
    )


def predict_raw(arrays: dict, features: jax.Array):
    """Raw figures ``[B, K]`` (SI) and validity ``[B]`` of ``surrogate_arrays``."""
    y, _, p_valid = predict_arrays(arrays, features)
    return from_model_units(y, arrays["log_mask"], arrays["sign"]), p_valid
