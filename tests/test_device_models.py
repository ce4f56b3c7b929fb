"""Device gm/Id models on real ngspice: sweeps, shipped models, closed loop."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace

import joblib
import numpy as np
import pytest

from sim.format.technology import load_technology
from surrogate.device.branches import branch_separation
from surrogate.device.closed_loop import run_closed_loop, sample_requests
from surrogate.device.dataset import (
    INVERSE_REGION,
    errors,
    inverse_arrays,
    region_mask,
)
from surrogate.device.mixture import mixture_point, split_mixture
from surrogate.device.mlp import mlp_apply
from surrogate.device.model_file import model_dir
from surrogate.device.network import TRACES, TrainConfig, train_mlp
from surrogate.device.sizing import DeviceModel, OutOfRegionError
from surrogate.device.sweep import (
    Ramp,
    SweepGrid,
    held_out_grid,
    op_jobs,
    reference_grid,
    run_sweep,
)
from surrogate.device.table import SweepTable
from tests.conftest import REPO

SHIPPED = [
    ("sky130", "nfet_01v8"),
    ("sky130", "pfet_01v8"),
    ("generic", "nmos"),
    ("generic", "pmos"),
]


@pytest.mark.parametrize(
    "tech_name, device", [("generic", "nmos"), ("sky130", "pfet_01v8")]
)
def test_sweep_matches_op_point(tech_name, device, pool):
    """A nested DC sweep point equals a direct op simulation of that bias."""
    tech = load_technology(tech_name)
    vbs = 0.3 if device == "pfet_01v8" else -0.3
    grid = SweepGrid(
        widths=(2e-6,),
        lengths=(0.5e-6,),
        vbs=(vbs,),
        vgs=Ramp(0.3, 0.15, 5),
        vds=Ramp(0.2, 0.3, 3),
    )
    table = run_sweep(tech, device, grid, pool)
    assert not table.failures
    assert table.shape == (1, 1, 1, 3, 5)
    picks = [(0, 0), (1, 3), (2, 4)]  # (vds index, vgs index)
    sizes = {
        "w": [2e-6] * 3,
        "l": [0.5e-6] * 3,
        "vgs": [table.vgs[g] for _, g in picks],
        "vds": [table.vds[d] for d, _ in picks],
        "vbs": [vbs] * 3,
    }
    results = pool.map(op_jobs(tech, device, sizes))
    kind = tech.device(table.polarity)
    for (d, g), result in zip(picks, results, strict=True):
        assert result.ok, result.message
        for q in ("id", "gm", "gds", "cgg"):
            direct = abs(result.vectors[f"op:{kind.op_vector('M1', q)}"][0])
            swept = float(table.data[q][0, 0, 0, d, g])
            assert swept == pytest.approx(direct, rel=1e-4), q


@pytest.mark.parametrize("tech_name, device", SHIPPED)
def test_shipped_model_loads_and_predicts_in_range(tech_name, device):
    directory = model_dir(tech_name, device)
    model = DeviceModel.load(tech_name, device)
    meta = json.loads((directory / "model.json").read_text())
    # scale.X / scale.Y (joblib, as GAC²E's users know them) match model.json.
    sx, sy = joblib.load(directory / "scale.X"), joblib.load(directory / "scale.Y")
    assert np.allclose(sx.data_min_, meta["inverse"]["x_min"])
    assert np.allclose(sy.data_max_, meta["inverse"]["y_max"])
    # Points of the shipped lookup table (in the characterised region).
    columns = SweepTable.load(directory / "sweep.npz").columns()
    x, y_true = inverse_arrays(columns, region_mask(columns, INVERSE_REGION))
    pick = np.random.default_rng(0).choice(len(x), 256, replace=False)
    y = model.predict_inverse(x[pick])
    assert np.all(np.isfinite(y))
    y_lo, y_hi = (
        np.asarray(meta["inverse"]["y_min"]),
        np.asarray(meta["inverse"]["y_max"]),
    )
    y_lo[1], y_hi[1] = 10 ** y_lo[1], 10 ** y_hi[1]  # the network learns log10(L)
    margin = 0.05 * (y_hi - y_lo)
    # The mixture head answers with one of the branches, never their average.
    assert np.all((y >= y_lo - margin) & (y <= y_hi + margin))
    err = errors(y, y_true[pick])
    assert np.median(err["log10(idoverw)"]) < 0.01
    assert np.median(err["l"]) < 0.02
    assert np.median(err["vgs"]) < 0.005
    means, weights = model.inverse_components(x[pick])
    assert means.shape == (256, weights.shape[1], 4)
    assert np.allclose(weights.sum(axis=1), 1.0, atol=1e-5)
    assert np.all(np.diff(weights, axis=1) <= 1e-7)  # most probable first
    assert np.allclose(means[:, 0], y)
    i_d = 10 ** y_true[pick, 0] * model.reference_width
    xs = x[pick]
    sized = model.sizing(xs[:, 0], 10 ** xs[:, 1], i_d, xs[:, 2], xs[:, 3])
    assert sized.valid.mean() >= 0.9
    l_lo, l_hi = meta["ranges"]["l"]
    assert np.all(
        (sized.l[sized.valid] >= l_lo * 0.999) & (sized.l[sized.valid] <= l_hi * 1.001)
    )
    for name in ("weights.npz", "forward.npz"):
        assert (directory / name).stat().st_size < 400_000


def test_pfet_mixture_head_holds_both_branches():
    """sky130's pfet reaches some (gm/Id, fug) at two lengths far apart: one of
    the inverse network's components lands on the true branch."""
    model = DeviceModel.load("sky130", "pfet_01v8")
    table = SweepTable.load(model_dir("sky130", "pfet_01v8") / "sweep.npz")
    columns = table.columns()
    mask = region_mask(columns, INVERSE_REGION)
    x, y_true = inverse_arrays(columns, mask)
    multi = np.flatnonzero(branch_separation(table, mask) > np.log10(1.5))
    assert len(multi) > 0.1 * len(x)  # the ambiguity is real and common
    pick = np.random.default_rng(1).choice(multi, 400, replace=False)
    means, weights = model.inverse_components(x[pick])
    l_error = np.abs(means[:, :, 1] / y_true[pick, 1:2] - 1)  # [400, K]
    best = np.min(l_error, axis=1)
    assert np.median(best) < 0.05
    # The most probable component alone is right on only some of them.
    assert np.median(best) < 0.5 * np.median(l_error[:, 0])
    # ... and often the second branch is given real probability too.
    assert np.mean(weights[:, 1] > 0.1) > 0.2


