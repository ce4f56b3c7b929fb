"""The MLP as plain arrays: evaluation and the ``weights.npz`` file format.

A network is a list of ``(kernel [n_in, n_out], bias [n_out])`` float32 pairs;
hidden layers use SiLU, the last layer is linear. This module is all a loader
needs: it does not import flax or optax.
"""

from __future__ import annotations

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

Layers = list[tuple[jax.Array, jax.Array]]


def mlp_apply(layers: Layers, x: jax.Array) -> jax.Array:
    """Evaluate the MLP on ``x`` [batch, n_in] (scaled inputs) -> [batch, n_out]."""
    for kernel, bias in layers[:-1]:
        x = jax.nn.silu(x @ kernel + bias)
    kernel, bias = layers[-1]
    return x @ kernel + bias


def save_layers(path: str | Path, layers: Layers) -> None:
    """Write ``layer<i>_kernel`` / ``layer<i>_bias`` arrays (float32) to an npz."""
    arrays = {}
    for i, (kernel, bias) in enumerate(layers):
        arrays[f"layer{i}_kernel"] = np.asarray(kernel, np.float32)
        arrays[f"layer{i}_bias"] = np.asarray(bias, np.float32)
    np.savez_compressed(Path(path), **arrays)


def load_layers(path: str | Path) -> Layers:
    """Read what ``save_layers`` wrote, as jax arrays."""
    with np.load(Path(path), allow_pickle=False) as npz:
        n = len([k for k in npz.files if k.endswith("_kernel")])
        return [
            (jnp.asarray(npz[f"layer{i}_kernel"]), jnp.asarray(npz[f"layer{i}_bias"]))
            for i in range(n)
        ]


def layer_sizes(layers: Layers) -> list[int]:
    """``[n_in, hidden..., n_out]``."""
    return [int(layers[0][0].shape[0])] + [int(k.shape[1]) for k, _ in layers]
