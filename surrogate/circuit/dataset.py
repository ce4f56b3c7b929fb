"""Training data for circuit surrogates: designs, their figures, validity.

Designs are drawn from a scrambled Sobol sequence over the action space (each
parameter on its own scale, integers and grids snapped), simulated through
``sim.sizing.simulator.Simulator`` (which serves repeats from the simulation store),
and turned into arrays in *model units*:
``log10(|x|)`` for figures spanning decades (their sign is fixed per figure
and kept aside), the value itself for dB, degrees, volts.

The ``definition`` arguments are any object with ``scale`` (a
``sim.sizing.parameter_space.ActionScale``), ``figures``, ``op_names``,
``figure_log`` and ``op_log`` — in practice ``sim.sizing.problem.SizingProblem``,
which this module does not import (the data flow runs sim -> surrogate ->
envs).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import qmc

from sim.sizing.parameter_space import ActionScale, scale_action

# A design counts as valid when it simulated and its op-amp figures exist.
REQUIRED_FINITE = ("a_0", "ugbw", "pm")


def feature_bounds(scale: ActionScale) -> tuple[np.ndarray, np.ndarray]:
    """SI bounds [n] of every parameter (grid parameters: their grid's ends)."""
    low = np.where(scale.is_grid, scale.grid.min(axis=1), scale.low)
    high = np.where(scale.is_grid, scale.grid.max(axis=1), scale.high)
    return low, high


def surrogate_features(params, scale: ActionScale, xp=np):
    """Inputs [..., n] of the surrogate: ``log(p)`` mapped to [0, 1] per parameter.

    Sizes, multipliers, capacitors and resistors all act multiplicatively, so
    every parameter enters on a log scale (all are positive).
    """
    low, high = feature_bounds(scale)
    log_low, log_high = xp.log(xp.asarray(low)), xp.log(xp.asarray(high))
    return (xp.log(xp.maximum(params, 1e-30)) - log_low) / (log_high - log_low)


def sobol_actions(n_params: int, n: int, seed: int) -> np.ndarray:
    """``n`` actions [n, n_params] in [-1, 1] from a scrambled Sobol sequence."""
    sampler = qmc.Sobol(d=n_params, scramble=True, seed=seed)
    m = math.ceil(math.log2(max(n, 2)))
    return 2.0 * sampler.random_base2(m)[:n] - 1.0


@dataclass(frozen=True)
class CircuitDataset:
    """Designs and outputs in model units.

    ``inputs`` [N, n] positions in [0, 1]; ``outputs`` [N, K] (NaN where a
    figure is missing); ``valid`` [N]; ``output_names`` the K names (figures,
    then operating-point entries); ``log_mask``/``sign`` [K] the transform.
    """

    params: np.ndarray
    inputs: np.ndarray
    outputs: np.ndarray
    valid: np.ndarray
    output_names: tuple[str, ...]
    log_mask: np.ndarray
    sign: np.ndarray


def output_names(definition) -> tuple[str, ...]:
    return definition.figures + definition.op_names


def output_log_mask(definition) -> np.ndarray:
    parts = [definition.figure_log, definition.op_log]  # either may be empty
    return np.concatenate([np.asarray(p, bool) for p in parts])


def to_model_units(raw: np.ndarray, log_mask: np.ndarray) -> np.ndarray:
    """``log10(|x|)`` where ``log_mask`` (NaN for 0 or missing), else ``x``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        logged = np.where(np.abs(raw) > 0, np.log10(np.abs(raw)), np.nan)
    return np.where(log_mask, logged, raw)


def build_dataset(definition, evaluations: Sequence) -> CircuitDataset:
    """Arrays from ``sim.sizing.simulator.Evaluation``s (any status)."""
    names = output_names(definition)
    log_mask = output_log_mask(definition)
    params = np.asarray(
        [[e.params[p] for p in definition.scale.names] for e in evaluations],
        dtype=np.float64,
    )
    raw = np.asarray(
        [[e.performance.get(k, np.nan) for k in names] for e in evaluations],
        dtype=np.float64,
    )
    figures = set(definition.figures)
    required = [names.index(r) for r in REQUIRED_FINITE if r in figures]
    valid = np.asarray([e.ok for e in evaluations])
    if required:
        valid &= np.all(np.isfinite(raw[:, required]), axis=1)
    with np.errstate(invalid="ignore"):
        sign = np.sign(np.nanmedian(np.where(valid[:, None], raw, np.nan), axis=0))
    sign = np.where(np.isfinite(sign) & (sign != 0), sign, 1.0)
    # a log figure whose sign flips can't be log-transformed: keep it linear
    flips = np.nanmax(np.where(valid[:, None], raw * sign < 0, False), axis=0)
    log_mask = log_mask & ~flips.astype(bool)
    return CircuitDataset(
        params=params,
        inputs=surrogate_features(params, definition.scale),
        outputs=to_model_units(raw, log_mask),
        valid=valid,
        output_names=names,
        log_mask=log_mask,
        sign=sign,
    )


def designs_from_actions(definition, actions: np.ndarray) -> list[dict]:
    """Designs (parameter dicts) for actions [N, n] in [-1, 1]."""
    params = scale_action(actions, definition.scale)
    return [
        dict(zip(definition.scale.names, map(float, row), strict=True))
        for row in params
    ]


def build_dataset_from_records(definition, records: Sequence[dict]) -> CircuitDataset:
    """``build_dataset`` from stored records ``{params, performance, status}``."""

    class _Record:
        def __init__(self, record: dict) -> None:
            self.params = record["params"]
            self.performance = {
                k: (np.nan if v is None else v)
                for k, v in record["performance"].items()
            }
            self.ok = record["status"] == "ok"

    return build_dataset(definition, [_Record(r) for r in records])
