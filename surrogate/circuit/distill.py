"""A small, fast network distilled from the ensemble, for the env's inner loop.

The ensemble is what the fit is judged by and what measures uncertainty, but
five 512-wide members cost ~40x a 192-wide network per step. ``distill`` trains
one narrow MLP (``Ensemble`` with one member) to reproduce the ensemble's
mean and validity on many designs the ensemble labels for free (uniform
random actions, plus the training designs). The result is saved beside the
ensemble (``fast.npz``) and is what ``SurrogateEnv`` steps by default; its
own held-out error against SPICE is reported next to the ensemble's.
When the ensemble takes physics inputs (``surrogate.circuit.physics``), the
teacher computes them while labelling; the student sees the plain features.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx
from tqdm import tqdm

from surrogate.circuit.model import Ensemble, forward
from surrogate.circuit.physics import physics_inputs

WEIGHT_NAMES = ("w1", "b1", "w2", "b2", "w3", "b3")


@dataclass(frozen=True)
class DistillConfig:
    """Student size and training (defaults: ~1.5 min on 2 cores for op2)."""

    hidden: int = 192
    designs: int = 200_000  # synthetic designs labelled by the ensemble
    epochs: int = 100
    batch: int = 1024
    learning_rate: float = 2e-3
    final_learning_rate: float = 3e-5
    seed: int = 0


@dataclass
class DistilledSurrogate:
    """One-member weights (same layout as the ensemble's) and fit details."""

    weights: dict[str, np.ndarray]
    designs: int
    seconds: float


def teacher_labels(
    weights: dict, inputs: np.ndarray, chunk: int = 8192, physics=None
) -> tuple[np.ndarray, np.ndarray]:
    """Ensemble mean of the standardised outputs [N, K] and validity [N] on
    features ``inputs`` [N, n] (plus ``physics`` inputs when given)."""
    weights = {k: jnp.asarray(v) for k, v in weights.items()}

    @jax.jit
    def label(x):
        if physics is not None:
            x = physics_inputs(physics, x)
        out = forward(weights, x)
        return out[..., :-1].mean(axis=0), jax.nn.sigmoid(out[..., -1]).mean(axis=0)

    parts = [
        label(jnp.asarray(inputs[i : i + chunk])) for i in range(0, len(inputs), chunk)
    ]
    return (
        np.concatenate([np.asarray(p[0]) for p in parts]),
        np.concatenate([np.asarray(p[1]) for p in parts]),
    )


def _student_loss(weights, x, y, p_valid, output_weight):
    """Squared error on outputs of designs the teacher deems valid, plus the
    cross-entropy against the teacher's validity probability."""
    out = forward(weights, x)[0]  # [B, K+1]
    keep = (p_valid >= 0.5)[:, None]
    err = jnp.where(keep, (out[:, :-1] - y) ** 2, 0.0) * output_weight
    fit = err.sum() / jnp.maximum((keep * output_weight).sum(), 1.0)
    bce = optax.sigmoid_binary_cross_entropy(out[:, -1], p_valid).mean()
    return fit + 0.1 * bce


def distill(
    teacher_weights: dict,
    inputs: np.ndarray,
    output_weight: np.ndarray,
    config: DistillConfig = DistillConfig(),
    progress: bool = True,
    physics=None,
) -> DistilledSurrogate:
    """Fit a one-member MLP to the ensemble on ``inputs`` [N, n] (features).

    ``output_weight`` [K] weighs the outputs as the ensemble's fit did;
    ``physics``: the ensemble's ``surrogate.circuit.physics.Physics``, if any.
    """
    start = time.perf_counter()
    rng = np.random.default_rng(config.seed)
    x = np.asarray(inputs, np.float32)
    if len(x) == 0:
        raise ValueError("distillation needs at least one design")
    y, p_valid = teacher_labels(teacher_weights, x, physics=physics)
    n_out = y.shape[1]
    model = Ensemble(x.shape[1], n_out, config.hidden, 1, rngs=nnx.Rngs(config.seed))
    weights = {k: getattr(model, k)[...] for k in WEIGHT_NAMES}
    batch = min(config.batch, len(x))  # fewer designs than a batch: one batch
    steps = config.epochs * (len(x) // batch)
    tx = optax.adam(
        optax.cosine_decay_schedule(
            config.learning_rate,
            steps,
            alpha=config.final_learning_rate / config.learning_rate,
        )
    )
    opt_state = tx.init(weights)
    w_out = jnp.asarray(output_weight, jnp.float32)

    @jax.jit
    def step(weights, opt_state, xb, yb, vb):
        loss, grads = jax.value_and_grad(_student_loss)(weights, xb, yb, vb, w_out)
        updates, opt_state = tx.update(grads, opt_state, weights)
        return optax.apply_updates(weights, updates), opt_state, loss

    bar = tqdm(range(config.epochs), desc="distil", unit="epoch", disable=not progress)
    for _ in bar:
        order = rng.permutation(len(x))
        for i in range(0, len(order) - batch + 1, batch):
            idx = order[i : i + batch]
            weights, opt_state, loss = step(
                weights, opt_state, x[idx], y[idx], p_valid[idx]
            )
        bar.set_postfix(loss=f"{float(loss):.4f}")
    bar.close()
    return DistilledSurrogate(
        weights={k: np.asarray(v) for k, v in weights.items()},
        designs=len(x),
        seconds=time.perf_counter() - start,
    )
