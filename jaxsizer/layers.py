"""The project's top-level packages, resolved from this installation only.

jaxsizer's layers are top-level packages with generic names (``sim``,
``surrogate``, ``envs``, ``train``, ``benchmarks``). Python looks a name up
on ``sys.path`` in order, and a script's folder (or the current one, for
``python -m``) comes first, so a user's own ``envs/`` or ``train.py`` would
be imported in their place. ``pin(names)`` imports each named package from
the folder that holds this ``jaxsizer`` package (``ROOT``), putting it first
on ``sys.path`` only for that import; once a package is in ``sys.modules``
its submodules follow its own ``__path__``, so the rest of jaxsizer's
imports reach the right files. A module of the same name imported before
from elsewhere cannot be replaced: ``pin`` refuses it in one line.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # holds sim/, envs/, train/, ...
LAYERS = ("sim", "surrogate", "envs", "train", "benchmarks")


class ShadowedError(ImportError):
    """A top-level name jaxsizer needs is taken by another module."""


def _is_ours(module) -> bool:
    paths = [getattr(module, "__file__", None), *getattr(module, "__path__", [])]
    return any(p and Path(p).resolve().is_relative_to(ROOT) for p in paths)


def pin(names: tuple[str, ...] = LAYERS) -> None:
    """Import the top-level packages ``names`` from ``ROOT`` (no-op for those
    already imported from there); ``ShadowedError`` when another module of
    that name is already imported."""
    for name in names:
        module = sys.modules.get(name)
        if module is None:
            sys.path.insert(0, str(ROOT))
            try:
                module = importlib.import_module(name)
            finally:
                sys.path.remove(str(ROOT))
        if not _is_ours(module):
            where = getattr(module, "__file__", None) or list(
                getattr(module, "__path__", [])
            )
            raise ShadowedError(
                f"the module {name!r} imported from {where} is not jaxsizer's "
                f"(which is in {ROOT}): rename your module {name!r} or import "
                "jaxsizer before it"
            )


def layers_of(module: str) -> tuple[str, ...]:
    """The layers a module of layer ``module.split('.')[0]`` may import:
    that one and every lower layer."""
    top = module.split(".")[0]
    return LAYERS[: LAYERS.index(top) + 1] if top in LAYERS else ()
