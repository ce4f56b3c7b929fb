"""Training a flax NNX MLP with optax: one jitted epoch per call, early stopping.

Two losses: weighted mean squared error (a point regression) or, with
``TrainConfig.mixture_components > 0``, the negative log-likelihood of a
mixture-density head (``surrogate.device.mixture``) for maps that are not
single-valued.

The model is split once (``nnx.split``); an epoch is a ``lax.scan`` over
minibatches of a fresh permutation, jitted over the pure parameter state, so
every epoch reuses one compiled function (``TRACES`` counts compilations).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx
from tqdm.auto import tqdm

from surrogate.device.mixture import mixture_nll, raw_size
from surrogate.device.mlp import Layers


@dataclass(frozen=True)
class TrainConfig:
    """How a network is trained.

    ``hidden``: hidden layer widths. ``batch_size``: samples per step.
    ``max_epochs``: upper bound on passes over the training split.
    ``patience``: epochs without a validation improvement before stopping.
    ``learning_rate``: Adam's initial rate, cosine-decayed to
    ``learning_rate * final_lr_fraction`` over ``max_epochs``.
    ``validation_fraction``: share of the points held out for early stopping.
    ``seed``: initialisation, split and shuffling.
    ``mixture_components``: 0 for a point regression (MSE); ``K > 0`` for a
    mixture-density head of ``K`` Gaussians trained on its likelihood.
    ``clip_norm``: global gradient-norm clip if > 0 (the likelihood has sharp
    steps where a component narrows).
    """

    hidden: tuple[int, ...] = (128, 128, 128)
    batch_size: int = 512
    max_epochs: int = 300
    patience: int = 30
    learning_rate: float = 3e-3
    final_lr_fraction: float = 1e-3
    validation_fraction: float = 0.1
    seed: int = 0
    mixture_components: int = 0
    clip_norm: float = 0.0


class MLP(nnx.Module):
    """``sizes[0] -> hidden (SiLU) ... -> sizes[-1]`` (linear output)."""

    def __init__(self, sizes: list[int], rngs: nnx.Rngs) -> None:
        self.layers = nnx.List(
            [
                nnx.Linear(a, b, rngs=rngs)
                for a, b in zip(sizes[:-1], sizes[1:], strict=True)
            ]
        )

    def __call__(self, x: jax.Array) -> jax.Array:
        for layer in self.layers[:-1]:
            x = nnx.silu(layer(x))
        return self.layers[-1](x)

    def export(self) -> Layers:
        """The weights as ``(kernel, bias)`` pairs (see ``surrogate.device.mlp``)."""
        return [(layer.kernel[...], layer.bias[...]) for layer in self.layers]


@dataclass
class TrainResult:
    """A trained network and how training went."""

    layers: Layers
    best_val_loss: float
    epochs: int
    seconds: float
    history: list[tuple[float, float]] = field(default_factory=list)  # train, val


TRACES = {"epoch": 0}
"""Number of times the epoch function was traced (compiled); tests read it."""


def _make_epoch(graphdef, tx, n_batches: int, batch_size: int, n_components: int):
    def loss_fn(params, x, y, w):
        model = nnx.merge(graphdef, params)
        if n_components:
            return jnp.mean(mixture_nll(model(x), y, n_components, y.shape[1]))
        return jnp.mean(jnp.sum(w * (model(x) - y) ** 2, axis=-1))

    @jax.jit
    def epoch(params, opt_state, key, x, y, w):
        TRACES["epoch"] += 1
        order = jax.random.permutation(key, x.shape[0])[: n_batches * batch_size]
        order = order.reshape(n_batches, batch_size)

        def step(carry, idx):
            params, opt_state = carry
            loss, grads = jax.value_and_grad(loss_fn)(params, x[idx], y[idx], w[idx])
            updates, opt_state = tx.update(grads, opt_state, params)
            return (optax.apply_updates(params, updates), opt_state), loss

        (params, opt_state), losses = jax.lax.scan(step, (params, opt_state), order)
        return params, opt_state, jnp.mean(losses)

    @jax.jit
    def evaluate(params, x, y, w):
        return loss_fn(params, x, y, w)

    return epoch, evaluate


def train_mlp(
    x: np.ndarray,
    y: np.ndarray,
    config: TrainConfig,
    weights: np.ndarray | None = None,
    description: str = "training",
    progress: bool = True,
) -> TrainResult:
    """Fit an MLP on scaled ``x`` [n, n_in] -> scaled ``y`` [n, n_out].

    ``weights`` [n, n_out] multiply each squared error (default 1; not used by
    a mixture head, whose last layer has ``K * (1 + 2 n_out)`` outputs, see
    ``surrogate.device.mixture``). Returns the parameters of the epoch with the
    lowest validation loss.
    """
    start = time.perf_counter()
    key = jax.random.key(config.seed)
    key, split_key, init_key = jax.random.split(key, 3)
    n = x.shape[0]
    w = np.ones_like(y) if weights is None else weights
    order = np.asarray(jax.random.permutation(split_key, n))
    n_val = max(1, int(round(config.validation_fraction * n)))
    val, train = order[:n_val], order[n_val:]
    xt, yt, wt = (jnp.asarray(a[train], jnp.float32) for a in (x, y, w))
    xv, yv, wv = (jnp.asarray(a[val], jnp.float32) for a in (x, y, w))
    batch = min(config.batch_size, len(train))
    n_batches = len(train) // batch

    k = config.mixture_components
    n_raw = raw_size(k, y.shape[1]) if k else y.shape[1]
    sizes = [x.shape[1], *config.hidden, n_raw]
    model = MLP(sizes, nnx.Rngs(params=init_key))
    graphdef, params = nnx.split(model, nnx.Param)
    schedule = optax.cosine_decay_schedule(
        config.learning_rate,
        config.max_epochs * n_batches,
        alpha=config.final_lr_fraction,
    )
    tx = optax.adam(schedule)
    if config.clip_norm > 0:
        tx = optax.chain(optax.clip_by_global_norm(config.clip_norm), tx)
    opt_state = tx.init(params)
    epoch_fn, evaluate = _make_epoch(graphdef, tx, n_batches, batch, k)

    best, best_params, best_epoch, history = np.inf, params, 0, []
    bar = tqdm(
        range(config.max_epochs), desc=description, disable=not progress, leave=False
    )
    for epoch in bar:
        key, epoch_key = jax.random.split(key)
        params, opt_state, train_loss = epoch_fn(
            params, opt_state, epoch_key, xt, yt, wt
        )
        val_loss = float(evaluate(params, xv, yv, wv))
        history.append((float(train_loss), val_loss))
        if val_loss < best:
            best, best_params, best_epoch = val_loss, params, epoch
        bar.set_postfix(train=f"{float(train_loss):.2e}", val=f"{val_loss:.2e}")
        if epoch - best_epoch >= config.patience:
            break
    bar.close()
    trained = nnx.merge(graphdef, best_params)
    return TrainResult(
        layers=trained.export(),
        best_val_loss=float(best),
        epochs=len(history),
        seconds=time.perf_counter() - start,
        history=history,
    )
