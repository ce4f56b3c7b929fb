"""Where device models live and how their ``model.json`` is read and written.

A model directory ``<models>/<tech>/<device>/`` (the user's or the shipped
models, see ``surrogate.model_paths``) holds (see README.md beside this file):
``model.json``, ``weights.npz`` (inverse network), ``scale.X`` and ``scale.Y``
(its scikit-learn MinMaxScalers, joblib), ``forward.npz`` (forward network),
and optionally ``sweep.npz`` (the reference-width lookup table).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.errors import UserInputError
from sim.paths import cache_dir
from surrogate.device.mlp import Layers, load_layers
from surrogate.model_paths import find_model

MODEL_FORMAT = "jaxsizer-device-model/2"
READABLE_FORMATS = ("jaxsizer-device-model/1", MODEL_FORMAT)
"""/2 added the inverse network's mixture head and its ``log10(l)`` column;
/1 files (a point regression onto ``l``) still load."""


def model_dir(tech: str, device: str, root: Path | None = None) -> Path:
    """``<root>/<tech>/<device>``; without ``root`` the user's fitted model if
    there is one, else the shipped one (``surrogate.model_paths``)."""
    if root is not None:
        return Path(root) / tech / device
    return find_model(tech, device, "model.json")


def sweep_cache_dir() -> Path:
    """``$JAXSIZER_CACHE/sweeps``, else ``$JAXSIZER_HOME/cache/sweeps``."""
    return cache_dir() / "sweeps"


@dataclass(frozen=True)
class Network:
    """One MLP with its MinMax scaling: raw inputs -> raw outputs."""

    layers: Layers
    x_min: np.ndarray
    x_max: np.ndarray
    y_min: np.ndarray
    y_max: np.ndarray
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    mixture_components: int = 0  # 0: the last layer is the (scaled) output


def network_entry(
    file: str, layers: list[int], x_scaler, y_scaler, inputs, outputs, **extra
) -> dict:
    """The ``model.json`` description of one network."""
    return {
        "file": file,
        "layers": layers,
        "activation": "silu",
        "inputs": list(inputs),
        "outputs": list(outputs),
        "x_min": x_scaler.data_min_.tolist(),
        "x_max": x_scaler.data_max_.tolist(),
        "y_min": y_scaler.data_min_.tolist(),
        "y_max": y_scaler.data_max_.tolist(),
        **extra,
    }


def read_model_json(directory: Path) -> dict:
    path = directory / "model.json"
    if not path.is_file():
        raise UserInputError(
            f"no device model at {directory}; train one with "
            f"`python -m surrogate.fit device --tech {directory.parent.name} "
            f"--device {directory.name}`"
        )
    meta = json.loads(path.read_text())
    if meta.get("format") not in READABLE_FORMATS:
        raise UserInputError(f"{path}: unsupported format {meta.get('format')!r}")
    return meta


def load_network(directory: Path, entry: dict) -> Network:
    return Network(
        layers=load_layers(directory / entry["file"]),
        x_min=np.asarray(entry["x_min"], np.float64),
        x_max=np.asarray(entry["x_max"], np.float64),
        y_min=np.asarray(entry["y_min"], np.float64),
        y_max=np.asarray(entry["y_max"], np.float64),
        inputs=tuple(entry["inputs"]),
        outputs=tuple(entry["outputs"]),
        mixture_components=int(entry.get("head", {}).get("components", 0)),
    )