@pytest.mark.slow
def test_mixture_training_picks_a_branch_not_the_average():
    """y = +-sqrt(x): MSE would answer 0; the mixture answers one branch."""
    rng = np.random.default_rng(0)
    x = rng.uniform(0.2, 1.0, size=(4000, 1)).astype(np.float32)
    sign = np.where(rng.uniform(size=(4000, 1)) < 0.7, 1.0, -1.0)
    y = (0.5 + 0.45 * sign * np.sqrt(x)).astype(np.float32)
    result = train_mlp(
        x,
        y,
        TrainConfig(
            hidden=(32, 32),
            batch_size=256,
            max_epochs=60,
            patience=60,
            mixture_components=2,
            clip_norm=1.0,
        ),
        progress=False,
    )
    probe = np.linspace(0.4, 0.9, 6, dtype=np.float32)[:, None]
    raw = mlp_apply(result.layers, probe)
    upper = 0.5 + 0.45 * np.sqrt(probe[:, 0])
    point = np.asarray(mixture_point(raw, 2, 1))[:, 0]
    # The branch average (what MSE learns) is >= 0.17 away from both branches.
    assert np.max(np.abs(point - upper)) < 0.03  # the more probable branch
    _, means, _ = split_mixture(raw, 2, 1)
    lower = 1.0 - upper
    gap = np.min(np.abs(np.asarray(means)[:, :, 0] - lower[:, None]), axis=1)
    assert np.max(gap) < 0.05  # the other component holds the other branch


