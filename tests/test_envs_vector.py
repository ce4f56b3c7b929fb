"""Vector envs: the native batched ``SpiceVectorEnv`` matches ``SpiceEnv``
step by step, sends one pool call per step, autoresets; async make_vec works."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

import envs  # noqa: F401 - registers the ids
from envs.spice_env import SpiceEnv
from envs.vector_env import SpiceVectorEnv
from sim.errors import UserInputError

CASES = [
    ("op2", "v1", lambda rng, n: rng.uniform(-1, 1, (n, 12)).astype(np.float32)),
    ("twostage", "autockt", lambda rng, n: rng.integers(0, 3, (n, 7))),
]


def _single_run(circuit, variant, seed, actions, max_steps):
    """Observations, rewards, ends and infos of a SpiceEnv that resets itself
    the way a NEXT_STEP vector env does."""
    env = SpiceEnv(circuit, "generic", variant, pool="shared", max_steps=max_steps)
    try:
        obs, info = env.reset(seed=seed)
        rows, done = [(obs, 0.0, False, False, info)], False
        for action in actions:
            if done:
                obs, info = env.reset()
                row = (obs, 0.0, False, False, info)
            else:
                row = env.step(action)
            done = row[2] or row[3]
            rows.append(row)
        return rows
    finally:
        env.close()


@pytest.mark.parametrize("circuit, variant, sample", CASES)
def test_batched_env_matches_single_env_step_by_step(circuit, variant, sample):
    n, steps, seed = 3, 5, 7
    actions = [sample(np.random.default_rng(0), n) for _ in range(steps)]
    venv = SpiceVectorEnv(
        circuit, "generic", variant, num_envs=n, pool="shared", max_steps=2
    )
    try:
        obs, infos = venv.reset(seed=seed)
        batched = [(obs, np.zeros(n), np.zeros(n, bool), np.zeros(n, bool), infos)]
        for action in actions:
            batched.append(venv.step(action))
        for i in range(n):
            single = _single_run(circuit, variant, seed + i, [a[i] for a in actions], 2)
            for t, (row, vrow) in enumerate(zip(single, batched, strict=True)):
                np.testing.assert_array_equal(row[0], vrow[0][i], err_msg=f"{i}, {t}")
                assert row[1] == vrow[1][i]
                assert (row[2], row[3]) == (vrow[2][i], vrow[3][i])
                assert venv.single_info(vrow[4], i) == row[4]
    finally:
        venv.close()


def test_one_pool_call_per_batched_step(monkeypatch):
    venv = SpiceVectorEnv("op2", "generic", num_envs=4, pool="shared", max_steps=1)
    calls = []
    original = venv.simulator.simulate
    monkeypatch.setattr(
        venv.simulator,
        "simulate",
        lambda designs, **kw: calls.append(len(designs)) or original(designs, **kw),
    )
    try:
        venv.reset(seed=0)
        action = np.zeros((4, 12), np.float32)
        venv.step(action)  # every env truncates (max_steps=1)
        venv.step(action)  # NEXT_STEP: all four reset, in the same single call
        assert calls == [4, 4, 4]
    finally:
        venv.close()


def test_same_step_autoreset_reports_final_observation():
    venv = SpiceVectorEnv(
        "op2",
        "generic",
        num_envs=2,
        pool="shared",
        max_steps=1,
        autoreset_mode=AutoresetMode.SAME_STEP,
    )
    try:
        first, _ = venv.reset(seed=0)
        obs, reward, terminated, truncated, infos = venv.step(
            np.zeros((2, 12), np.float32)
        )
        # every episode ends at max_steps=1: met targets terminate, others truncate
        assert (terminated | truncated).all() and infos["_final_obs"].all()
        assert not (terminated & truncated).any()
        for i in range(2):
            final = infos["final_obs"][i]
            assert final.shape == first[i].shape and not np.array_equal(final, obs[i])
        assert infos["final_info"]["step"].tolist() == [1, 1]
        assert infos["step"].tolist() == [1, 1] and reward.shape == (2,)
        # the returned observation is the next episode's first one
        assert venv.episodes.steps.tolist() == [0, 0]
    finally:
        venv.close()


def test_disabled_autoreset_and_reset_mask():
    venv = SpiceVectorEnv(
        "op2", "generic", num_envs=2, pool="shared", autoreset_mode="Disabled"
    )
    try:
        venv.reset(seed=0)
        venv.step(np.zeros((2, 12), np.float32))
        _, infos = venv.reset(options={"reset_mask": np.array([True, False])})
        assert infos["_step"].tolist() == [True, False]
        assert venv.episodes.steps.tolist() == [0, 1]
    finally:
        venv.close()


def test_vector_env_refuses_bad_input():
    with pytest.raises(UserInputError, match="num_envs"):
        SpiceVectorEnv("op2", "generic", num_envs=0, pool="shared")
    with pytest.raises(UserInputError, match="autoreset_mode"):
        SpiceVectorEnv("op2", "generic", pool="shared", autoreset_mode="sometimes")
    venv = SpiceVectorEnv("op2", "generic", num_envs=2, pool="shared")
    try:
        venv.reset(seed=0)
        with pytest.raises(UserInputError, match="shape"):
            venv.step(np.zeros(12, np.float32))
        with pytest.raises(UserInputError, match="2 dicts"):
            venv.reset(options={"target": [{"a_0": 1.0}]})
    finally:
        venv.close()


def test_make_vec_uses_the_native_batched_env():
    venv = gym.make_vec("jaxsizer/op2-generic-v1", num_envs=2, pool="shared")
    try:
        assert isinstance(venv, SpiceVectorEnv)
        obs, _ = venv.reset(seed=0)
        assert obs.shape == (2, venv.single_observation_space.shape[0])
    finally:
        venv.close()


def test_make_vec_async_works():
    # this process has used JAX already: fork would copy its thread state
    venv = gym.make_vec(
        "envs:jaxsizer/op2-generic-v1",
        num_envs=2,
        vectorization_mode="async",
        vector_kwargs={"context": "spawn"},
        max_steps=2,
    )
    try:
        obs, infos = venv.reset(seed=0)
        assert obs.shape[0] == 2 and list(infos["status"]) == ["ok", "ok"]
        for _ in range(3):
            obs, reward, terminated, truncated, infos = venv.step(
                venv.action_space.sample()
            )
            assert np.all(np.isfinite(obs)) and reward.shape == (2,)
        assert list(infos["status"]) == ["ok", "ok"]
    finally:
        venv.close()


FRESH_PROCESS = """
import gymnasium as gym
try:
    gym.make("jaxsizer/op2-generic-v1")
except gym.error.Error as error:
    print("plain id:", type(error).__name__)
venv = gym.make_vec("envs:jaxsizer/op2-generic-v1", num_envs=2,
                    vectorization_mode="async", max_steps=2)
obs, infos = venv.reset(seed=0)
for _ in range(3):
    obs, reward, terminated, truncated, infos = venv.step(venv.action_space.sample())
print("async:", obs.shape, list(infos["status"]))
venv.close()
env = gym.make("envs:jaxsizer/op2-generic-v1")
print("module-prefixed:", type(env.unwrapped).__name__)
env.close()
"""


def test_make_forms_in_a_fresh_process(tmp_path):
    """As a user types them: the plain id needs ``import envs`` first
    (gymnasium 1.x loads no plugins), the module-prefixed id and async
    make_vec (default fork context) work as they are."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(repo)}
    result = subprocess.run(
        [sys.executable, "-c", FRESH_PROCESS],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    assert "plain id: NamespaceNotFound" in lines
    assert "async: (2, 107) ['ok', 'ok']" in lines
    assert "module-prefixed: SpiceEnv" in lines
