"""The gymnax-compatible surrogate env: gymnax's step tuple and spaces, jit and
vmap over keys, auto-reset as gymnax's ``Environment.step`` does it, ``make``
from a stored surrogate and from a trained run, and the gymnasium wrapper
through ``check_env``. (gymnax itself, LogWrapper and rejax: test_clients.)"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from functools import partial
from pathlib import Path

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import envs  # noqa: F401 - registers the ids
from envs.gymnax_env import SPLIT_DONE, Box, SurrogateGymEnv, SurrogateGymnaxEnv, make
from envs.spaces import OBSERVATION_LIMIT
from envs.surrogate_env import EnvParams
from sim.errors import UserInputError
from surrogate.circuit.store import surrogate_dir

STORED_ID = "jaxsizer/op2-sky130-surrogate-v0"
REPO_ROOT = str(Path(__file__).resolve().parents[1])


def step5(env, *args):
    """``env.step`` as gymnax < 1.0's five values (>= 1.0 splits ``done``)."""
    out = env.step(*args)
    if SPLIT_DONE:
        obs, state, reward, terminated, truncated, info = out
        return obs, state, reward, terminated | truncated, info
    return out


@pytest.fixture(scope="module")
def stored():
    """The op2/sky130 surrogate shipped in models/."""
    if not (surrogate_dir("sky130", "op2") / "surrogate.json").is_file():
        pytest.skip("no stored op2/sky130 surrogate")
    return make(STORED_ID)


def test_make_returns_a_gymnax_env_with_spaces(stored):
    env, params = stored
    assert isinstance(env, SurrogateGymnaxEnv) and isinstance(params, EnvParams)
    assert env.name == STORED_ID and env.default_params is params
    assert env.num_actions == 12 and params.max_steps == 200
    action_space = env.action_space(params)
    assert isinstance(action_space, Box)
    assert action_space.shape == (12,) and action_space.dtype == jnp.float32
    assert (action_space.low, action_space.high) == (-1.0, 1.0)
    obs_space = env.observation_space(params)
    assert obs_space.shape == (env.definition.observation_size,)
    assert bool(jnp.all(jnp.isfinite(obs_space.low)))
    assert float(jnp.max(obs_space.high)) == OBSERVATION_LIMIT
    action = action_space.sample(jax.random.key(0))
    assert action.shape == (12,) and bool(action_space.contains(action))
    assert not bool(action_space.contains(action + 3.0))


def test_gymnax_five_tuple_and_default_params(stored):
    env, params = stored
    obs, state = env.reset(jax.random.key(0))  # params=None: default_params
    obs2, _ = env.reset(jax.random.key(0), params)
    np.testing.assert_allclose(obs, obs2, rtol=1e-3, atol=1e-4)  # constants fold
    out = env.step(jax.random.key(1), state, jnp.zeros(12), params)
    assert len(out) == (6 if SPLIT_DONE else 5)
    obs, state, reward, done, info = step5(env, jax.random.key(1), state, jnp.zeros(12))
    assert obs.shape == obs2.shape and obs.dtype == jnp.float32
    assert reward.shape == () and done.dtype == jnp.bool_
    assert bool(done) == bool(info["terminated"] | info["truncated"])
    assert float(info["discount"]) == 1.0 - float(info["terminated"])
    assert bool(env.observation_space(params).contains(obs))


def test_jit_and_vmap_over_8_keys_trace_once(stored):
    env, params = stored
    traces = []

    def rollout(keys, params):
        traces.append(1)
        obs, state = jax.vmap(env.reset, in_axes=(0, None))(keys, params)
        actions = jax.vmap(env.action_space(params).sample)(keys)
        step = partial(step5, env)
        return jax.vmap(step, in_axes=(0, 0, 0, None))(keys, state, actions, params)

    run = jax.jit(rollout)
    for seed in (0, 1):
        keys = jax.random.split(jax.random.key(seed), 8)
        obs, state, reward, done, info = run(keys, params)
        assert obs.shape == (8, env.definition.observation_size)
        assert reward.shape == (8,) and done.shape == (8,)
        assert state.target.shape == (8, len(env.definition.specs))
        assert info["final_observation"].shape == obs.shape
        assert bool(jnp.all(jnp.isfinite(obs)))
    assert len(traces) == 1  # the second batch of keys reuses the compilation


