"""Circuit surrogates: the fit's splits and calibration, distillation, files.

The fitting machinery is checked on a known smooth function (fast, exact
truth); the command line runs end to end on real ngspice simulations.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from surrogate.circuit.dataset import CircuitDataset
from surrogate.circuit.distill import DistillConfig, distill, teacher_labels
from surrogate.circuit.model import predict
from surrogate.circuit.train import FitConfig, fit_surrogate

ROOT = Path(__file__).resolve().parents[1]


def _smooth_dataset(n: int = 600, seed: int = 0) -> CircuitDataset:
    """Two outputs of three inputs in [0, 1] with a little noise; 5 % invalid."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, (n, 3))
    y = np.stack(
        [
            np.sin(3 * x[:, 0]) + x[:, 1] * x[:, 2],
            np.exp(x[:, 2]) - x[:, 0] ** 2,
        ],
        axis=1,
    ) + rng.normal(0, 0.02, (n, 2))
    valid = rng.uniform(size=n) > 0.05
    return CircuitDataset(
        params=x,
        inputs=x,
        outputs=np.where(valid[:, None], y, np.nan),
        valid=valid,
        output_names=("f", "g"),
        log_mask=np.array([False, False]),
        sign=np.ones(2),
    )


@pytest.fixture(scope="module")
def smooth_fit():
    data = _smooth_dataset()
    config = FitConfig(hidden=32, members=3, max_epochs=150, patience=150, batch=64)
    return data, fit_surrogate(data, config, progress=False)


def test_splits_are_disjoint_and_cover_the_data(smooth_fit):
    data, fitted = smooth_fit
    parts = (fitted.train_index, fitted.validation_index, fitted.test_index)
    joined = np.concatenate(parts)
    assert len(np.unique(joined)) == len(joined) == len(data.inputs)
    assert len(fitted.test_index) == int(0.15 * len(data.inputs))
    assert len(fitted.validation_index) == int(0.10 * len(data.inputs))


def test_fit_learns_and_calibrated_spread_covers_errors(smooth_fit):
    data, fitted = smooth_fit
    weights = {k: jnp.asarray(v) for k, v in fitted.weights.items()}
    test = fitted.test_index[data.valid[fitted.test_index]]
    mean, spread, p_valid = predict(
        weights,
        jnp.asarray(fitted.mean, jnp.float32),
        jnp.asarray(fitted.std, jnp.float32),
        jnp.asarray(data.inputs[test], jnp.float32),
        jnp.asarray(fitted.spread_scale, jnp.float32),
    )
    error = np.abs(np.asarray(mean) - data.outputs[test])
    # outputs span ~1 (std ~0.3); a working fit is within a few noise sigmas
    assert np.median(error) < 0.06
    within = np.mean(error <= 2 * np.asarray(spread))
    assert within > 0.8, within
    assert fitted.spread_scale.shape == (2,)
    assert np.all(np.asarray(p_valid) > 0.5)  # the invalid 5 % are random


def test_bad_fit_settings_are_refused():
    with pytest.raises(ValueError, match="loss"):
        FitConfig(loss="huber")
    with pytest.raises(ValueError, match="train on"):
        FitConfig(validation=0.5, held_out=0.45)


@pytest.mark.slow
def test_mse_bootstrap_fit_still_works():
    data = _smooth_dataset(300, seed=1)
    config = FitConfig(
        hidden=16, members=2, max_epochs=30, loss="mse", bootstrap=True, held_out=0.0
    )
    fitted = fit_surrogate(data, config, progress=False)
    assert len(fitted.test_index) == 0
    assert np.all(np.isfinite(fitted.weights["w1"]))


def test_distilled_network_tracks_the_ensemble(smooth_fit):
    data, fitted = smooth_fit
    rng = np.random.default_rng(3)
    inputs = rng.uniform(0, 1, (20_000, 3))
    config = DistillConfig(hidden=32, designs=20_000, epochs=20, batch=256)
    student = distill(fitted.weights, inputs, np.ones(2), config, progress=False)
    assert student.weights["w1"].shape == (1, 3, 32)
    probe = rng.uniform(0, 1, (500, 3))
    teacher, _ = teacher_labels(fitted.weights, probe)
    learned, _ = teacher_labels(student.weights, probe)
    # standardised units: the student stays within a few % of an output's std
    assert np.median(np.abs(teacher - learned)) < 0.05


