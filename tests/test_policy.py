"""The box trainer's policy (train.policy): scanned PPO segments that compile
once, learning on a toy task, goals from the achieved Pareto front, and
rounds on a surrogate env that never retrace."""

from __future__ import annotations

from types import SimpleNamespace

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sim.sizing.session import ProblemOptions, open_session
from surrogate.circuit.model import Ensemble, surrogate_arrays
from tests.test_ppo import ReachTarget
from train.config import TrainConfig
from train.policy import Policy, front_goals, one_member, pareto_front
from train.ppo import PPOConfig, make_train, scan_updates


@pytest.mark.slow
def test_scanned_segments_equal_the_same_segments_one_by_one():
    env = ReachTarget()
    config = PPOConfig(n_envs=8, n_steps=4, epochs=2, minibatches=2, hidden=16)
    init, update, _ = make_train(config, env, env.size, env.size)
    many = scan_updates(update, 3)
    runner = init(jax.random.key(0), None)
    scanned, metrics = many(runner, None)
    for _ in range(3):
        runner, last = update(runner, None)
    pairs = zip(
        jax.tree.leaves(scanned.params), jax.tree.leaves(runner.params), strict=True
    )
    for a, b in pairs:
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(float(metrics["reward"][-1]), float(last["reward"]))
    many(scanned, None)
    assert many._cache_size() == 1


@pytest.mark.slow
def test_scanned_segments_learn_the_toy_task_with_one_compilation():
    env = ReachTarget()
    config = PPOConfig(
        n_envs=64,
        n_steps=8,
        epochs=4,
        minibatches=4,
        hidden=64,
        learning_rate=3e-3,
        total_updates=150,
        gamma=0.5,
    )
    init, update, _ = make_train(config, env, env.size, env.size)
    many = scan_updates(update, 15)
    runner = init(jax.random.key(0), None)
    rewards = []
    for _ in range(10):
        runner, metrics = many(runner, None)
        assert metrics["reward"].shape == (15,)  # one entry per segment
        rewards.append(float(metrics["reward"].mean()))
    assert rewards[-1] > -0.05 > rewards[0], rewards
    assert float(metrics["success_rate"][-1]) > 0.5
    assert many._cache_size() == 1  # ten calls, one compilation


def test_init_standardises_observations():
    env = ReachTarget()  # observations uniform in [-0.8, 0.8]: spread ~0.46
    init, _, _ = make_train(PPOConfig(n_envs=8, hidden=8), env, env.size, env.size)
    params = init(jax.random.key(0), None).params
    shift, scale = np.asarray(params["obs_shift"][...]), params["obs_scale"][...]
    assert np.all(np.abs(shift) < 0.1)
    assert np.all((np.asarray(scale) > 0.35) & (np.asarray(scale) < 0.6))


def test_pareto_front_keeps_exactly_the_undominated_rows():
    rng = np.random.default_rng(0)
    points = rng.random((300, 3))
    front = set(pareto_front(points).tolist())
    for i, p in enumerate(points):
        dominated = np.any(
            np.all(points >= p, axis=1) & np.any(points > p, axis=1), axis=0
        )
        assert (i in front) == (not dominated)


@pytest.fixture(scope="module")
def problem():
    session = open_session(ProblemOptions("op2", "generic"), workers=1)
    yield session.problem, session.default_sizing
    session.close()


def test_front_goals_lie_in_the_box_at_or_beyond_what_was_achieved(problem):
    definition, _ = problem
    box = definition.box
    rng = np.random.default_rng(1)
    achieved = box.from_uniform(rng.uniform(0.0, 0.6, (500, len(box.names))))
    goals = front_goals(achieved, box, 200, rng, push=0.1)
    position = box.difficulty(goals)
    ranged = box.low != box.high
    assert goals.shape == (200, len(box.names))
    assert np.all((position >= -1e-9) & (position <= 1 + 1e-9))
    # every goal is as hard as some achieved point on every ranged spec
    achieved_position = box.difficulty(achieved)[:, ranged]
    for g in position[:, ranged]:
        assert np.any(np.all(g >= achieved_position - 1e-9, axis=1))


def _random_surrogate(definition, members: int, seed: int) -> dict:
    from surrogate.circuit.dataset import surrogate_features

    n_in = surrogate_features(
        jnp.zeros((1, len(definition.scale.names))), definition.scale, jnp
    ).shape[-1]
    n_out = len(definition.figures) + len(definition.op_names)
    from flax import nnx

    model = Ensemble(n_in, n_out, 16, members, rngs=nnx.Rngs(seed))
    weights = {k: getattr(model, k)[...] for k in ("w1", "b1", "w2", "b2", "w3", "b3")}
    return surrogate_arrays(
        weights, np.zeros(n_out), np.ones(n_out), np.zeros(n_out, bool), np.ones(n_out)
    )


@pytest.mark.slow
def test_policy_rounds_on_a_surrogate_never_retrace(problem):
    definition, default = problem
    config = TrainConfig(
        policy_updates=2,
        episode_steps=3,
        walk_steps=3,
        table_size=16,
        ppo=PPOConfig(
            n_envs=8, n_steps=4, epochs=1, minibatches=2, hidden=16, segments=2
        ),
    )
    policy = Policy(SimpleNamespace(problem=definition, default_sizing=default), config)
    box = definition.box
    for round_ in range(3):  # a refit surrogate and a new table every round
        arrays = _random_surrogate(definition, 3, round_)
        params = policy.params(arrays, box.sample(16, round_))
        metrics = policy.train(jax.random.key(round_), params, 2)
        policy.proposer(arrays, 0)(box.sample(5 + round_, 9))  # sizer asks
    assert policy.many._cache_size() == 1
    assert policy.walk._cache_size() == 1  # padded batches: one shape
    assert metrics["ppo/env_steps"] == 2 * 2 * 8 * 4
    assert 0.0 <= metrics["ppo/box_success"] <= 1.0
    assert 0.0 <= metrics["ppo/unmet_success"] <= 1.0
    designs = policy.final_designs(arrays, box.sample(7, 3))
    assert designs.shape == (7, len(definition.scale.names))


def test_one_member_keeps_shapes_for_every_index(problem):
    definition, _ = problem
    arrays = _random_surrogate(definition, 3, 0)
    shapes = {
        k: jax.tree.map(jnp.shape, one_member(arrays, k)["weights"]) for k in range(4)
    }
    assert all(s == shapes[0] for s in shapes.values())
    assert shapes[0]["w1"][0] == 1
    np.testing.assert_array_equal(
        one_member(arrays, 4)["weights"]["w2"][0], arrays["weights"]["w2"][1]
    )
