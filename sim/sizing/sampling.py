"""Random designs over a circuit's parameter space."""

from __future__ import annotations

import numpy as np

from sim.format.circuit import Circuit


def random_designs(circuit: Circuit, n: int, seed: int = 0) -> list[dict[str, float]]:
    """``n`` designs drawn uniformly on each parameter's scale (log or linear).

    Integer and grid parameters snap to valid values; the same seed gives the
    same designs.
    """
    rng = np.random.default_rng(seed)
    units = rng.random((n, len(circuit.parameters)))
    return [
        {
            p.name: p.from_unit(float(u))
            for p, u in zip(circuit.parameters, row, strict=True)
        }
        for row in units
    ]
