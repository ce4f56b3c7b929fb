"""Fit one device model end to end: sweeps, networks, evaluation, files.

``fit_device_model(DeviceFitConfig(tech="sky130", device="nfet_01v8"))`` runs
(or reuses) the sweeps, trains the inverse and forward networks, evaluates
them on held-out sweep points against linear interpolation on the table,
writes ``$JAXSIZER_HOME/models/<tech>/<device>/`` (``surrogate.model_paths``)
and returns the report (a JSON-able dict).
"""

from __future__ import annotations

import datetime
import json
import platform
import shutil
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import joblib
import numpy as np
from sklearn.preprocessing import MinMaxScaler
from tqdm.auto import tqdm

from sim.engine.backend import BackendConfig, make_backend
from sim.format.technology import Technology, load_technology
from surrogate.device.baseline import PlaneInterpolator
from surrogate.device.branches import branch_separation
from surrogate.device.dataset import (
    FORWARD_INPUTS,
    FORWARD_OUTPUTS,
    FORWARD_REGION,
    INVERSE_INPUTS,
    INVERSE_OUTPUTS,
    INVERSE_REGION,
    INVERSE_TARGETS,
    errors,
    forward_arrays,
    inverse_arrays,
    inverse_targets,
    region_mask,
)
from surrogate.device.mixture import SCALE_FLOOR
from surrogate.device.mlp import layer_sizes, save_layers
from surrogate.device.model_file import (
    MODEL_FORMAT,
    network_entry,
    sweep_cache_dir,
)
from surrogate.device.network import TrainConfig, train_mlp
from surrogate.device.sweep import (
    SweepGrid,
    grid_key,
    held_out_grid,
    polarity_of,
    reference_grid,
    run_sweep,
    width_grid,
)
from surrogate.device.table import SweepTable
from surrogate.model_paths import output_dir

STRONG_IDOVERW = -1.0  # log10 A/m: the accuracy split reported separately
MULTI_BRANCH = float(np.log10(1.5))  # decades of L between branches: "ambiguous"
SHIP_TABLE_LIMIT = 3_000_000  # bytes: a larger sweep.npz stays in the cache
REFERENCE_WIDTH = {"sky130": 5e-6, "generic": 5e-6}
WIDTHS = {
    # Dense around sky130's width bin edges (0.42, 0.55, 1, 3, 5, 7 um).
    "sky130": (0.42, 0.55, 0.75, 1.0, 1.5, 2.2, 3.0, 4.0, 5.0, 6.0, 7.0, 12, 30, 100),
    "generic": (0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 100.0),
}


@dataclass(frozen=True)
class DeviceFitConfig:
    """One device fit. ``inverse``/``forward``: how each network is trained;
    ``workers``: ngspice processes; ``resweep``: ignore cached sweeps;
    ``root``: where ``<tech>/<device>/`` is written (default the user's
    models, ``$JAXSIZER_HOME/models``: ``surrogate.model_paths``)."""

    tech: str
    device: str
    corner: str = "tt"
    temperature: float = 27.0
    workers: int = 2
    resweep: bool = False
    progress: bool = True
    root: Path | None = None
    inverse: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            batch_size=512,
            max_epochs=400,
            patience=100,  # the likelihood's validation loss is noisy
            mixture_components=3,
            clip_norm=1.0,
        )
    )
    forward: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            hidden=(128, 128, 128), batch_size=2048, max_epochs=200, patience=25
        )
    )
    # Loss weight of each forward output (gm/Id, log10 fug, log10 Id/W,
    # log10 gds/W): Id/W sets the sized current, gds/W only informs.
    forward_weights: tuple[float, ...] = (2.0, 1.0, 4.0, 0.5)


