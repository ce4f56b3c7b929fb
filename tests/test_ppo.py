"""PPO on toy tasks and GAE against a plain loop (pure JAX, no ngspice)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import struct

from envs.definition import SUCCESS_BONUS
from train.gae import gae
from train.ppo import PPOConfig, make_train


def test_gae_matches_python_loop():
    rng = np.random.default_rng(0)
    steps, envs, gamma, lam = 7, 3, 0.9, 0.8
    rewards = rng.normal(size=(steps, envs)).astype(np.float32)
    values = rng.normal(size=(steps, envs)).astype(np.float32)
    next_values = rng.normal(size=(steps, envs)).astype(np.float32)
    terminated = rng.random((steps, envs)) < 0.2
    truncated = (rng.random((steps, envs)) < 0.2) & ~terminated
    adv, ret = gae(
        jnp.asarray(rewards),
        jnp.asarray(values),
        jnp.asarray(next_values),
        jnp.asarray(terminated),
        jnp.asarray(truncated),
        gamma,
        lam,
    )
    expected = np.zeros((steps, envs))
    for e in range(envs):
        running = 0.0
        for t in reversed(range(steps)):
            boot = 0.0 if terminated[t, e] else next_values[t, e]
            delta = rewards[t, e] + gamma * boot - values[t, e]
            ended = terminated[t, e] or truncated[t, e]
            running = delta + (0.0 if ended else gamma * lam * running)
            expected[t, e] = running
    np.testing.assert_allclose(np.asarray(adv), expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.asarray(ret), expected + values, rtol=1e-5, atol=1e-5)


@struct.dataclass
class _State:
    target: jax.Array
    step: jax.Array


class ReachTarget:
    """Toy task: observe a target in [-0.8, 0.8]^k, act close to it.

    Reward ``-|a - t|^2`` (plus the success bonus when terminated);
    terminated when every |a - t| < 0.1; truncated after 5 steps; auto-resets
    like the surrogate environment.
    """

    size = 3

    def reset(self, key, params):
        target = jax.random.uniform(key, (self.size,), minval=-0.8, maxval=0.8)
        return target, _State(target, jnp.int32(0))

    def step(self, key, state, action, params):
        error = action - state.target
        terminated = jnp.all(jnp.abs(error) < 0.1)
        # the environment's success bonus, as envs.definition.step_outcome's
        reward = -jnp.sum(error**2) + SUCCESS_BONUS * terminated
        steps = state.step + 1
        truncated = ~terminated & (steps >= 5)
        done = terminated | truncated
        new_obs, new_state = self.reset(key, params)
        state = jax.tree.map(
            lambda a, b: jnp.where(done, a, b), new_state, _State(state.target, steps)
        )
        obs = jnp.where(done, new_obs, state.target)
        return (
            obs,
            state,
            reward,
            terminated,
            truncated,
            {"final_observation": state.target},
        )


@pytest.mark.slow
def test_ppo_learns_toy_task():
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
    runner = init(jax.random.key(0), None)
    first = None
    for i in range(150):
        runner, metrics = update(runner, None)
        if i == 0:
            first = float(metrics["reward"])
    last = float(metrics["reward"])
    assert last > -0.05 > first, (first, last)
    assert float(metrics["success_rate"]) > 0.5
    assert update._cache_size() == 1  # one compilation for every segment
