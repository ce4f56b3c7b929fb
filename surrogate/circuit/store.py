"""Saving and loading circuit surrogates (``<models>/<tech>/<circuit>/``, the
user's or the shipped models: ``surrogate.model_paths``).

Files: ``weights.npz`` (arrays w1, b1, w2, b2, w3, b3 of the ensemble, see
``surrogate.circuit.model``), optionally ``fast.npz`` (the same arrays for the
one-member network distilled from it, ``surrogate.circuit.distill``) and
optionally ``physics.npz`` (the device forward networks behind the ensemble's
physics inputs, ``surrogate.circuit.physics``), and ``surrogate.json`` (output
names, transform masks and signs, standardisation, the spread's calibration,
the physics inputs' scaling, circuit fingerprint, technology, corner, sample
count, date, accuracy). Loading needs neither the training code nor
the simulator.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from pathlib import Path

import jax.numpy as jnp
import numpy as np

from surrogate.circuit.model import surrogate_arrays
from surrogate.model_paths import find_model


@dataclass(frozen=True)
class CircuitSurrogate:
    """A loaded surrogate: pure arrays, ready for ``surrogate.circuit.model``."""

    weights: dict[str, jnp.ndarray]
    mean: jnp.ndarray
    std: jnp.ndarray
    log_mask: jnp.ndarray
    sign: jnp.ndarray
    output_names: tuple[str, ...]
    meta: dict
    spread_scale: jnp.ndarray | None = None  # [K] calibration of the spread
    fast_weights: dict[str, jnp.ndarray] | None = None  # distilled network
    physics: object | None = None  # the ensemble's surrogate.circuit.physics inputs

    def predict(self, x):
        """Raw figures, calibrated spread (model units) and validity for
        ``surrogate_features`` [B, n], from the ensemble."""
        from surrogate.circuit.model import from_model_units, predict
        from surrogate.circuit.physics import physics_inputs

        if self.physics is not None:
            x = physics_inputs(self.physics, x)
        y, spread, p_valid = predict(
            self.weights, self.mean, self.std, x, self.spread_scale
        )
        return from_model_units(y, self.log_mask, self.sign), spread, p_valid


def surrogate_dir(technology: str, circuit: str, root: Path | None = None) -> Path:
    """``<root>/<technology>/<circuit>``; without ``root`` the user's fitted
    surrogate if there is one, else the shipped one (``surrogate.model_paths``);
    write a new fit to ``surrogate.model_paths.output_dir``."""
    if root is not None:
        return Path(root) / technology / circuit
    return find_model(technology, circuit, "surrogate.json")


def _write_optional(path: Path, arrays: dict | None) -> None:
    """``arrays`` (float32) to the npz ``path``; None removes ``path``."""
    if arrays is not None:
        np.savez_compressed(
            path, **{k: np.asarray(v, np.float32) for k, v in arrays.items()}
        )
    elif path.exists():
        path.unlink()


def save_surrogate(
    directory: Path,
    fitted,
    dataset,
    meta: dict,
    distilled: dict | None = None,
    physics=None,
) -> None:
    """Write ``weights.npz`` (and ``fast.npz`` for ``distilled`` weights,
    ``physics.npz`` for the ensemble's ``physics`` inputs) and
    ``surrogate.json`` into ``directory``."""
    from surrogate.circuit.physics import physics_to_files

    directory.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        directory / "weights.npz",
        **{k: np.asarray(v, np.float32) for k, v in fitted.weights.items()},
    )
    # optional files: written when given, else a stale one of an older fit goes
    physics_meta, physics_arrays = (
        (None, None) if physics is None else physics_to_files(physics)
    )
    _write_optional(directory / "fast.npz", distilled)
    _write_optional(directory / "physics.npz", physics_arrays)
    scale = getattr(fitted, "spread_scale", None)
    info = {
        **meta,
        "created": datetime.datetime.now().isoformat(timespec="seconds"),
        "output_names": list(dataset.output_names),
        "log_mask": [bool(v) for v in dataset.log_mask],
        "sign": [float(v) for v in dataset.sign],
        "mean": [float(v) for v in fitted.mean],
        "std": [float(v) for v in fitted.std],
        "spread_scale": None if scale is None else [float(v) for v in scale],
        "physics": physics_meta,
        "samples": int(len(dataset.inputs)),
        "epochs": int(fitted.epochs),
        "fit_seconds": float(fitted.seconds),
    }
    (directory / "surrogate.json").write_text(json.dumps(info, indent=1) + "\n")


def load_surrogate(directory: Path) -> CircuitSurrogate:
    """Load a surrogate written by ``save_surrogate``."""
    meta = json.loads((directory / "surrogate.json").read_text())
    with np.load(directory / "weights.npz") as data:
        weights = {k: jnp.asarray(data[k]) for k in data.files}
    fast_weights = None
    if (directory / "fast.npz").is_file():
        with np.load(directory / "fast.npz") as data:
            fast_weights = {k: jnp.asarray(data[k]) for k in data.files}
    physics = None
    if meta.get("physics") is not None:
        from surrogate.circuit.physics import physics_from_files

        with np.load(directory / "physics.npz") as data:
            physics = physics_from_files(meta["physics"], data)
    scale = meta.get("spread_scale")
    return CircuitSurrogate(
        weights=weights,
        mean=jnp.asarray(meta["mean"], jnp.float32),
        std=jnp.asarray(meta["std"], jnp.float32),
        log_mask=jnp.asarray(meta["log_mask"]),
        sign=jnp.asarray(meta["sign"], jnp.float32),
        output_names=tuple(meta["output_names"]),
        meta=meta,
        spread_scale=None if scale is None else jnp.asarray(scale, jnp.float32),
        fast_weights=fast_weights,
        physics=physics,
    )


def load_surrogate_arrays(directory: Path) -> dict:
    """The saved surrogate of ``directory`` as the one pytree it is used
    through (``surrogate.circuit.model.surrogate_arrays``)."""
    loaded = load_surrogate(directory)
    return surrogate_arrays(
        loaded.weights,
        loaded.mean,
        loaded.std,
        loaded.log_mask,
        loaded.sign,
        loaded.spread_scale,
        loaded.physics,
    )
