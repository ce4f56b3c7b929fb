"""Named checkpoints of the box trainer: a tiny run on real ngspice (twostage
on the generic node), restored by name in a fresh process from the run
directory alone, resumed, and an old positional checkpoint read or refused
in one line."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap

import jax
import numpy as np
import pytest
from flax import nnx, serialization

from sim.errors import UserInputError
from sim.sizing.session import ProblemOptions
from tests.conftest import REPO
from train.config import TrainConfig, config_to_dict
from train.loop import BoxLoop
from train.ppo import PPOConfig

# every test here reads one trained run (~1.5 min to build on 2 cores): the
# slow step of CI runs them
pytestmark = pytest.mark.slow


def _tiny_config(run) -> TrainConfig:
    return TrainConfig(
        problem=ProblemOptions("twostage", "generic").to_json(),
        run=str(run),
        sim_budget=40,
        initial_samples=24,
        round_targets=8,
        round_sims=4,
        held_out=4,
        eval_every=1,
        max_rounds=1,
        policy_updates=1,
        walk_steps=2,
        episode_steps=2,
        table_size=16,
        workers=1,
        surrogate_hidden=16,
        surrogate_members=1,
        surrogate_max_epochs=20,
        ppo=PPOConfig(n_envs=8, n_steps=2, epochs=1, minibatches=2, hidden=16),
    )


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """A trained tiny run, its config and the policy state it ended with."""
    run = tmp_path_factory.mktemp("checkpoint") / "run"
    config = _tiny_config(run)
    loop = BoxLoop(config)
    loop.dir.write_config(config_to_dict(config))  # as python -m train does
    try:
        loop.run()
        runner, graphdef = loop.policy.runner, loop.policy.graphdef
    finally:
        loop.close()
    return run, config, runner, graphdef


def _observations(runner) -> np.ndarray:
    n_obs = runner.obs.shape[-1]
    return np.random.default_rng(0).normal(size=(5, n_obs)).astype(np.float32)


def _actions_in_fresh_process(run, obs_path, out_path) -> subprocess.CompletedProcess:
    code = textwrap.dedent(f"""
        import numpy as np
        from train.sizing import load_policy

        model, config = load_policy({str(run)!r})
        assert config.ppo.hidden == 16
        mean, _, _ = model(np.load({str(obs_path)!r}))
        np.save({str(out_path)!r}, np.asarray(mean))
    """)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True
    )


def _paths(tree: dict, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = []
    for key, value in tree.items():
        if isinstance(value, dict):
            out += _paths(value, (*prefix, key))
        else:
            out.append((*prefix, key))
    return out


def _positional_checkpoint(run, runner) -> None:
    """Rewrite the run's checkpoint as format 1 (``runner/i`` in flattening
    order, the layout before named checkpoints)."""
    state = serialization.msgpack_restore((run / "checkpoint.msgpack").read_bytes())
    leaves = []
    for leaf in jax.tree.leaves(runner):
        if jax.numpy.issubdtype(leaf.dtype, jax.dtypes.prng_key):
            leaf = jax.random.key_data(leaf)
        leaves.append(np.asarray(leaf))
    old = {k: state[k] for k in ("round", "best", "stale", "curve")}
    old["runner"] = {str(i): leaf for i, leaf in enumerate(leaves)}
    (run / "checkpoint.msgpack").write_bytes(serialization.msgpack_serialize(old))


def test_a_fresh_process_restores_the_policy_from_the_run_directory(tiny_run, tmp_path):
    run, _, runner, graphdef = tiny_run
    obs = _observations(runner)
    expected = np.asarray(nnx.merge(graphdef, runner.params)(obs)[0])
    np.save(tmp_path / "obs.npy", obs)
    proc = _actions_in_fresh_process(run, tmp_path / "obs.npy", tmp_path / "a.npy")
    assert proc.returncode == 0, proc.stderr
    np.testing.assert_array_equal(np.load(tmp_path / "a.npy"), expected)


def test_checkpoint_keys_are_names(tiny_run):
    run = tiny_run[0]
    state = serialization.msgpack_restore((run / "checkpoint.msgpack").read_bytes())
    assert state["format"] == 2 and "runner" not in state
    paths = {"/".join(p) for p in _paths(state)}
    assert {
        "policy/actor/l1/kernel",
        "policy/critic/l3/bias",
        "policy/log_std",
        "optimiser/scale_by_adam/mu/actor/l1/kernel",
        "optimiser/scale_by_adam/count",
        "rollout/env_state/target",
        "rollout/obs",
        "rollout/key",
    } <= paths
    assert not [p for p in _paths(state) if any(part.isdigit() for part in p)]
    assert state["policy"]["actor"]["l1"]["kernel"].shape[1] == 16  # ppo.hidden


def test_resume_restores_the_whole_runner(tiny_run):
    run, config, runner, _ = tiny_run
    loop = BoxLoop(config, resume=True)
    try:
        restored = loop.policy.runner
        assert loop.round == 1
    finally:
        loop.close()
    assert jax.tree.structure(restored) == jax.tree.structure(runner)
    for a, b in zip(jax.tree.leaves(restored), jax.tree.leaves(runner), strict=True):
        if jax.numpy.issubdtype(a.dtype, jax.dtypes.prng_key):
            a, b = jax.random.key_data(a), jax.random.key_data(b)
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_the_sizer_of_a_run_restores_its_policy(tiny_run):
    from train.sizing import TrainedSizer

    sizer = TrainedSizer(str(tiny_run[0]), workers=1)
    try:
        assert sizer.sizer.proposer is not None
    finally:
        sizer.close()


def test_an_old_positional_checkpoint_loads_while_it_fits(tiny_run, tmp_path):
    run, _, runner, graphdef = tiny_run
    old = tmp_path / "old"
    shutil.copytree(run, old)
    _positional_checkpoint(old, runner)
    from train.sizing import load_policy

    model, _ = load_policy(old)
    obs = _observations(runner)
    np.testing.assert_array_equal(
        np.asarray(model(obs)[0]),
        np.asarray(nnx.merge(graphdef, runner.params)(obs)[0]),
    )


def _misfit_old_run(run, runner, tmp_path):
    """A copy of ``run`` whose format-1 checkpoint no longer fits the config."""
    old = tmp_path / "old"
    shutil.copytree(run, old)
    _positional_checkpoint(old, runner)
    state = serialization.msgpack_restore((old / "checkpoint.msgpack").read_bytes())
    state["runner"]["0"] = np.zeros(3, np.float32)  # a network of another shape
    (old / "checkpoint.msgpack").write_bytes(serialization.msgpack_serialize(state))
    return old


def test_an_old_checkpoint_that_no_longer_fits_is_one_line(tiny_run, tmp_path):
    run, _, runner, _ = tiny_run
    old = _misfit_old_run(run, runner, tmp_path)
    from train.sizing import load_policy

    with pytest.raises(UserInputError, match="predates named checkpoints") as error:
        load_policy(old)
    assert "\n" not in str(error.value)
    assert "new --run" in str(error.value)


@pytest.mark.slow
def test_resuming_an_old_run_that_no_longer_fits_says_so_in_one_line(
    tiny_run, tmp_path
):
    run, _, runner, _ = tiny_run
    old = _misfit_old_run(run, runner, tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "train", "--run", str(old), "--resume"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2, proc.stderr
    assert "predates named checkpoints" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr
