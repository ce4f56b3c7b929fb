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
  every spec is met, and that step earns ``SUCCESS_BONUS`` on top (GAC²E's
  finish bonus, added by ``step_outcome``). A spec is met when the
  performance lies on the right side of a ``lower``/``upper`` bound, or, for
  point targets (nand4, st1, as GAC²E's ``==`` condition), within
  ``POINT_TOLERANCE`` of the target.

The AutoCkt-style variant (``grid_step``, ``grid_values``, ``autockt_reward``)
moves every parameter one step down, nowhere or up on a grid per step and is
rewarded only for shortfalls, never for overshooting a spec.

``step_outcome`` is the one wiring of these functions to a
``sim.sizing.problem.SizingProblem``: the SPICE environments (``envs.episodes``), the
JAX environment (``envs.surrogate_env``) and the PPO-on-SPICE baseline
(``train.spice_baseline``) all turn simulated figures into observation,
reward, termination and met specs through it.

Figures that span decades (Hz, W, A, F, ...) enter the observation as
``log10(|x|)`` so that a float32 network sees numbers of order one. A figure
that a failed simulation did not produce is 0 in the observation and counts as
``FAIL_DISTANCE`` from its target (never NaN or inf), which is also the worst
reward a spec can give: a failed simulation is the worst outcome, not a crash.

A target may leave a spec out (NaN: no requirement, issue 19): such a spec is
always met, at distance 0, and the observation shows the easy end of its
declared range in its place (``shown_target``).
"""

from __future__ import annotations

import numpy as np

# Action scaling lives with the parameter space in sim/; re-exported here so
# this module stays the one place the environments read their definition from.
from sim.sizing.parameter_space import (  # noqa: F401
    ActionScale,
    grid_values,
    scale_action,
)
from sim.sizing.problem import LOG_UNITS, OP_LOG_QUANTITIES, OP_QUANTITIES  # noqa: F401

FAIL_DISTANCE = 10.0  # distance of a missing figure; distances are clipped to it
POINT_TOLERANCE = 1e-2  # relative: a point target is met within 1 % (GAC²E)
TARGET_NOISE = 1e-2  # noisy_target: target * (1 + 1 % * N(0, 1)) (GAC²E)
AUTOCKT_SUCCESS_REWARD = 10.0  # AutoCkt's reward once every spec is met
# Added by ``step_outcome`` to the GAC²E rewards on a step that meets every
# spec (reward units): the per-step reward of met specs is positive, so
# without it ending an episode early would look like a loss to a learner.
# AutoCkt's reward carries its own success reward and gets no bonus.
SUCCESS_BONUS = 10.0


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

    Missing figures (NaN) are ``FAIL_DISTANCE`` away; a spec without a
    requirement (NaN target) is at distance 0.
    """
    d = xp.abs(target - performance) / xp.maximum(xp.abs(target), 1e-30)
    d = xp.where(xp.isfinite(performance), d, FAIL_DISTANCE)
    return xp.where(xp.isnan(target), 0.0, xp.minimum(d, FAIL_DISTANCE))


def spec_met(performance, target, lower, xp=np, point=None):
    """Whether each spec is met ``[..., m]``.

    ``lower`` ``[m]``: performance >= target (else <=); ``point`` ``[m]``
    (optional): within ``POINT_TOLERANCE`` of the target instead. A NaN
    target (no requirement) is always met.
    """
    finite = xp.isfinite(performance)
    met = xp.where(xp.asarray(lower), performance >= target, performance <= target)
    if point is not None:
        close = distance(performance, target, xp) <= POINT_TOLERANCE
        met = xp.where(xp.asarray(point), close, met)
    return (met & finite) | xp.isnan(target)


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
    margin = xp.where(xp.isnan(target), 0.0, margin)
    shortfall = xp.sum(xp.minimum(margin, 0.0), axis=-1)
    done = terminated(performance, target, lower, xp, point)
    return xp.where(done, AUTOCKT_SUCCESS_REWARD, shortfall)


def observation(
    figures,
    spec_index,
    target,
    operating_point,
    figure_log,
    target_log,
    op_log,
    xp=np,
    easy=None,
):
    """``[figures, targets, distances, operating point]`` as float32.

    figures ``[..., n_figures]`` (all performance figures), ``spec_index``
    ``[m]`` (which figures are specs), target ``[..., m]`` (NaN: no
    requirement, shown as ``easy`` ``[m]``, the box's easy ends, when given),
    operating point ``[..., n_op]``; the ``*_log`` masks choose
    ``log10_magnitude`` per entry.
    """
    performance = xp.take(figures, xp.asarray(spec_index), axis=-1)
    shown = target if easy is None else shown_target(target, easy, xp)
    parts = [
        xp.where(xp.asarray(figure_log), log10_magnitude(figures, xp), figures),
        xp.where(xp.asarray(target_log), log10_magnitude(shown, xp), shown),
        distance(performance, target, xp),
        xp.where(
            xp.asarray(op_log), log10_magnitude(operating_point, xp), operating_point
        ),
    ]
    out = xp.concatenate([xp.asarray(p, dtype=xp.float32) for p in parts], axis=-1)
    return xp.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0).astype(xp.float32)


def shown_target(target, easy, xp=np):
    """The target as observed ``[..., m]``: a spec without a requirement (NaN)
    shows the easy end ``easy`` ``[m]`` of its declared range."""
    return xp.where(xp.isnan(target), xp.asarray(easy, dtype=target.dtype), target)


def step_outcome(
    problem,
    figures,
    target,
    operating_point,
    xp=np,
    kind=None,
    success_bonus=SUCCESS_BONUS,
):
    """Observation, reward, termination and met specs of simulated figures.

    ``problem``: the ``sim.sizing.problem.SizingProblem`` (spec order and bounds,
    point targets, log masks, the box's easy ends, its ``reward_kind``);
    figures ``[..., n_figures]`` (NaN where missing), target ``[..., m]`` (NaN:
    no requirement), operating point ``[..., n_op]``. ``kind``: the reward,
    ``"amplifier"``/``"distance"`` or ``"autockt"`` (default: the problem's).
    ``success_bonus`` (reward units, a float or a scalar array) is added to
    the amplifier/distance reward of a step that meets every spec; AutoCkt's
    reward has its own success reward and takes none. This is the reward every
    environment returns and every learner sees (no trainer adds to it).
    Returns observation ``[..., obs]`` float32, reward ``[...]``, terminated
    ``[...]`` and met ``[..., m]``.
    """
    performance = xp.take(figures, xp.asarray(problem.spec_index), axis=-1)
    bounds = (performance, target, problem.lower)
    kind = problem.reward_kind if kind is None else kind
    done = terminated(*bounds, xp, point=problem.point)
    if kind == "autockt":
        step_reward = autockt_reward(*bounds, xp, point=problem.point)
    else:
        step_reward = reward(*bounds, kind, xp, point=problem.point)
        step_reward = step_reward + success_bonus * done
    obs = observation(
        figures,
        problem.spec_index,
        target,
        operating_point,
        problem.figure_log,
        problem.target_log,
        problem.op_log,
        xp,
        easy=problem.box.easy,
    )
    met = spec_met(*bounds, xp, point=problem.point)
    return obs, step_reward, done, met


def noisy_target(target, noise, xp=np):
    """GAC²E's noisy fixed target: ``target * (1 + TARGET_NOISE * noise)``,
    ``noise`` ``[..., m]`` standard normal draws."""
    return target * (1.0 + TARGET_NOISE * noise)
