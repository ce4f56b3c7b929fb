"""The pure-JAX environment: parity with the SPICE env, no recompiles, float32."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from envs.spice_env import SpiceEnv
from envs.surrogate_env import EnvParams, SurrogateEnv
from surrogate.circuit.dataset import surrogate_features


def _lookup_predictor(table: dict, features: jax.Array):
    """A 'surrogate' that returns the SPICE figures of the nearest stored design."""
    distance = jnp.sum((table["features"][None] - features[:, None]) ** 2, axis=-1)
    nearest = jnp.argmin(distance, axis=1)
    return table["outputs"][nearest], jnp.ones(features.shape[0])


@pytest.fixture(scope="module")
def spice_episode():
    """Five steps of the SPICE env (op2, generic, spec figures) with raw outputs."""
    env = SpiceEnv(circuit="op2", tech="generic", figures="specs", max_steps=4)
    seed = 3
    obs0, info0 = env.reset(seed=seed)
    rng = np.random.default_rng(0)
    actions = rng.uniform(-1, 1, (5, env.action_space.shape[0])).astype(np.float32)
    steps = [env.step(a) for a in actions]
    definition = env.problem.definition
    simulator = env.problem.simulator
    # the raw figures + operating point of every visited design, from the store
    designs = [info0["params"]] + [s[4]["params"] for s in steps]
    results = simulator.simulate(designs)
    names = definition.figures + definition.op_names
    outputs = np.asarray(
        [[r.performance.get(n, np.nan) for n in names] for r in results]
    )
    sizing = np.asarray([[p[k] for k in definition.scale.names] for p in designs])
    env.close()
    return definition, seed, obs0, actions, steps, sizing, outputs


def test_surrogate_env_matches_spice_env(spice_episode):
    definition, seed, obs0, actions, steps, sizing, outputs = spice_episode
    table = {
        "features": surrogate_features(
            jnp.asarray(sizing, jnp.float32), definition.scale, jnp
        ),
        "outputs": jnp.asarray(outputs, jnp.float32),
    }
    env = SurrogateEnv(definition, sizing[0], _lookup_predictor)
    params = EnvParams(table, max_steps=4)
    _, episode_key = jax.random.split(jax.random.key(seed))
    obs, state = env.reset(episode_key, params)
    np.testing.assert_allclose(np.asarray(obs), obs0, rtol=1e-5, atol=1e-5)
    for t, (action, (spice_obs, reward, terminated, truncated, _)) in enumerate(
        zip(actions, steps, strict=True)
    ):
        key = jax.random.fold_in(jax.random.key(99), t)
        obs, state, r, te, tr, info = env.step(key, state, jnp.asarray(action), params)
        np.testing.assert_allclose(
            np.asarray(info["final_observation"]), spice_obs, rtol=1e-4, atol=1e-4
        )
        assert float(r) == pytest.approx(reward, rel=1e-4, abs=1e-4)
        assert bool(te) == terminated and bool(tr) == truncated
        if terminated or truncated:
            break


def test_no_recompilation_and_float32(spice_episode):
    definition, _, _, _, _, sizing, outputs = spice_episode
    traces = {"step": 0}
    table = {
        "features": surrogate_features(
            jnp.asarray(sizing, jnp.float32), definition.scale, jnp
        ),
        "outputs": jnp.asarray(outputs, jnp.float32),
    }

    def predictor(table, features):
        return _lookup_predictor(table, features)

    env = SurrogateEnv(definition, sizing[0], predictor)
    params = EnvParams(table, max_steps=4)

    def step(key, state, action, params):
        traces["step"] += 1
        return jax.vmap(env.step, in_axes=(0, 0, 0, None))(key, state, action, params)

    step = jax.jit(step)
    keys = jax.random.split(jax.random.key(0), 8)
    _, state = jax.vmap(env.reset, in_axes=(0, None))(keys, params)
    for i in range(6):
        actions = jax.random.uniform(jax.random.key(i), (8, env.action_size), minval=-1)
        obs, state, reward, *_ = step(
            jax.random.split(jax.random.key(i), 8), state, actions, params
        )
        # a refit surrogate (same shapes, new values) must not recompile either
        params = EnvParams(jax.tree.map(lambda a: a * 1.0, table), max_steps=4)
    assert traces["step"] == 1
    assert obs.dtype == jnp.float32 and reward.dtype == jnp.float32
    assert state.target.dtype == jnp.float32
    assert bool(jnp.all(jnp.isfinite(obs)))