def _small_held_out(tech_name: str, device: str, model: DeviceModel) -> SweepGrid:
    tech = load_technology(tech_name)
    full = held_out_grid(reference_grid(tech, device, model.reference_width))
    return replace(full, lengths=full.lengths[1::4], vbs=full.vbs[:2])


@pytest.mark.parametrize(
    "tech_name, device, n",
    [
        ("generic", "nmos", 20),
        ("generic", "pmos", 20),
        ("sky130", "nfet_01v8", 10),
        ("sky130", "pfet_01v8", 10),
    ],
)
def test_closed_loop_through_spice(tech_name, device, n, pool):
    """Sized devices reach the requested gm/Id and current (3 % medians)."""
    model = DeviceModel.load(tech_name, device)
    held_out = run_sweep(
        load_technology(tech_name),
        device,
        _small_held_out(tech_name, device, model),
        pool,
    )
    requests = sample_requests(held_out, n, (1e-6, 40e-6), seed=3)
    result = run_closed_loop(model, requests, pool)
    assert result.failed == 0
    assert result.refused <= n // 4
    assert np.median(result.gmoverid_error) <= 0.03
    assert np.median(result.current_error) <= 0.03


def test_out_of_region_requests_are_refused():
    model = DeviceModel.load("generic", "nmos")
    lo, hi = model.bounds.inputs_min, model.bounds.inputs_max
    good = dict(
        gmoverid=12.0, fug=10 ** ((lo[1] + hi[1]) / 2), i_d=50e-6, vds=0.6, vbs=0.0
    )
    requests = {
        "gm/Id": {**good, "gmoverid": hi[0] * 1.5},
        "Vbs": {**good, "vbs": +0.3},  # forward-biased bulk: not characterised
        "fug": {**good, "fug": 10 ** (hi[1] + 1)},
        "length": {**good, "gmoverid": 25.0, "fug": 10 ** (hi[1] - 0.2)},
        "width": {**good, "i_d": 1.0},
    }
    for what, request in requests.items():
        with pytest.raises(OutOfRegionError) as caught:
            model.size(**request)
        message = str(caught.value)
        assert "outside the characterised region" in message, what
        assert "\n" not in message
    # Flagged, not refused: ``sizing`` marks the bad rows and keeps the good one.
    batch = {k: np.array([good[k], requests["gm/Id"][k]]) for k in good}
    result = model.sizing(**batch)
    assert result.valid.tolist() == [True, False]
    assert result.reason[0] == "" and "gm/Id" in result.reason[1]


def test_size_returns_consistent_arrays():
    model = DeviceModel.load("generic", "nmos")
    w, length, vgs = model.size(
        np.array([10.0, 15.0]),
        np.array([1e9, 3e8]),
        np.array([20e-6, 5e-6]),
        np.array([0.6, 0.4]),
        np.array([0.0, -0.2]),
    )
    assert w.shape == length.shape == vgs.shape == (2,)
    assert np.all((length >= 0.13e-6) & (length <= 2.6e-6 * 1.001))
    assert np.all((vgs > 0) & (vgs < 1.2))


def test_training_compiles_the_epoch_once():
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(600, 2)).astype(np.float32)
    y = np.stack([x[:, 0] * x[:, 1], x[:, 0] - x[:, 1]], 1).astype(np.float32)
    before = TRACES["epoch"]
    result = train_mlp(
        x,
        y,
        TrainConfig(hidden=(16,), batch_size=64, max_epochs=5, patience=10),
        progress=False,
    )
    assert TRACES["epoch"] - before == 1
    assert result.epochs == 5 and np.isfinite(result.best_val_loss)


@pytest.mark.parametrize(
    "argv",
    [
        ["device", "--tech", "sky130", "--device", "nmos"],
        ["device", "--tech", "nosuchtech", "--device", "nmos"],
        ["device", "--tech", "generic"],
        ["circuit", "op2"],
        ["circuit", "--circuit", "nosuchcircuit", "--tech", "generic"],
        ["circuit", "--circuit", "op2", "--tech", "generic", "--n", "0"],
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(argv):
    done = subprocess.run(
        [sys.executable, "-m", "surrogate.fit", *argv],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), done.stderr
