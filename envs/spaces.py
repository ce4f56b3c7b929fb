"""Finite observation bounds, shared by every environment (SPICE and surrogate).

``envs.definition.observation`` already turns NaN and inf into 0 and clips
distances to ``FAIL_DISTANCE``; the environments then clip every entry to
the bounds below, so ``observation_space`` is a finite ``Box`` that really
contains every observation:

- ``distance_<spec>``: ``[0, FAIL_DISTANCE]`` (``[0, 10]``);
- every other entry (figures, targets, operating points; log10 magnitudes
  and linear dB, degrees, %, volts, seconds): ``[-OBSERVATION_LIMIT,
  OBSERVATION_LIMIT]`` (``±1e6``). A log10 magnitude of any float32 lies
  within ±46, and the linear figures of the built-in circuits within a few
  hundred, so the clip only touches pathological values (a gm/Id of a device
  carrying no current, a custom circuit's runaway figure).
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from envs.definition import FAIL_DISTANCE

OBSERVATION_LIMIT = 1e6


def observation_bounds(problem) -> tuple[np.ndarray, np.ndarray]:
    """``(low, high)`` ``[obs]`` float32 of a ``sim.sizing.problem.SizingProblem``'s
    observation (its ``observation_layout``)."""
    size = problem.observation_size
    low = np.full(size, -OBSERVATION_LIMIT, np.float32)
    high = np.full(size, OBSERVATION_LIMIT, np.float32)
    start = len(problem.figures) + len(problem.specs)  # after figures, targets
    distances = slice(start, start + len(problem.specs))
    low[distances] = 0.0
    high[distances] = FAIL_DISTANCE
    return low, high


def observation_space(problem) -> gym.spaces.Box:
    """The finite ``Box`` of ``observation_bounds``."""
    low, high = observation_bounds(problem)
    return gym.spaces.Box(low, high, low.shape, np.float32)


def clip_observation(observation, low, high, xp=np):
    """``observation`` ``[..., obs]`` clipped to ``[low, high]``, float32."""
    return xp.clip(observation, low, high).astype(xp.float32)
