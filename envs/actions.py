"""Action spaces: how an action becomes a design (circuit parameters).

``GeometricActions`` (v1, GAC²E): ``Box(-1, 1, (n,))`` scaled onto W, L, M
(and R, C) through ``envs.definition.scale_action``. ``GridActions``
(AutoCkt): ``MultiDiscrete([3] * n)``, every parameter steps down, stays or
steps up on its grid (``envs.definition.grid_step``). The electrical v0 space
lives in ``envs.electrical``. Each action map turns a batch of actions
``[B, n_actions]`` and its per-env state ``[B, n_state]`` into designs
``[B, n_params]`` (the circuit's parameter order, SI units).
"""

from __future__ import annotations

from collections.abc import Sequence

import gymnasium as gym
import numpy as np

from envs import definition as d
from sim.errors import UserInputError
from sim.format.circuit import Parameter

AUTOCKT_REAL_STEPS = 33  # grid points of a continuous parameter (its scale)


def check_box_actions(actions, shape: tuple[int, ...]) -> np.ndarray:
    """Actions as float64 ``shape``, or a ``UserInputError`` naming the problem."""
    array = np.asarray(actions)
    if array.shape != shape:
        raise UserInputError(f"action must have shape {shape}, got {array.shape}")
    if not np.issubdtype(array.dtype, np.floating):
        raise UserInputError(
            f"action must be floating point (float32), got dtype {array.dtype}"
        )
    if not np.all(np.isfinite(array)):
        raise UserInputError("action contains NaN or inf")
    return array.astype(np.float64)


class GeometricActions:
    """v1: ``[-1, 1]^n`` onto the circuit's parameters (no state)."""

    variant = "v1"

    def __init__(self, parameters: Sequence[Parameter]) -> None:
        self.parameters = tuple(parameters)
        self.scale = d.ActionScale.from_parameters(self.parameters)
        self.space = gym.spaces.Box(-1.0, 1.0, (len(self.parameters),), np.float32)

    def check(self, actions, batch: tuple[int, ...] = ()) -> np.ndarray:
        return check_box_actions(actions, batch + self.space.shape)

    def initial_state(self, design: np.ndarray) -> np.ndarray:
        """State ``[0]`` of an episode starting at ``design`` ``[n_params]``."""
        return np.zeros(0, np.int32)

    def designs(
        self, actions: np.ndarray, state: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Designs ``[B, n_params]`` and the next state for actions ``[B, n]``."""
        return d.scale_action(actions, self.scale), state


def parameter_grid(p: Parameter, steps: int = AUTOCKT_REAL_STEPS) -> np.ndarray:
    """AutoCkt's grid of one parameter: its grid, every integer, or ``steps``
    points on its scale (log or linear)."""
    if p.kind == "grid":
        return np.asarray(p.grid, dtype=np.float64)
    if p.low == p.high:
        return np.asarray([p.low])
    if p.kind == "integer":
        return np.arange(p.low, p.high + 1.0)
    if p.scale == "log":
        return np.geomspace(p.low, p.high, steps)
    return np.linspace(p.low, p.high, steps)


class GridActions:
    """AutoCkt: per parameter 0 = step down, 1 = keep, 2 = step up on its grid.

    The state is the grid index ``[n]`` of every parameter; an episode starts
    at the grid point nearest the circuit's default design.
    """

    variant = "autockt"

    def __init__(self, parameters: Sequence[Parameter]) -> None:
        self.parameters = tuple(parameters)
        grids = [parameter_grid(p) for p in self.parameters]
        self.size = np.asarray([len(g) for g in grids], np.int32)
        self.grid = np.stack(
            [np.pad(g, (0, self.size.max() - len(g)), mode="edge") for g in grids]
        )
        self.scale = d.ActionScale.from_parameters(self.parameters)
        self.space = gym.spaces.MultiDiscrete(np.full(len(self.parameters), 3))

    def check(self, actions, batch: tuple[int, ...] = ()) -> np.ndarray:
        shape = batch + self.space.shape
        array = np.asarray(actions)
        if array.shape != shape:
            raise UserInputError(f"action must have shape {shape}, got {array.shape}")
        if not np.issubdtype(array.dtype, np.integer):
            raise UserInputError(
                f"action must be integers in {{0, 1, 2}}, got dtype {array.dtype}"
            )
        if array.size and (array.min() < 0 or array.max() > 2):
            raise UserInputError(
                "action entries must be 0 (down), 1 (keep) or 2 (up), "
                f"got values in [{array.min()}, {array.max()}]"
            )
        return array.astype(np.int32)

    def initial_state(self, design: np.ndarray) -> np.ndarray:
        """Grid indices ``[n]`` nearest to ``design`` ``[n_params]``."""
        distance = np.abs(self.grid - np.asarray(design)[:, None])
        return np.argmin(distance, axis=1).astype(np.int32)

    def designs(
        self, actions: np.ndarray, state: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        index = d.grid_step(state, actions, self.size)
        return d.grid_values(index, self.grid), index
