"""Search on the differentiable surrogate: designs predicted to meet a target.

For every (target, start) pair, gradient ascent (optax Adam) on a smooth
minimum of the predicted spec margins (``TargetBox.margin``: positive where a
spec is met, in units of the box's width) over the continuous relaxation of
the parameter space (``sim.sizing.parameter_space.relaxed_params``: integers and
grid values between their neighbours). Margins are taken pessimistically, at
the ensemble mean minus ``caution`` calibrated spreads in the direction that
hurts, so the search stays where the surrogate is trusted. A trust region
(``SearchConfig.radius``) keeps every start within a box around where it
began (TuRBO-style local refinement). Every start is
then snapped to a valid design and scored with the hard minimum margin; the
caller keeps the best start per target.

A *correction* re-anchors the surrogate on designs ngspice has verified: the
difference between SPICE's figures and the prediction at a verified design
is added to predictions near it (a Gaussian kernel in feature space), which
is how sizing-time refinement uses what ngspice just returned.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import optax

from sim.format.targets import NO_REQUIREMENT
from sim.sizing.parameter_space import relaxed_params, scale_action
from sim.sizing.problem import SizingProblem
from surrogate.circuit.dataset import surrogate_features
from surrogate.circuit.model import from_model_units, predict_arrays


@dataclass(frozen=True)
class SearchConfig:
    """Settings of the surrogate search (margins in ``TargetBox`` units)."""

    steps: int = 120  # Adam steps per start
    learning_rate: float = 0.05  # in action units ([-1, 1] per parameter)
    temperature: float = 0.02  # of the smooth minimum over specs
    caution: float = 1.0  # margins at mean -/+ caution x calibrated spread
    # (negative: optimistic, the figures |caution| spreads on their good side)
    validity_weight: float = 2.0  # penalty per unit of validity below 0.9
    correction_length: float = 0.1  # feature-space reach of a verified point
    radius: float = 0.0  # trust region: each start moves at most this far
    # (action units, per parameter); 0: anywhere in [-1, 1]


def empty_correction(targets: int, n_params: int, n_specs: int) -> dict:
    """A correction with no verified point for ``targets`` targets."""
    return {
        "features": np.zeros((targets, 1, n_params), np.float32),
        "bias": np.zeros((targets, 1, n_specs), np.float32),
        "weight": np.zeros((targets, 1), np.float32),
    }


def make_search(problem: SizingProblem, config: SearchConfig = SearchConfig()):
    """``search(arrays, targets [T, m], starts [T, S, n], correction) -> dict``.

    ``arrays``: ``surrogate.circuit.model.surrogate_arrays``; ``starts`` are
    actions in [-1, 1]; ``correction``: per target ``features`` [T, J, n],
    ``bias`` [T, J, m] (model units of the spec outputs) and ``weight``
    [T, J] (0 for unused slots), see ``empty_correction``. Returns ``action``
    [T, S, n] (snapped), ``params`` [T, S, n] (SI), ``margin`` [T, S] (the
    pessimistic minimum margin of the snapped design, with the correction)
    and ``predicted`` [T, S, m] (mean spec figures, corrected).
    """
    scale, box = problem.scale, problem.box
    spec_index = jnp.asarray(problem.spec_index)
    lower = jnp.asarray(box.lower)
    tx = optax.adam(config.learning_rate)

    def spec_figures(arrays, params, correction):
        """Mean and pessimistic spec figures [m] and validity of one design."""
        features = surrogate_features(params, scale, jnp)
        y, spread, p_valid = predict_arrays(arrays, features[None])
        y, spread = y[0, spec_index], spread[0, spec_index]
        distance = jnp.sum((correction["features"] - features) ** 2, axis=-1)
        kernel = correction["weight"] * jnp.exp(-distance / config.correction_length**2)
        y = y + kernel @ correction["bias"] / jnp.maximum(kernel.sum(), 1.0)
        log_mask = arrays["log_mask"][spec_index]
        sign = arrays["sign"][spec_index]
        low = from_model_units(y - config.caution * spread, log_mask, sign)
        high = from_model_units(y + config.caution * spread, log_mask, sign)
        worse, better = jnp.minimum(low, high), jnp.maximum(low, high)
        if config.caution < 0:  # optimism: the figures at their hopeful end
            worse, better = better, worse
        cautious = jnp.where(lower, worse, better)
        mean = from_model_units(y, log_mask, sign)
        return mean, cautious, p_valid[0]

    def margins(cautious, target):
        """``box.margin`` [m] with gradients that stay finite where a target
        is missing (NaN: no requirement; compared with itself first)."""
        missing = jnp.isnan(target)
        value = box.margin(cautious, jnp.where(missing, cautious, target), jnp)
        return jnp.where(missing, NO_REQUIREMENT, value)

    def penalty(p_valid):
        return config.validity_weight * jnp.maximum(0.9 - p_valid, 0.0)

    def smooth_objective(action, arrays, target, correction):
        params = relaxed_params(action, scale, jnp)
        _, cautious, p_valid = spec_figures(arrays, params, correction)
        margin = margins(cautious, target)
        t = config.temperature
        smooth_min = -t * jax.scipy.special.logsumexp(-margin / t)
        return smooth_min - penalty(p_valid)

    def snapped_score(action, arrays, target, correction):
        params = scale_action(action, scale, jnp)
        mean, cautious, p_valid = spec_figures(arrays, params, correction)
        margin = jnp.min(margins(cautious, target)) - penalty(p_valid)
        return params, margin, mean

    gradient = jax.grad(smooth_objective)

    def optimise(action, arrays, target, correction):
        if config.radius > 0:  # the trust region around the start
            low = jnp.maximum(action - config.radius, -1.0)
            high = jnp.minimum(action + config.radius, 1.0)
        else:
            low, high = -1.0, 1.0

        def step(carry, _):
            action, state = carry
            ascent = jax.tree.map(
                jnp.negative, gradient(action, arrays, target, correction)
            )
            updates, state = tx.update(ascent, state, action)
            moved = jnp.clip(optax.apply_updates(action, updates), low, high)
            # a step through a non-finite prediction stays where it was
            action = jnp.where(jnp.all(jnp.isfinite(moved)), moved, action)
            return (action, state), None

        (action, _), _ = jax.lax.scan(
            step, (action, tx.init(action)), None, length=config.steps
        )
        return action

    def one_target(arrays, target, starts, correction):
        def per_start(start):
            action = optimise(start, arrays, target, correction)
            params, margin, mean = snapped_score(action, arrays, target, correction)
            snapped = jnp.asarray(action)
            return snapped, params, margin, mean

        return jax.vmap(per_start)(starts)

    @jax.jit
    def search(arrays, targets, starts, correction):
        action, params, margin, mean = jax.vmap(one_target, in_axes=(None, 0, 0, 0))(
            arrays, targets, starts, correction
        )
        return {"action": action, "params": params, "margin": margin, "predicted": mean}

    return search


def best_per_target(result: dict) -> tuple[np.ndarray, np.ndarray]:
    """The best start's params ``[T, n]`` and its margin ``[T]``."""
    margin = np.nan_to_num(np.asarray(result["margin"]), nan=-np.inf)
    best = margin.argmax(axis=1)
    rows = np.arange(len(best))
    return np.asarray(result["params"])[rows, best], margin[rows, best]
