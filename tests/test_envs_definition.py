"""The one definition (``envs.definition``) on hand-made numbers, NumPy and JAX."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from envs import definition as d
from sim.format.circuit import Parameter

LOWER = np.array([True, True, True, False])  # a_0, ugbw, pm >=; power <=


def test_amplifier_reward_on_hand_made_numbers():
    performance = np.array([50.0, 1e7, 60.0, 1e-4])
    target = np.array([40.0, 2e7, 45.0, 2e-4])
    dist = [0.25, 0.5, 1 / 3, 0.5]
    met = [True, False, True, True]
    expected = sum(
        math.tanh(x) if m else -(x**2) for x, m in zip(dist, met, strict=True)
    )
    assert d.reward(performance, target, LOWER, "amplifier") == pytest.approx(expected)
    assert d.spec_met(performance, target, LOWER).tolist() == met
    assert not d.terminated(performance, target, LOWER)
    assert d.terminated(np.array([50.0, 3e7, 60.0, 1e-4]), target, LOWER)


def test_distance_reward_and_point_targets():
    performance = np.array([0.6, 0.595, 0.5, 0.7])
    target = np.full(4, 0.6)
    point = np.ones(4, bool)
    expected = -(0 + 0.005 / 0.6 + 0.1 / 0.6 + 0.1 / 0.6)
    reward = d.reward(performance, target, LOWER, "distance", point=point)
    assert reward == pytest.approx(expected)
    # within 1 % counts as met, whatever side
    met = d.spec_met(performance, target, LOWER, point=point)
    assert met.tolist() == [True, True, False, False]
    assert d.terminated(np.full(4, 0.601), target, LOWER, point=point)


def test_missing_figures_are_the_worst_and_never_nan():
    performance = np.array([np.nan, 1e7, np.inf, 1e-4])
    target = np.array([40.0, 2e7, 45.0, 2e-4])
    dist = d.distance(performance, target)
    assert dist[0] == d.FAIL_DISTANCE and dist[2] == d.FAIL_DISTANCE
    assert not d.spec_met(performance, target, LOWER)[0]
    reward = d.reward(performance, target, LOWER, "amplifier")
    assert np.isfinite(reward) and reward <= -2 * d.FAIL_DISTANCE**2 + 1
    obs = d.observation(
        np.array([np.nan, np.inf, 3.0]),
        np.array([0, 1]),
        np.array([40.0, 2e7]),
        np.array([np.nan, 1e-3]),
        np.array([False, True, False]),
        np.array([False, True]),
        np.array([False, True]),
    )
    assert obs.dtype == np.float32 and np.all(np.isfinite(obs))
    # figures, targets (log10 for Hz), distances, operating point
    np.testing.assert_allclose(obs, [0, 0, 3, 40, np.log10(2e7), 10, 10, 0, -3])


def test_scale_action_ends_log_integer_grid():
    params = [
        Parameter("W", 1e-6, 100e-6, 1e-5, "m", "real", "log"),
        Parameter("M", 1, 16, 4, "", "integer"),
        Parameter("C", 1e-12, 1e-11, 1e-12, "F", "grid", grid=(1e-12, 2e-12, 1e-11)),
        Parameter("V", 0.2, 0.8, 0.5, "V"),
    ]
    scale = d.ActionScale.from_parameters(params)
    low = d.scale_action(np.full(4, -1.0), scale)
    high = d.scale_action(np.full(4, 1.0), scale)
    mid = d.scale_action(np.zeros(4), scale)
    np.testing.assert_allclose(low, [1e-6, 1, 1e-12, 0.2])
    np.testing.assert_allclose(high, [100e-6, 16, 1e-11, 0.8])
    np.testing.assert_allclose(mid, [1e-5, 8.0, 2e-12, 0.5], rtol=1e-12)
    # out-of-range actions are clipped, batches keep their shape
    batch = d.scale_action(np.array([[-5.0, 5.0, 0.0, 0.0]] * 3), scale)
    assert batch.shape == (3, 4) and batch[0, 0] == pytest.approx(1e-6)
    # JAX (float32, jitted) gives the same parameters
    jitted = jax.jit(lambda a: d.scale_action(a, scale, jnp))
    action = np.array([0.3, -0.2, 0.9, -0.7], np.float32)
    np.testing.assert_allclose(
        jitted(action), d.scale_action(action.astype(np.float64), scale), rtol=1e-5
    )


def test_jax_and_numpy_give_the_same_reward_and_observation():
    performance = np.array([[50.0, 1e7, 60.0, 1e-4], [np.nan, 3e7, 10.0, 5e-4]])
    target = np.array([[40.0, 2e7, 45.0, 2e-4]] * 2, np.float32)
    for kind in ("amplifier", "distance"):
        expected = d.reward(performance, target, LOWER, kind)
        got = jax.jit(lambda p, t, k=kind: d.reward(p, t, LOWER, k, jnp))(
            jnp.asarray(performance, jnp.float32), target
        )
        np.testing.assert_allclose(got, expected, rtol=1e-5)
    got = d.autockt_reward(jnp.asarray(performance, jnp.float32), target, LOWER, jnp)
    expected = d.autockt_reward(performance, target, LOWER)
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_autockt_steps_and_reward():
    size = np.array([3, 5])
    index = d.grid_step(np.array([0, 4]), np.array([0, 2]), size)
    assert index.tolist() == [0, 4]  # clipped at both ends
    index = d.grid_step(index, np.array([2, 0]), size)
    assert index.tolist() == [1, 3]
    grid = np.array([[1.0, 2.0, 3.0, 3.0, 3.0], [10.0, 20.0, 30.0, 40.0, 50.0]])
    assert d.grid_values(index, grid).tolist() == [2.0, 40.0]
    target = np.array([40.0, 2e7, 45.0, 2e-4])
    # overshooting a spec is never punished
    far_beyond = np.array([80.0, 2e9, 90.0, 1e-6])
    assert d.autockt_reward(far_beyond, target, LOWER) == d.AUTOCKT_SUCCESS_REWARD
    short = np.array([30.0, 4e7, 50.0, 4e-4])  # a_0 and power miss
    expected = (30 - 40) / 70 + -(4e-4 - 2e-4) / 6e-4
    assert d.autockt_reward(short, target, LOWER) == pytest.approx(expected)
    missing = np.array([np.nan, 4e7, 50.0, 1e-4])
    assert d.autockt_reward(missing, target, LOWER) == pytest.approx(-1.0)


@pytest.mark.parametrize(
    ("circuit", "kind"), [("op2", None), ("op2", "autockt"), ("st1", None)]
)
def test_step_outcome_is_the_definitions_functions_wired_to_the_problem(circuit, kind):
    from envs.targets import draw_targets
    from sim.format.circuit import load_circuit
    from sim.format.technology import load_technology
    from sim.sizing.problem import problem_for

    tech = load_technology("generic")
    problem = problem_for(load_circuit(circuit, tech), "generic", "tt")
    rng = np.random.default_rng(0)
    n = 6
    targets = np.array(draw_targets(jax.random.split(jax.random.key(1), n), problem))
    targets[0, 0] = np.nan  # a spec without a requirement
    figures = np.zeros((n, len(problem.figures)))
    figures[:, problem.spec_index] = targets[::-1] * rng.uniform(
        0.5, 1.5, targets.shape
    )
    figures[1, problem.spec_index[0]] = np.nan  # a missing figure
    figures[2, problem.spec_index] = targets[2]  # every spec met
    op = rng.uniform(1e-6, 1.0, (n, len(problem.op_names)))

    obs, reward, done, met = d.step_outcome(problem, figures, targets, op, kind=kind)

    performance = figures[:, problem.spec_index]
    bounds = (performance, targets, problem.lower)
    if kind == "autockt":
        expected = d.autockt_reward(*bounds, point=problem.point)
    else:
        expected = d.reward(*bounds, problem.reward_kind, point=problem.point)
        # GAC²E's finish bonus on the steps that meet every spec
        all_met = d.terminated(*bounds, point=problem.point)
        expected = expected + d.SUCCESS_BONUS * all_met
    np.testing.assert_array_equal(reward, expected)
    np.testing.assert_array_equal(done, d.terminated(*bounds, point=problem.point))
    np.testing.assert_array_equal(met, d.spec_met(*bounds, point=problem.point))
    assert done[2] and met[0, 0] and not met[1, 0]
    expected_obs = d.observation(
        figures,
        problem.spec_index,
        targets,
        op,
        problem.figure_log,
        problem.target_log,
        problem.op_log,
        easy=problem.box.easy,
    )
    np.testing.assert_array_equal(obs, expected_obs)
    assert obs.shape == (n, problem.observation_size) and obs.dtype == np.float32
    j_obs, j_reward, j_done, j_met = jax.jit(
        lambda f, t, o: d.step_outcome(problem, f, t, o, jnp, kind)
    )(*(jnp.asarray(a, jnp.float32) for a in (figures, targets, op)))
    np.testing.assert_allclose(j_obs, obs, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(j_reward, reward, rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(j_done, done)
    np.testing.assert_array_equal(j_met, met)


def test_noisy_target_is_one_percent():
    target = np.array([40.0, 2e7])
    assert d.noisy_target(target, np.array([1.0, -2.0])).tolist() == pytest.approx(
        [40.4, 2e7 * 0.98]
    )


def test_the_success_bonus_is_added_once_on_met_steps_and_not_to_autockt():
    from sim.format.circuit import load_circuit
    from sim.format.technology import load_technology
    from sim.sizing.problem import problem_for

    tech = load_technology("generic")
    problem = problem_for(load_circuit("op2", tech), "generic", "tt")
    target = problem.box.sample(2, 0)
    figures = np.zeros((2, len(problem.figures)))
    figures[0, problem.spec_index] = target[0]  # every spec met
    figures[1, problem.spec_index] = np.nan  # a failed simulation
    op = np.ones((2, len(problem.op_names)))
    _, plain, done, _ = d.step_outcome(problem, figures, target, op, success_bonus=0)
    _, bonus, _, _ = d.step_outcome(problem, figures, target, op)
    assert done.tolist() == [True, False]
    np.testing.assert_array_equal(bonus - plain, [d.SUCCESS_BONUS, 0.0])
    _, autockt, _, _ = d.step_outcome(problem, figures, target, op, kind="autockt")
    assert autockt[0] == d.AUTOCKT_SUCCESS_REWARD
