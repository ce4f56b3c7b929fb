"""Where trained models are read from and written to.

A model is a directory ``<root>/<tech>/<name>/``: a device's networks
(``surrogate.device.model_file``) or a circuit's surrogate
(``surrogate.circuit.store``). Two roots, read in this order:

1. the user's models, ``$JAXSIZER_MODELS`` or ``$JAXSIZER_HOME/models``
   (``sim.paths.user_models_dir``): everything ``python -m surrogate.fit``
   writes;
2. the shipped models, the top-level ``models/`` next to ``surrogate/``
   (in a source checkout, and in the wheel, which installs it as package
   data beside the packages; read-only: nothing at runtime writes there).

So a model the user fitted shadows the shipped one of the same name. To
refresh a shipped model in a source checkout, fit with ``--out`` (or
``JAXSIZER_MODELS``) pointing at ``models``.
"""

from __future__ import annotations

from pathlib import Path

from sim.paths import user_models_dir

# located by path, never imported: ``models`` is too generic a name to import
SHIPPED_MODELS = Path(__file__).resolve().parent.parent / "models"


def model_roots() -> tuple[Path, ...]:
    """The roots a model is looked up in, first match wins."""
    return (user_models_dir(), SHIPPED_MODELS)


def find_model(tech: str, name: str, marker: str) -> Path:
    """``<root>/<tech>/<name>`` of the first root where it holds the file
    ``marker`` (``model.json``, ``surrogate.json``); the user's (where a fit
    would write it) when no root does."""
    for root in model_roots():
        if (root / tech / name / marker).is_file():
            return root / tech / name
    return user_models_dir() / tech / name


def output_dir(tech: str, name: str, root: Path | None = None) -> Path:
    """Where a fit writes the model ``<tech>/<name>``: under ``root`` when
    given, else under the user's models."""
    return (root or user_models_dir()) / tech / name