def _ngspice_version() -> str:
    try:
        text = subprocess.run(
            ["ngspice", "-v"], capture_output=True, text=True, timeout=10
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    for token in text.split():
        if token.startswith("ngspice-"):
            return token
    return "unknown"


def cached_sweep(
    tech: Technology,
    config: DeviceFitConfig,
    grid: SweepGrid,
    name: str,
    pool_holder: dict,
) -> tuple[SweepTable, Path, bool]:
    """The sweep of ``grid`` from the cache, or simulated and cached."""
    key = grid_key(tech, config.device, grid, config.corner, config.temperature)
    path = sweep_cache_dir() / f"{tech.name}-{config.device}-{name}-{key}.npz"
    if path.is_file() and not config.resweep:
        return SweepTable.load(path), path, True
    if "pool" not in pool_holder:
        pool_holder["pool"] = make_backend(BackendConfig(workers=config.workers))
    jobs = len(grid.widths) * len(grid.lengths) * len(grid.vbs)
    with tqdm(
        total=jobs, desc=f"sweep {name}", disable=not config.progress, leave=False
    ) as bar:
        table = run_sweep(
            tech,
            config.device,
            grid,
            pool_holder["pool"],
            config.corner,
            config.temperature,
            progress=bar.update,
        )
    table.info = {"grid": name, "simulator": _ngspice_version(), "key": key}
    table.save(path)
    return table, path, False


def _summary(err: dict[str, np.ndarray]) -> dict[str, dict[str, float | None]]:
    """Median and 95th percentile of each error array (None if it is empty)."""
    return {
        k: {
            "median": float(np.median(v)) if len(v) else None,
            "p95": float(np.percentile(v, 95)) if len(v) else None,
        }
        for k, v in err.items()
    }


def _fit_scaler(values: np.ndarray) -> MinMaxScaler:
    return MinMaxScaler().fit(values)


def fit_device_model(config: DeviceFitConfig) -> dict:
    """Sweep, train, evaluate and write one device model; return the report."""
    t_start = time.perf_counter()
    tech = load_technology(config.tech)
    polarity = polarity_of(tech, config.device)
    w_ref = REFERENCE_WIDTH.get(tech.name, 5e-6)
    ref_grid = reference_grid(tech, config.device, w_ref)
    widths = tuple(w * 1e-6 for w in WIDTHS[tech.name])
    grids = {
        "reference": ref_grid,
        "widths": width_grid(tech, config.device, widths),
        "held_out": held_out_grid(ref_grid),
    }
    holder: dict = {}
    tables, paths, reused = {}, {}, {}
    try:
        for name, grid in grids.items():
            tables[name], paths[name], reused[name] = cached_sweep(
                tech, config, grid, name, holder
            )
    finally:
        if "pool" in holder:
            holder["pool"].close()
    t_sweep = time.perf_counter() - t_start

    # -- datasets ----------------------------------------------------------------
    ref_cols = tables["reference"].columns()
    x_inv, y_public = inverse_arrays(ref_cols, region_mask(ref_cols, INVERSE_REGION))
    y_inv = inverse_targets(y_public)
    forward_parts = [
        forward_arrays(c, region_mask(c, FORWARD_REGION))
        for c in (ref_cols, tables["widths"].columns())
    ]
    x_fwd = np.concatenate([p[0] for p in forward_parts])
    y_fwd = np.concatenate([p[1] for p in forward_parts])
    test_cols = tables["held_out"].columns()
    test_mask = region_mask(test_cols, INVERSE_REGION)
    x_test, y_test = inverse_arrays(test_cols, test_mask)
    separation = branch_separation(tables["held_out"], test_mask)

    # -- training ----------------------------------------------------------------
    sx, sy = _fit_scaler(x_inv), _fit_scaler(y_inv)
    fx, fy = _fit_scaler(x_fwd), _fit_scaler(y_fwd)
    inverse = train_mlp(
        sx.transform(x_inv).astype(np.float32),
        sy.transform(y_inv).astype(np.float32),
        config.inverse,
        description=f"{config.device} inverse",
        progress=config.progress,
    )
    forward = train_mlp(
        fx.transform(x_fwd).astype(np.float32),
        fy.transform(y_fwd).astype(np.float32),
        config.forward,
        weights=np.broadcast_to(
            np.asarray(config.forward_weights, np.float32), y_fwd.shape
        ),
        description=f"{config.device} forward",
        progress=config.progress,
    )

    # -- files -------------------------------------------------------------------
    out = output_dir(tech.name, config.device, config.root)
    out.mkdir(parents=True, exist_ok=True)
    save_layers(out / "weights.npz", inverse.layers)
    save_layers(out / "forward.npz", forward.layers)
    joblib.dump(sx, out / "scale.X")
    joblib.dump(sy, out / "scale.Y")
    ref_table_size = paths["reference"].stat().st_size
    shipped_table = ref_table_size <= SHIP_TABLE_LIMIT
    if shipped_table:
        shutil.copyfile(paths["reference"], out / "sweep.npz")
    else:
        (out / "sweep.npz").unlink(missing_ok=True)
    all_w = np.concatenate([tables["widths"].w, tables["reference"].w])
    meta = {
        "format": MODEL_FORMAT,
        "tech": tech.name,
        "device": config.device,
        "polarity": polarity,
        "spice_name": tech.device(polarity).name,
        "corner": config.corner,
        "temperature": config.temperature,
        "reference_width": w_ref,
        "conventions": (
            "SI units. pmos: gm/Id, fug, Id, Vgs, Vds as magnitudes and "
            "Vbs = V(B)-V(S) >= 0 (|Vbs|, reverse bias); nmos: Vbs <= 0. "
            "fug = gm/(2 pi cgg) with ngspice's intrinsic cgg (no overlap). "
            "Vgs and Vds are the applied terminal voltages."
        ),
        "inverse": network_entry(
            "weights.npz",
            layer_sizes(inverse.layers),
            sx,
            sy,
            INVERSE_INPUTS,
            INVERSE_TARGETS,
            scalers=["scale.X", "scale.Y"],
            width=w_ref,
            returns=list(INVERSE_OUTPUTS),
            **_head_entry(config.inverse.mixture_components),
        ),
        "forward": network_entry(
            "forward.npz",
            layer_sizes(forward.layers),
            fx,
            fy,
            FORWARD_INPUTS,
            FORWARD_OUTPUTS,
        ),
        "region": asdict(INVERSE_REGION),
        "ranges": {
            "w": [float(all_w.min()), float(all_w.max())],
            "l": [float(ref_grid.lengths[0]), float(ref_grid.lengths[-1])],
            "vgs": [0.0, float(tech.vdd)],
            "vds": [float(ref_grid.vds.values[0]), float(ref_grid.vds.values[-1])],
            "vbs": [float(min(ref_grid.vbs)), float(max(ref_grid.vbs))],
        },
        "sweep": {
            "table": "sweep.npz" if shipped_table else None,
            "cache": str(paths["reference"]),
            "points": {k: int(np.prod(t.shape)) for k, t in tables.items()},
            "failed_jobs": {k: len(t.failures) for k, t in tables.items()},
        },
        "simulator": tables["reference"].info.get("simulator", "unknown"),
        "model_source": tech.includes(config.corner)[0],
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "training": {
            "inverse": {
                "points": len(x_inv),
                "epochs": inverse.epochs,
                "seconds": round(inverse.seconds, 1),
                "val_loss": inverse.best_val_loss,
                "config": asdict(config.inverse),
            },
            "forward": {
                "points": len(x_fwd),
                "epochs": forward.epochs,
                "seconds": round(forward.seconds, 1),
                "val_loss": forward.best_val_loss,
                "config": asdict(config.forward),
                "output_weights": list(config.forward_weights),
            },
        },
    }
    (out / "model.json").write_text(json.dumps(meta, indent=1))
    t_fit = time.perf_counter() - t_start

    # -- evaluation --------------------------------------------------------------
    from surrogate.device.plot import plot_device
    from surrogate.device.sizing import DeviceModel

    model = DeviceModel(out, meta)
    report = evaluate(model, tables["reference"], x_test, y_test, separation)
    report.update(
        {
            "tech": tech.name,
            "device": config.device,
            "held_out_points": len(x_test),
            "training_points": {"inverse": len(x_inv), "forward": len(x_fwd)},
            "fit_seconds": round(t_fit, 1),
            "sweep_seconds": round(t_sweep, 1),
            "sweeps_reused": reused,
            "train_seconds": {
                "inverse": round(inverse.seconds, 1),
                "forward": round(forward.seconds, 1),
            },
            "epochs": {"inverse": inverse.epochs, "forward": forward.epochs},
            "model_bytes": {
                p.name: p.stat().st_size for p in sorted(out.iterdir()) if p.is_file()
            },
            "machine": f"{platform.machine()}, {config.workers} ngspice workers",
        }
    )
    accuracy_keys = (
        "network",
        "baseline",
        "helper",
        "above_weak_inversion",
        "baseline_coverage",
        "helper_valid_fraction",
        "held_out_points",
        "branches",
    )
    meta["accuracy"] = {k: report[k] for k in accuracy_keys}
    meta["fit_seconds"] = report["fit_seconds"]
    meta["sweep_seconds"] = report["sweep_seconds"]
    (out / "model.json").write_text(json.dumps(meta, indent=1))
    report["plot"] = str(plot_device(model, tables["reference"], out / "device.png"))
    return report


def _head_entry(n_components: int) -> dict:
    """The ``model.json`` keys describing the inverse network's head."""
    if not n_components:
        return {}
    return {
        "head": {
            "type": "mixture",
            "components": n_components,
            "layout": "[logits K | means K*D | softplus scale params K*D]",
            "scale_floor": SCALE_FLOOR,
            "point": "mean of the component with the largest logit",
        }
    }


def evaluate(
    model,
    reference: SweepTable,
    x_test: np.ndarray,
    y_test: np.ndarray,
    separation: np.ndarray,
) -> dict:
    """Held-out errors of the network, the table baseline and the helper.

    ``separation`` [n] (decades of L, ``branch_separation``) splits the points
    whose (gm/Id, fug) is also reached at a length ``MULTI_BRANCH`` away.
    """
    net = errors(model.predict_inverse(x_test), y_test)
    components, _ = model.inverse_components(x_test)
    any_branch = np.min(
        [errors(components[:, k], y_test)["l"] for k in range(components.shape[1])],
        axis=0,
    )
    multi = separation > MULTI_BRANCH
    baseline = PlaneInterpolator(reference, INVERSE_REGION)(x_test)
    covered = np.all(np.isfinite(baseline), axis=1)
    base = errors(baseline[covered], y_test[covered])
    # The helper sizes the reference-width device for the held-out current.
    i_d = 10 ** y_test[:, 0] * model.reference_width
    sized = model.sizing(
        x_test[:, 0], 10 ** x_test[:, 1], i_d, x_test[:, 2], x_test[:, 3]
    )
    helper_pred = np.stack(
        [
            np.log10(i_d / sized.w),
            sized.l,
            np.log10(sized.gds / sized.w),
            sized.vgs,
        ],
        axis=1,
    )
    ok = sized.valid
    helper = errors(helper_pred[ok], y_test[ok])
    # Below ~0.1 A/m (100 nA/um) gm/Id is nearly flat, so (gm/Id, fug) hardly
    # determine L and Vgs: most of the p95 tail lives there.
    strong = y_test[:, 0] >= STRONG_IDOVERW
    branches = {
        "separation_decades": MULTI_BRANCH,
        "multi_fraction": float(multi.mean()),
        "network_single": _summary({k: v[~multi] for k, v in net.items()}),
        "network_multi": _summary({k: v[multi] for k, v in net.items()}),
        "l_best_component": _summary({"all": any_branch, "multi": any_branch[multi]}),
    }
    return {
        "network": _summary(net),
        "baseline": _summary(base),
        "baseline_coverage": float(covered.mean()),
        "helper": _summary(helper),
        "helper_valid_fraction": float(ok.mean()),
        "above_weak_inversion": {
            "idoverw_min": 10**STRONG_IDOVERW,
            "fraction": float(strong.mean()),
            "network": _summary({k: v[strong] for k, v in net.items()}),
            "baseline": _summary({k: v[strong[covered]] for k, v in base.items()}),
        },
        "branches": branches,
    }