def test_auto_reset_after_truncation(stored):
    env, params = stored
    short = params.replace(max_steps=2)
    hard = jnp.asarray([1e3, 1e12, 179.0, 1e-12], jnp.float32)  # never met
    obs, state = env.evaluate_target(hard, short)
    obs, state, _, done, info = step5(
        env, jax.random.key(1), state, jnp.zeros(12), short
    )
    assert not bool(done) and int(state.step) == 1
    obs, state, _, done, info = step5(
        env, jax.random.key(2), state, jnp.zeros(12), short
    )
    assert bool(done) and bool(info["truncated"]) and not bool(info["terminated"])
    assert int(state.step) == 0  # a fresh episode
    _, reset_key = jax.random.split(jax.random.key(2))  # gymnax's: the 2nd half
    fresh, _ = env.reset(reset_key, short)
    np.testing.assert_allclose(obs, fresh, rtol=1e-6)
    assert not np.allclose(np.asarray(info["final_observation"]), np.asarray(obs))


def test_make_rejects_unknown_ids_and_missing_inputs(tmp_path):
    with pytest.raises(UserInputError, match="unknown surrogate env id"):
        make("jaxsizer/op2-sky130-geometric-v0")
    with pytest.raises(UserInputError, match="needs run="):
        make("jaxsizer/run-surrogate-v0")
    with pytest.raises(UserInputError, match="no trained run"):
        make("jaxsizer/run-surrogate-v0", run=str(tmp_path))
    with pytest.raises(UserInputError, match="no surrogate in"):
        make("jaxsizer/op2-generic-surrogate-v0", surrogate=tmp_path)


def test_gymnasium_wrapper_passes_check_env(stored):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        env = gym.make(STORED_ID)
    assert [str(w.message) for w in caught] == []
    assert env.spec.max_episode_steps == 200
    inner = env.unwrapped
    assert isinstance(inner, SurrogateGymEnv)
    check_env(inner, skip_render_check=True)
    obs, info = env.reset(seed=3)
    assert env.observation_space.contains(obs)
    assert set(info["target"]) == set(inner.definition.specs)
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
    assert env.observation_space.contains(obs) and isinstance(reward, float)
    assert set(info["params"]) == set(inner.definition.scale.names)


def test_gymnasium_wrapper_fixed_target_and_time_limit(stored):
    env = gym.make(STORED_ID, max_episode_steps=3)
    hard = {"a_0": 1e3, "ugbw": 1e12, "pm": 179.0, "power": 1e-9}
    _, info = env.reset(seed=0, options={"target": hard})
    assert info["target"]["ugbw"] == pytest.approx(1e12)
    ends = [env.step(np.zeros(12, np.float32))[2:4] for _ in range(3)]
    assert ends == [(False, False), (False, False), (False, True)]


# -- a trained run -----------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("gymnax") / "run"
    command = [
        sys.executable,
        "-m",
        "train",
        "--env",
        "jaxsizer/twostage-generic-v1",
        "--run",
        str(run),
        *"--sim-budget 200 --initial-samples 150 --max-rounds 1".split(),
        *"--policy-updates 0 --held-out 10 --eval-every 1".split(),
        *"--surrogate-hidden 32 --surrogate-members 2".split(),
        *"--surrogate-max-epochs 20 --workers 2".split(),
    ]
    env = {"JAXSIZER_STORE": str(run.parent / "store.sqlite")}
    done = subprocess.run(
        command,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=1200,
        env={**os.environ, **env},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return run


@pytest.mark.slow
def test_make_from_a_trained_run(tiny_run):
    env, params = make("jaxsizer/run-surrogate-v0", run=str(tiny_run))
    assert env.definition.specs  # the run's problem: twostage on generic
    keys = jax.random.split(jax.random.key(0), 8)
    obs, state = jax.vmap(env.reset, in_axes=(0, None))(keys, params)
    actions = jnp.zeros((8, env.num_actions))
    out = jax.vmap(env.step, in_axes=(0, 0, 0, None))(keys, state, actions, params)
    assert len(out) == 5 and out[0].shape == obs.shape
    named, _ = make("jaxsizer/twostage-generic-surrogate-v0", run=tiny_run)
    assert named.num_actions == env.num_actions
    with pytest.raises(UserInputError, match="sizes twostage/generic"):
        make("jaxsizer/op2-generic-surrogate-v0", run=tiny_run)
    gym_env = gym.make("jaxsizer/run-surrogate-v0", run=str(tiny_run))
    check_env(gym_env.unwrapped, skip_render_check=True)