@pytest.fixture(scope="module")
def fitted_by_cli(tmp_path_factory):
    """``python -m surrogate.fit circuit`` on 64 real op2 simulations (generic)."""
    tmp_path = tmp_path_factory.mktemp("cli")
    out, report = tmp_path / "model", tmp_path / "report.json"
    argv = [
        sys.executable,
        "-m",
        "surrogate.fit",
        "circuit",
        "--circuit",
        "op2",
        "--tech",
        "generic",
        "--n",
        "64",
        "--hidden",
        "16",
        "--members",
        "2",
        "--max-epochs",
        "20",
        "--distilled-hidden",
        "8",
        "--distill-designs",
        "2000",
        "--distill-epochs",
        "2",
        "--out",
        str(out),
        "--json",
        str(report),
    ]
    env = {**os.environ, "JAXSIZER_STORE": str(tmp_path / "store.sqlite")}
    run = subprocess.run(
        argv, cwd=ROOT, capture_output=True, text=True, timeout=600, env=env
    )
    assert run.returncode == 0, run.stderr[-2000:]
    return out, json.loads(report.read_text())


@pytest.mark.slow
@pytest.mark.parametrize("model", ["distilled", "ensemble"])
def test_fit_cli_on_real_simulations_and_env_steps(fitted_by_cli, model):
    out, summary = fitted_by_cli
    assert summary["held_out_designs"] == int(0.15 * 64)
    for figure in ("a_0", "ugbw", "pm", "power"):
        entry = summary["figures"][figure]
        assert np.isfinite(entry["median_error"])
        assert np.isfinite(entry["distilled_median_error"])

    from envs.surrogate_env import EnvParams, SurrogateEnv, surrogate_params
    from sim.sizing.session import ProblemOptions, open_session
    from surrogate.circuit.store import load_surrogate

    loaded = load_surrogate(out)
    assert loaded.fast_weights["w1"].shape[0] == 1
    assert loaded.spread_scale.shape == (len(loaded.output_names),)
    # op2 has a physics estimator: the ensemble takes its inputs, the student not
    n_params = loaded.fast_weights["w1"].shape[1]
    assert summary["physics_inputs"] == len(loaded.physics.feature_names) > 0
    assert loaded.weights["w1"].shape[1] == n_params + summary["physics_inputs"]
    problem = open_session(ProblemOptions("op2", "generic", all_figures=True))
    try:
        env = SurrogateEnv(problem.problem, problem.default_sizing)
        params = EnvParams(surrogate_params(loaded, model), 5)
        members = params.surrogate["weights"]["w1"].shape[0]
        assert members == (1 if model == "distilled" else 2)
        obs, state = jax.jit(env.reset)(jax.random.key(0), params)
        action = jnp.zeros(env.action_size, jnp.float32)
        obs, state, reward, *_ = jax.jit(env.step)(
            jax.random.key(1), state, action, params
        )
        assert obs.dtype == jnp.float32 and bool(jnp.all(jnp.isfinite(obs)))
        assert bool(jnp.isfinite(reward))
    finally:
        problem.close()


def test_stale_student_is_removed_when_saving_without_one(tmp_path, smooth_fit):
    from surrogate.circuit.store import load_surrogate, save_surrogate

    data, fitted = smooth_fit
    save_surrogate(tmp_path, fitted, data, {}, distilled=fitted.weights)
    assert load_surrogate(tmp_path).fast_weights is not None
    save_surrogate(tmp_path, replace(fitted, spread_scale=None), data, {})
    loaded = load_surrogate(tmp_path)
    assert loaded.fast_weights is None and loaded.spread_scale is None


@pytest.mark.parametrize(
    "argv, message",
    [
        (["envs.surrogate_bench", "--batch", "0"], "--batch: must be >= 1"),
        (["envs.surrogate_bench", "--model", "big"], "--model: invalid choice"),
        (["surrogate.fit", "circuit", "--loss", "huber"], "--loss: invalid choice"),
        (["surrogate.fit", "circuit", "--n", "0"], "--n: must be >= 1"),
        (
            ["surrogate.fit", "circuit", "--env", "jaxsizer/op2-generic-autockt-v0"],
            "fitted in the geometric space, not autockt",
        ),
        (
            ["surrogate.fit", "circuit", "--circuit", "op2"],
            "give --env, or --circuit and --tech",
        ),
    ],
)
def test_bad_cli_arguments_give_one_line(argv, message):
    run = subprocess.run(
        [sys.executable, "-m", *argv], cwd=ROOT, capture_output=True, text=True
    )
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1 and message in run.stderr
