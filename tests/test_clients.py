"""jaxsizer under the clients people already use, unmodified (issue 26):
stable-baselines3 and gymnasium's wrappers on a SPICE env, gymnax's
LogWrapper and rejax's PPO on the JAX env, the design card's ``python -m
train --surrogate``, and ``import jaxsizer`` / ``python -m jaxsizer`` /
the console script in a folder holding its own ``envs/`` and ``train.py``.

A test skips only when its client package is missing (``pip install
jaxsizer[clients]``; .ci/run installs it before the slow step, so CI
runs them all).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import jaxsizer
from tests.conftest import REPO

SPICE_ID = "jaxsizer/twostage-generic-geometric-v0"  # generic: fast to simulate
JAX_ID = "jaxsizer/op2-sky130-surrogate-v0"  # the shipped surrogate

pytestmark = pytest.mark.slow


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A fresh ``$JAXSIZER_HOME`` (store, caches) for the test."""
    monkeypatch.setenv("JAXSIZER_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_sb3_check_env_and_ppo_learn_on_a_spice_env(home):
    stable_baselines3 = pytest.importorskip("stable_baselines3")
    from stable_baselines3.common.env_checker import check_env

    env = jaxsizer.make_env(SPICE_ID, max_episode_steps=64)
    try:
        check_env(env.unwrapped)  # SB3's own checker, no warnings asked
        model = stable_baselines3.PPO(
            "MlpPolicy", env, n_steps=256, batch_size=64, n_epochs=1, seed=0
        )
        started = time.perf_counter()
        model.learn(2048)
        rate = 2048 / (time.perf_counter() - started)
    finally:
        env.close()
    assert model.num_timesteps >= 2048
    # SB3's Monitor wrote its end-of-episode dicts into info["episode"]:
    # 2048 steps of at most 64 give at least 32 episodes
    episodes = list(model.ep_info_buffer)
    assert len(episodes) >= 32 and all(e["l"] <= 64 for e in episodes)
    print(f"stable-baselines3 PPO on {SPICE_ID}: {rate:.0f} steps/s")


def test_record_episode_statistics_and_time_limit_over_full_episodes(home):
    import gymnasium as gym

    env = gym.wrappers.RecordEpisodeStatistics(
        jaxsizer.make_env(SPICE_ID, max_episode_steps=4)
    )
    try:
        for episode in range(2):
            _, info = env.reset(seed=episode)
            total, steps, done = 0.0, 0, False
            while not done:
                _, reward, terminated, truncated, info = env.step(
                    env.action_space.sample()
                )
                total, steps = total + reward, steps + 1
                done = terminated or truncated
            assert steps <= 4 and (terminated or steps == 4)
            assert info["episode"]["l"] == steps
            assert info["episode"]["r"] == pytest.approx(total)
            assert info["jaxsizer/episode"] == 0  # each reset is seeded
    finally:
        env.close()

    vector = gym.wrappers.vector.RecordEpisodeStatistics(
        jaxsizer.make_vec(SPICE_ID, 2, max_episode_steps=3)
    )
    try:
        vector.reset(seed=0)
        for _ in range(4):  # next-step auto-reset: an episode ends by step 3
            *_, infos = vector.step(vector.action_space.sample())
            if "episode" in infos:
                break
        assert infos["_episode"].any()
        assert set(infos["episode"]["l"][infos["_episode"]]) <= {1, 2, 3}
    finally:
        vector.close()


def _random_logged_rollout(steps: int):
    """LogWrapper over the JAX env: 8 envs, random actions, ``steps`` each."""
    import jax
    from gymnax.wrappers.purerl import LogWrapper

    env, params = jaxsizer.make_gymnax(JAX_ID, max_steps=3)
    logged = LogWrapper(env)
    keys = jax.random.split(jax.random.key(0), 8)
    _, state = jax.vmap(logged.reset, in_axes=(0, None))(keys, params)

    def one(state, key):
        keys = jax.random.split(key, 8)
        actions = jax.vmap(env.action_space(params).sample)(keys)
        out = jax.vmap(logged.step, in_axes=(0, 0, 0, None))(
            keys, state, actions, params
        )
        return out[1], (out[2], out[-1])

    run = jax.jit(lambda s, k: jax.lax.scan(one, s, jax.random.split(k, steps)))
    return run(state, jax.random.key(1))


def test_gymnax_log_wrapper_steps_the_jax_env():
    pytest.importorskip("gymnax")
    _, (reward, info) = _random_logged_rollout(6)
    ended = np.asarray(info["returned_episode"])  # [steps, envs]
    lengths = np.asarray(info["returned_episode_lengths"])
    returns = np.asarray(info["returned_episode_returns"])
    reward = np.asarray(reward)
    assert ended.any() and (lengths[ended] <= 3).all() and (lengths[ended] >= 1).all()
    for env in range(8):  # the logged return is the sum of the episode's rewards
        steps = np.flatnonzero(ended[:, env])
        if len(steps):
            first = steps[0]
            np.testing.assert_allclose(
                returns[first, env], reward[: first + 1, env].sum(), rtol=1e-5
            )


def test_rejax_ppo_trains_on_the_jax_env():
    pytest.importorskip("gymnax")
    rejax = pytest.importorskip("rejax")
    import jax

    env, params = jaxsizer.make_gymnax(JAX_ID, max_steps=50)
    assert params.max_steps_in_episode == 50
    algo = rejax.PPO.create(
        env=env,
        env_params=params,
        total_timesteps=2**16,
        eval_freq=2**13,
        num_envs=16,
        num_steps=128,
        num_epochs=4,
        num_minibatches=8,
        learning_rate=3e-4,
    )
    train = jax.jit(algo.train)
    _, (lengths, returns) = train(jax.random.key(0))
    returns = np.asarray(returns)  # [evaluations, 128 episodes]
    assert returns.shape[0] == 2**16 // 2**13 + 1
    assert np.isfinite(returns).all()
    # the mean return of the last evaluations beats the untrained policy's
    assert returns[-2:].mean() > returns[0].mean(), returns.mean(axis=1)


def _python(*argv: str, cwd: Path, env: dict | None = None):
    return subprocess.run(
        [sys.executable, *argv],
        cwd=cwd,
        env=env or os.environ,
        capture_output=True,
        text=True,
        timeout=1800,
    )


def test_python_m_train_surrogate_runs_a_tiny_run_and_rerun_reports(home, tmp_path):
    from tests.test_train import SMALL

    run = tmp_path / "run"
    argv = ("-m", "train", "--surrogate", "--run", str(run), *SMALL)
    done = _python(*argv, "--json", "-", cwd=REPO)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout)  # stdout holds the JSON alone
    held = summary["held_out_success"]
    assert 0.0 <= held <= 1.0 and summary["spice_sims"] <= 400
    again = _python(*argv, "--resume", cwd=REPO)
    assert again.returncode == 0, again.stderr[-3000:]
    assert f"held-out success {held:.1%}" in again.stdout  # not None


