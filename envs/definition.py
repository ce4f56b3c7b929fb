"""The one definition of action scaling, observation, reward and targets.

Both the SPICE environments (``envs.spice_env``, ``envs.vector_env``, NumPy)
and the pure-JAX surrogate environment (issue 6) call these functions; every
function takes an array module ``xp`` (``numpy`` or ``jax.numpy``) and uses
only operations both provide, so the two stay identical (a parity test checks
it). Arrays may carry any leading batch axes ``[...]``.

Semantics follow GAC²E:

- an action in ``[-1, 1]^n`` maps to absolute parameters (linear or log per
  parameter, integers rounded, grid parameters snapped);
- the observation is ``[performance, target, distance, operating point]``,
  where distance = ``|target - performance| / |target|``;
- amplifiers are rewarded ``sum(tanh(d) * met - d**2 * (1 - met))``, the
  inverter chain and Schmitt trigger ``-sum(d)``; an episode terminates when
  every spec is met. A spec is met when the performance lies on the right side
  of a ``lower``/``upper`` bound, or, for point targets (nand4, st1, as
  GAC²E's ``==`` condition), within ``POINT_TOLERANCE`` of the target.

The AutoCkt-style variant (``grid_step``, ``grid_values``, ``autockt_reward``)
moves every parameter one step down, nowhere or up on a grid per step and is
rewarded only for shortfalls, never for overshooting a spec.

Figures that span decades (Hz, W, A, F, ...) enter the observation as
``log10(|x|)`` so that a float32 network sees numbers of order one. A figure
that a failed simulation did not produce is 0 in the observation and counts as
``FAIL_DISTANCE`` from its target (never NaN or inf), which is also the worst
reward a spec can give: a failed simulation is the worst outcome, not a crash.
"""

from __future__ import annotations

import numpy as np

# Action scaling lives with the parameter space in sim/; re-exported here so
# this module stays the one place the environments read their definition from.
from sim.parameter_space import (  # noqa: F401
    ActionScale,
    grid_values,
    scale_action,
)

FAIL_DISTANCE = 10.0  # distance of a missing figure; distances are clipped to it
POINT_TOLERANCE = 1e-2  # relative: a point target is met within 1 % (GAC²E)
TARGET_NOISE = 1e-2  # noisy_target: target * (1 + 1 % * N(0, 1)) (GAC²E)
AUTOCKT_SUCCESS_REWARD = 10.0  # AutoCkt's reward once every spec is met
LOG_UNITS = frozenset({"Hz", "W", "A", "F", "ohm", "V/s", "m²", "V/√Hz", "S", "m"})
OP_LOG_QUANTITIES = frozenset({"id", "gm", "gds", "fug"})
OP_QUANTITIES = ("gmoverid", "fug", "id", "gm", "gds", "vdsat", "region")


def grid_step(index, action, size, xp=np):
    """AutoCkt's move: indices ``[..., n]`` after actions ``[..., n]`` in {0, 1, 2}.

    0 steps down, 1 keeps, 2 steps up; indices stay in ``[0, size - 1]``
    (``size`` ``[n]``, the number of grid values per parameter).
    """
    moved = xp.asarray(index) + xp.asarray(action) - 1
    return xp.clip(moved, 0, xp.asarray(size) - 1).astype(xp.int32)


def log10_magnitude(x, xp=np):
    """``log10(|x|)`` (0 for 0): for figures spanning decades, whose sign is
    fixed per figure (a sunk current is always negative)."""
    magnitude = xp.abs(x)
    return xp.where(
        magnitude > 0, xp.log10(xp.where(magnitude > 0, magnitude, 1.0)), 0.0
    )


def distance(performance, target, xp=np):
    """``|target - performance| / |target|`` per spec ``[..., m]``, clipped.

    Missing figures (NaN) are ``FAIL_DISTANCE`` away.
    """
    d = xp.abs(target - performance) / xp.maximum(xp.abs(target), 1e-30)
    d = xp.where(xp.isfinite(performance), d, FAIL_DISTANCE)
    return xp.minimum(d, FAIL_DISTANCE)


def spec_met(performance, target, lower, xp=np, point=None):
    """Whether each spec is met ``[..., m]``.

    ``lower`` ``[m]``: performance >= target (else <=); ``point`` ``[m]``
    (optional): within ``POINT_TOLERANCE`` of the target instead.
    """
    finite = xp.isfinite(performance)
    met = xp.where(xp.asarray(lower), performance >= target, performance <= target)
    if point is not None:
        close = distance(performance, target, xp) <= POINT_TOLERANCE
        met = xp.where(xp.asarray(point), close, met)
    return met & finite


