"""Held-out accuracy of a circuit surrogate, in each figure's natural unit."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from surrogate.circuit.dataset import CircuitDataset
from surrogate.circuit.model import predict


def accuracy(fitted, data: CircuitDataset, index: np.ndarray) -> dict[str, dict]:
    """Per output: median and p95 error, and the share within 2 sigma.

    Errors are absolute in the output's model unit (dB, degrees, V, ...) and,
    for logged outputs, relative: ``|10**(y_hat - y) - 1|``.
    """
    weights = {k: jnp.asarray(v) for k, v in fitted.weights.items()}
    scale = getattr(fitted, "spread_scale", None)
    mean, spread, p_valid = predict(
        weights,
        jnp.asarray(fitted.mean, jnp.float32),
        jnp.asarray(fitted.std, jnp.float32),
        jnp.asarray(data.inputs[index], jnp.float32),
        None if scale is None else jnp.asarray(scale, jnp.float32),
    )
    mean, spread = np.asarray(mean), np.asarray(spread)
    truth = data.outputs[index]
    valid = data.valid[index]
    report = {}
    for k, name in enumerate(data.output_names):
        ok = valid & np.isfinite(truth[:, k])
        if ok.sum() < 5:
            continue
        diff = mean[ok, k] - truth[ok, k]
        within = float(np.mean(np.abs(diff) <= 2 * np.maximum(spread[ok, k], 1e-12)))
        entry = {
            "median_abs": float(np.median(np.abs(diff))),
            "p95_abs": float(np.percentile(np.abs(diff), 95)),
            "within_2_sigma": within,
            "n": int(ok.sum()),
        }
        if data.log_mask[k]:
            relative = np.abs(10.0**diff - 1.0)
            entry["median_rel"] = float(np.median(relative))
            entry["p95_rel"] = float(np.percentile(relative, 95))
        report[name] = entry
    predicted_valid = np.asarray(p_valid) > 0.5
    report["_validity"] = {
        "accuracy": float(np.mean(predicted_valid == valid)),
        "n": int(len(index)),
    }
    return report
