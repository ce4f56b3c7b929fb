"""jaxsizer's public API under one name; ``python -m jaxsizer`` is the
``jaxsizer`` command.

    import jaxsizer

    with jaxsizer.Simulator("op2", "sky130") as simulator:
        results = simulator.simulate([{"Wdp1": 10e-6}])
    env = jaxsizer.make_env("jaxsizer/op2-generic-geometric-v0")   # gymnasium
    env, params = jaxsizer.make_gymnax("jaxsizer/op2-sky130-surrogate-v0")
    summary = jaxsizer.train(run="runs/op2", env="jaxsizer/op2-sky130-v1")
    sized = jaxsizer.size("runs/op2", "a_0>=40dB ugbw>=10MHz")

Importing this package is cheap: every name below is imported when first
used, and always from this installation (``jaxsizer.layers``), so a script
in a folder holding its own ``envs/``, ``sim.py`` or ``train.py`` still gets
jaxsizer's. Names:

- ``Simulator`` (``sim.sizing.simulator``), ``load_circuit`` (``sim.format.circuit``),
  ``load_technology`` (``sim.format.technology``);
- ``make_env``, ``make_vec``, ``make_gymnax``, ``env_ids``
  (``jaxsizer.api``: gymnasium and gymnax environments);
- ``train``, ``size`` (``jaxsizer.api``: ``python -m train`` and
  ``python -m train.size`` as functions), ``TrainedSizer`` (``train.sizing``);
- ``main`` (``jaxsizer.command``: the command line as a function).
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "Simulator",
    "TrainedSizer",
    "env_ids",
    "load_circuit",
    "load_technology",
    "main",
    "make_env",
    "make_gymnax",
    "make_vec",
    "size",
    "train",
]

# name -> (module, attribute); modules outside jaxsizer are pinned first
_LAZY = {
    "Simulator": ("sim.sizing.simulator", "Simulator"),
    "load_circuit": ("sim.format.circuit", "load_circuit"),
    "load_technology": ("sim.format.technology", "load_technology"),
    "TrainedSizer": ("train.sizing", "TrainedSizer"),
    "make_env": ("jaxsizer.api", "make_env"),
    "make_vec": ("jaxsizer.api", "make_vec"),
    "make_gymnax": ("jaxsizer.api", "make_gymnax"),
    "env_ids": ("jaxsizer.api", "env_ids"),
    "train": ("jaxsizer.api", "train"),
    "size": ("jaxsizer.api", "size"),
    "main": ("jaxsizer.command", "main"),
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'jaxsizer' has no attribute {name!r}")
    from jaxsizer.layers import layers_of, pin

    module, attribute = _LAZY[name]
    pin(layers_of(module))
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
