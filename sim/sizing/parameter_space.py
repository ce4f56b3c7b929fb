"""A circuit's parameter space as arrays: the ``[-1, 1]`` action mapping.

Shared by the environments (``envs.definition`` re-exports it) and the
circuit surrogates (their inputs are the parameters an action maps to). Every
function takes an array module ``xp`` (``numpy`` or ``jax.numpy``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ActionScale:
    """How ``[-1, 1]`` actions map to parameters; arrays are ``[n_params]``.

    ``grid`` is ``[n_params, n_grid]``: for grid parameters the rounded
    value is an index into their row (``low`` = 0, ``high`` = n - 1). A
    parameter with ``low == high`` is fixed (``design_constraints``).
    """

    names: tuple[str, ...]
    low: np.ndarray
    high: np.ndarray
    log: np.ndarray  # bool
    integer: np.ndarray  # bool
    is_grid: np.ndarray  # bool
    grid: np.ndarray

    @classmethod
    def from_parameters(cls, parameters) -> ActionScale:
        """From ``sim.format.circuit.Parameter``s."""
        width = max([len(p.grid) for p in parameters] + [1])
        grid = np.zeros((len(parameters), width))
        low, high = [], []
        for k, p in enumerate(parameters):
            if p.kind == "grid":
                grid[k, : len(p.grid)] = p.grid
                grid[k, len(p.grid) :] = p.grid[-1]
                low.append(0.0)
                high.append(float(len(p.grid) - 1))
            else:
                low.append(p.low)
                high.append(p.high)
        return cls(
            names=tuple(p.name for p in parameters),
            low=np.asarray(low),
            high=np.asarray(high),
            log=np.asarray([p.scale == "log" and p.kind != "grid" for p in parameters]),
            integer=np.asarray([p.kind in ("integer", "grid") for p in parameters]),
            is_grid=np.asarray([p.kind == "grid" for p in parameters]),
            grid=grid,
        )


def scale_action(action, scale: ActionScale, xp=np):
    """Parameters (SI) ``[..., n]`` of actions ``[..., n]`` in [-1, 1]."""
    u = (xp.clip(action, -1.0, 1.0) + 1.0) / 2.0
    low, high = xp.asarray(scale.low), xp.asarray(scale.high)
    safe_low = xp.where(xp.asarray(scale.log), low, 1.0)
    safe_high = xp.where(xp.asarray(scale.log), high, 1.0)
    logarithmic = xp.exp(xp.log(safe_low) + u * (xp.log(safe_high) - xp.log(safe_low)))
    value = xp.where(xp.asarray(scale.log), logarithmic, low + u * (high - low))
    value = xp.where(xp.asarray(scale.integer), xp.round(value), value)
    value = xp.clip(value, low, high)
    return grid_values(value, scale.grid, xp, where=scale.is_grid)


def grid_values(index, grid, xp=np, where=None):
    """Values ``[..., n]`` of grid indices ``[..., n]`` (rows of ``grid``).

    ``grid`` is ``[n, n_grid]``; with ``where`` (bool ``[n]``) only those
    entries are looked up and the others pass through unchanged.
    """
    rows = xp.asarray(grid)
    position = xp.clip(index, 0, rows.shape[1] - 1).astype(xp.int32)
    looked_up = xp.take_along_axis(
        xp.broadcast_to(rows, position.shape + (rows.shape[1],)),
        position[..., None],
        axis=-1,
    )[..., 0]
    if where is None:
        return looked_up
    return xp.where(xp.asarray(where), looked_up, index)


def relaxed_params(action, scale: ActionScale, xp=np):
    """Parameters ``[..., n]`` of actions ``[..., n]`` without snapping.

    The continuous relaxation of ``scale_action`` for gradient search:
    integers are not rounded, and a grid parameter's fractional index lies
    between its neighbouring grid values (geometrically, as grids of sizes
    and capacitors are). ``scale_action`` of the same action gives the valid
    design nearest to it.
    """
    u = (xp.clip(action, -1.0, 1.0) + 1.0) / 2.0
    low, high = xp.asarray(scale.low), xp.asarray(scale.high)
    log = xp.asarray(scale.log)
    safe_low = xp.where(log, low, 1.0)
    safe_high = xp.where(log, high, 1.0)
    logarithmic = xp.exp(xp.log(safe_low) + u * (xp.log(safe_high) - xp.log(safe_low)))
    value = xp.where(log, logarithmic, low + u * (high - low))
    rows = xp.asarray(scale.grid)
    top = rows.shape[1] - 1
    index = xp.clip(value, 0.0, top)
    below = xp.clip(xp.floor(index), 0, max(top - 1, 0)).astype(xp.int32)
    above = xp.minimum(below + 1, top)
    fraction = index - below
    grid_rows = xp.broadcast_to(rows, below.shape + (rows.shape[1],))
    g0 = xp.take_along_axis(grid_rows, below[..., None], axis=-1)[..., 0]
    g1 = xp.take_along_axis(grid_rows, above[..., None], axis=-1)[..., 0]
    positive = (g0 > 0) & (g1 > 0)
    ratio = xp.where(positive, g1 / xp.where(positive, g0, 1.0), 1.0)
    between = xp.where(positive, g0 * ratio**fraction, g0 + fraction * (g1 - g0))
    return xp.where(xp.asarray(scale.is_grid), between, value)


def action_of(params: np.ndarray, scale: ActionScale) -> np.ndarray:
    """The action ``[..., n]`` in [-1, 1] that ``scale_action`` maps to the
    valid parameters ``params`` ``[..., n]`` (SI) (NumPy)."""
    params = np.asarray(params, np.float64)
    value = params.copy()
    if scale.is_grid.any():
        grid = np.broadcast_to(scale.grid, params.shape + (scale.grid.shape[1],))
        nearest = np.abs(grid - params[..., None]).argmin(axis=-1).astype(np.float64)
        value = np.where(scale.is_grid, nearest, value)
    span = np.where(scale.high > scale.low, 1.0, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_u = np.log(value / scale.low) / np.log(scale.high / scale.low)
        lin_u = (value - scale.low) / (scale.high - scale.low)
    u = np.where(scale.log, log_u, lin_u) * span
    return np.clip(2.0 * np.nan_to_num(u) - 1.0, -1.0, 1.0)