def _user_project(folder: Path) -> Path:
    """A user's project: its own envs/ package, train.py and sim.py, each
    failing loudly when imported."""
    (folder / "envs").mkdir(parents=True)
    (folder / "envs" / "__init__.py").write_text("raise ImportError('user envs')\n")
    (folder / "train.py").write_text("raise SystemExit('the user train.py ran')\n")
    (folder / "sim.py").write_text("raise ImportError('user sim')\n")
    return folder


def test_jaxsizer_works_in_a_folder_with_its_own_envs_and_train(home, tmp_path):
    project = _user_project(tmp_path / "project")
    # as installed: jaxsizer importable from elsewhere (the repo), the
    # project's folder first on sys.path (python -m, python -c, its scripts)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    script = (
        "import jaxsizer\n"
        f"e = jaxsizer.make_env('envs:{SPICE_ID}')\n"
        "jaxsizer.TrainedSizer  # pins train (not imported until used)\n"
        "import envs, sim, train\n"
        "print(envs.__file__, sim.__file__, train.__file__)\n"
        "with jaxsizer.Simulator('twostage', 'generic') as s:\n"
        "    print(s.simulate([{}])[0].status.value)\n"
        "e.close()\n"
    )
    done = _python("-c", script, cwd=project, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    *files, status = done.stdout.split()
    assert all(Path(f).is_relative_to(REPO) for f in files), files
    assert status == "ok"

    # python -m jaxsizer and the console script (pip's launcher, same code)
    launcher = tmp_path / "bin" / "jaxsizer"
    launcher.parent.mkdir()
    launcher.write_text(
        "import sys\nfrom jaxsizer.command import main\nsys.exit(main())\n"
    )
    for start in (("-m", "jaxsizer"), (str(launcher),)):
        listed = _python(*start, "--help", cwd=project, env=env)
        assert listed.returncode == 0 and "train" in listed.stdout, listed.stderr
        targets = _python(
            *start,
            *("targets", "--env", SPICE_ID, "--n", "3", "--json", "-"),
            cwd=project,
            env=env,
        )
        assert targets.returncode == 0, targets.stderr[-3000:]
        assert "user" not in targets.stderr
        assert json.loads(targets.stdout)
        helped = _python(*start, "train", "--help", cwd=project, env=env)
        assert helped.returncode == 0 and "--surrogate" in helped.stdout