def reward(performance, target, lower, kind: str, xp=np, point=None):
    """GAC²E's reward of one step ``[...]`` (``kind``: ``"amplifier"`` or
    ``"distance"``); performance and target are ``[..., m]``."""
    d = distance(performance, target, xp)
    if kind == "distance":
        return -xp.sum(d, axis=-1)
    met = spec_met(performance, target, lower, xp, point)
    return xp.sum(xp.where(met, xp.tanh(d), -(d**2)), axis=-1)


def terminated(performance, target, lower, xp=np, point=None):
    """True ``[...]`` when every spec is met."""
    return xp.all(spec_met(performance, target, lower, xp, point), axis=-1)


def autockt_reward(performance, target, lower, xp=np, point=None):
    """AutoCkt's reward ``[...]``: the sum of normalised shortfalls, or
    ``AUTOCKT_SUCCESS_REWARD`` when every spec is met.

    Per spec the signed margin ``(p - t) / (|p| + |t|)`` (negated for upper
    bounds, ``-|p - t| / (|p| + |t|)`` for points) lies in [-1, 1]; only its
    negative part counts, so overshooting a spec is never punished. A missing
    figure counts -1. AutoCkt declares success within a summed shortfall of
    0.02; here success is every spec met, the same test as ``terminated``.
    """
    scale = xp.maximum(xp.abs(performance) + xp.abs(target), 1e-30)
    margin = (performance - target) / scale
    margin = xp.where(xp.asarray(lower), margin, -margin)
    if point is not None:
        margin = xp.where(xp.asarray(point), -xp.abs(margin), margin)
    margin = xp.where(xp.isfinite(performance), margin, -1.0)
    shortfall = xp.sum(xp.minimum(margin, 0.0), axis=-1)
    done = terminated(performance, target, lower, xp, point)
    return xp.where(done, AUTOCKT_SUCCESS_REWARD, shortfall)


def observation(
    figures, spec_index, target, operating_point, figure_log, target_log, op_log, xp=np
):
    """``[figures, targets, distances, operating point]`` as float32.

    figures ``[..., n_figures]`` (all performance figures), ``spec_index``
    ``[m]`` (which figures are specs), target ``[..., m]``, operating point
    ``[..., n_op]``; the ``*_log`` masks choose ``log10_magnitude`` per entry.
    """
    performance = xp.take(figures, xp.asarray(spec_index), axis=-1)
    parts = [
        xp.where(xp.asarray(figure_log), log10_magnitude(figures, xp), figures),
        xp.where(xp.asarray(target_log), log10_magnitude(target, xp), target),
        distance(performance, target, xp),
        xp.where(
            xp.asarray(op_log), log10_magnitude(operating_point, xp), operating_point
        ),
    ]
    out = xp.concatenate([xp.asarray(p, dtype=xp.float32) for p in parts], axis=-1)
    return xp.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0).astype(xp.float32)


def sample_target(u, picks, anchors, low, high, lower, log, xp=np):
    """Feasible targets ``[..., m]`` from uniforms.

    ``u`` ``[..., m]`` and ``picks`` (anchor index per target) come from the
    caller's random generator (``jax.random`` in both environments); anchors
    ``[n_anchors, m]`` are designs that meet every spec at its easy end (see
    ``sim.specs``). Per spec the target lies between the range's easy end and
    the anchor's own value, so the anchor meets it.
    """
    own = xp.take(xp.asarray(anchors), picks, axis=0)
    low, high, lower, log = (xp.asarray(a) for a in (low, high, lower, log))
    safe = lambda v: xp.where(log, xp.log(xp.maximum(v, 1e-300)), v)  # noqa: E731
    reach = xp.clip((safe(own) - safe(low)) / (safe(high) - safe(low)), 0.0, 1.0)
    position = xp.where(lower, u * reach, reach + u * (1.0 - reach))
    linear = low + position * (high - low)
    exponent = safe(low) + position * (safe(high) - safe(low))
    logarithmic = xp.exp(xp.where(log, exponent, 0.0))  # no overflow off-log
    return xp.where(log, logarithmic, linear)


def noisy_target(target, noise, xp=np):
    """GAC²E's noisy fixed target: ``target * (1 + TARGET_NOISE * noise)``,
    ``noise`` ``[..., m]`` standard normal draws."""
    return target * (1.0 + TARGET_NOISE * noise)
