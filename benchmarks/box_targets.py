"""Box targets: a trained run against the baselines on the same declared-box targets.

    python benchmarks/box_targets.py --eval-json EVAL.json --run RUN \\
        [--ceiling 0.983 --ceiling-note "..."] [--baseline-sims B] [--workers 2] \\
        [--anchored-worktree DIR --anchored-run RUN --anchored-targets T.json] \\
        [--json OUT]

Our row comes from what ``python -m train.eval --run RUN --n T --seed S
--json EVAL.json`` measured (strict success, sims per target, sizing sims and
seconds) and from the run (``held_out.json``: training SPICE sims and wall).
The same ``T`` targets (``envs.targets.draw_by_seed(box, T, S)``; ``T`` and
``S`` parsed from the eval JSON's ``targets_from``, or ``--n``/``--seed``) then
go to the
baselines, each simulating in ngspice with a fresh simulation store in a
temporary directory (nothing is served from earlier runs):

- ``random (shared pool)``: N uniform random designs, N = our total SPICE
  sims (training + sizing); a target is met when some design meets it
  (``sim.search.archive.archive_meets``). What a user gets from the same total
  budget by random sampling, with no per-target sims afterwards.
- ``random per target``: up to B independent uniform designs per target,
  stopping at the first that meets it; sims per target = sims to the first
  success (B when never).
- ``CMA-ES per target``: per target a fresh CMA-ES (package ``cma``) over the
  unit cube, x0 = 0.5, sigma 0.3, popsize min(B, 4 + floor(3 ln n)),
  maximising the worst spec margin (``TargetBox.margin``, a missing figure
  -10), up to B sims. A generation is simulated as one batch; sims per target
  count up to the first meeting design in ask order, total SPICE sims count
  every design simulated (the rest of that generation too).

B = ``--baseline-sims`` (default max(5, ceil(our total sims / T))). Targets
run in lockstep, so each ``simulate`` call carries one batch for all workers.

With ``--anchored-worktree`` (a git worktree of the anchored trainer, commit
e32e569) and ``--anchored-run`` (a run trained there), the same targets are
written to ``--anchored-targets`` as a JSON list of {spec: value} and that
worktree's own ``python -m train.eval --max-sims M`` sizes them (with its
run's store, ``--anchored-store``); its training sims come from the run's
``metrics.jsonl``, and the store's row count before and after the eval
gives the SPICE sims it really ran.

Prints a markdown table (strict success, median and p90 sims per target,
total SPICE sims as training + sizing, wall seconds, points to the
feasibility ceiling) and writes everything, with machine info and load
averages at start and end, as JSON.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from envs.targets import draw_by_seed  # noqa: E402
from sim.cli_conventions import (  # noqa: E402
    add_count_option,
    add_json_option,
    keeps_stdout_for_json,
    write_json,
)
from sim.errors import OneLineArgumentParser  # noqa: E402
from sim.format.targets import TargetBox  # noqa: E402
from sim.search.archive import archive_meets, design_of  # noqa: E402
from sim.sizing.session import ProblemOptions, Session, open_session  # noqa: E402
from sim.storage.store import SimulationStore  # noqa: E402

TARGETS_FROM = re.compile(r"(?P<n>\d+) targets .*\(seed (?P<seed>-?\d+)\)")
CMA_X0 = 0.5
CMA_SIGMA = 0.3


# -- inputs ---------------------------------------------------------------------
def target_source(report: dict, n: int | None, seed: int | None) -> tuple[int, int]:
    """Number of targets and their seed: the flags, else the eval report's
    ``targets_from`` ("1000 targets uniform over the declared box (seed 1)"),
    else 1000 and 1."""
    match = TARGETS_FROM.search(str(report.get("targets_from", "")))
    if n is None:
        n = int(match["n"]) if match else int(report.get("targets", 1000))
    if seed is None:
        seed = int(match["seed"]) if match else 1
    return n, seed


def run_box(run: Path, session: Session) -> TargetBox:
    """The box the run was trained and evaluated on: its ``held_out.json``
    box when it records one, else the circuit's declared box."""
    held_out = run / "held_out.json"
    if held_out.is_file():
        data = json.loads(held_out.read_text())
        if "box" in data:
            spec_box = session.problem.box
            units = dict(zip(spec_box.names, spec_box.units, strict=True))
            return TargetBox.from_json(data["box"], units)
    return session.problem.box


def check_same_targets(report: dict, targets: np.ndarray, box: TargetBox) -> int:
    """How many of the eval report's per-target targets equal ours (all must:
    a ``ValueError`` otherwise); 0 when the report lists none."""
    listed = report.get("per_target") or []
    for i, entry in enumerate(listed):
        theirs = np.asarray(
            [
                np.nan if entry["target"].get(s) is None else entry["target"][s]
                for s in box.names
            ],
            np.float64,
        )
        if not np.allclose(theirs, targets[i], rtol=1e-9, equal_nan=True):
            raise ValueError(f"target {i} of the eval JSON differs from box.sample")
    if listed and len(listed) != len(targets):
        raise ValueError(f"the eval JSON has {len(listed)} targets, not {len(targets)}")
    return len(listed)


# -- simulation -----------------------------------------------------------------
def fresh_session(options: ProblemOptions, workers: int, tmp: Path, name: str):
    """A session whose store is a new file under ``tmp`` (nothing cached)."""
    store = SimulationStore(tmp / f"{name}.sqlite")
    return open_session(options, workers=workers, store=store)


def simulate_units(
    session: Session, box: TargetBox, units: np.ndarray, progress: bool = False
) -> tuple[np.ndarray, int]:
    """Spec figures ``[k, m]`` (NaN where missing or failed) of unit-cube
    points ``units`` ``[k, n]``, and how many were served by the store."""
    parameters = session.simulator.circuit.parameters
    names = [p.name for p in parameters]
    designs = [
        dict(zip(names, map(float, design_of(parameters, u)), strict=True))
        for u in units
    ]
    if not designs:
        return np.zeros((0, len(box.specs))), 0
    results = session.simulator.simulate(designs, progress=progress)
    figures = np.full((len(results), len(box.specs)), np.nan)
    for i, result in enumerate(results):
        if result.ok:
            figures[i] = [
                np.nan if result.performance.get(s) is None else result.performance[s]
                for s in box.names
            ]
    return figures, sum(bool(r.cached) for r in results)


def worst_margin(figures: np.ndarray, target: np.ndarray, box: TargetBox):
    """Smallest spec margin ``[k]`` of figures ``[k, m]`` on one target; a
    missing figure counts ``-NO_REQUIREMENT`` (-10, ``TargetBox.margin``)."""
    return box.margin(figures, target).min(axis=-1)


def per_target_summary(met: np.ndarray, sims: np.ndarray) -> dict:
    """Strict success and sims-per-target statistics of one method."""
    return {
        "success_rate": float(met.mean()),
        "met": int(met.sum()),
        "median_sims_per_target": float(np.median(sims)),
        "p90_sims_per_target": float(np.percentile(sims, 90)),
        "mean_sims_per_target": float(sims.mean()),
    }


# -- the baselines --------------------------------------------------------------
def random_shared(session, box, targets, n_designs: int, seed: int) -> dict:
    """N uniform random designs; a target is met when one of them meets it."""
    n_params = len(session.simulator.circuit.parameters)
    units = np.random.default_rng(seed).random((n_designs, n_params))
    started = time.perf_counter()
    figures, cached = simulate_units(session, box, units, progress=True)
    seconds = time.perf_counter() - started
    met = archive_meets(figures, targets, box)
    return {
        "method": "random (shared pool)",
        "success_rate": float(met.mean()),
        "met": int(met.sum()),
        "median_sims_per_target": None,
        "p90_sims_per_target": None,
        "training_sims": n_designs,
        "sizing_sims": 0,
        "total_sims": n_designs,
        "served_from_store": cached,
        "failed_sims": int(np.isnan(figures).all(axis=1).sum()),
        "wall_seconds": seconds,
        "seed": seed,
        "per_target_met": met.tolist(),
    }


def random_per_target(session, box, targets, budget: int, seed: int) -> dict:
    """Up to ``budget`` uniform designs per target, stopping at the first
    that meets it; all targets advance one design per ``simulate`` call."""
    from tqdm import tqdm

    n_targets = len(targets)
    n_params = len(session.simulator.circuit.parameters)
    units = np.random.default_rng(seed).random((n_targets, budget, n_params))
    met = np.zeros(n_targets, bool)
    sims = np.zeros(n_targets, np.int64)
    cached = 0
    started = time.perf_counter()
    with tqdm(range(budget), desc="random per target", unit="round") as bar:
        for k in bar:
            active = np.flatnonzero(~met)
            if len(active) == 0:
                break
            figures, served = simulate_units(session, box, units[active, k])
            cached += served
            sims[active] += 1
            hit = box.met(figures, targets[active])
            met[active[hit]] = True
            bar.set_postfix(met=int(met.sum()))
    seconds = time.perf_counter() - started
    return {
        "method": "random per target",
        **per_target_summary(met, sims),
        "budget_per_target": budget,
        "training_sims": 0,
        "sizing_sims": int(sims.sum()),
        "total_sims": int(sims.sum()),
        "served_from_store": cached,
        "wall_seconds": seconds,
        "seed": seed,
        "per_target_met": met.tolist(),
        "per_target_sims": sims.tolist(),
    }


def cma_popsize(budget: int, n_params: int) -> int:
    """CMA-ES's default population, capped at the per-target budget."""
    return max(1, min(budget, 4 + int(math.floor(3 * math.log(n_params)))))


def cma_per_target(session, box, targets, budget: int, seed: int) -> dict:
    """A fresh CMA-ES per target on the unit cube (worst margin maximised),
    up to ``budget`` sims, stopping at the first design that meets it; one
    generation of every unfinished target per ``simulate`` call."""
    import cma
    from tqdm import tqdm

    n_targets = len(targets)
    n_params = len(session.simulator.circuit.parameters)
    popsize = cma_popsize(budget, n_params)
    options = {"popsize": popsize, "bounds": [0.0, 1.0], "verbose": -9}
    searches = [
        cma.CMAEvolutionStrategy(
            [CMA_X0] * n_params, CMA_SIGMA, {**options, "seed": seed * 100_003 + t + 1}
        )
        for t in range(n_targets)
    ]
    met = np.zeros(n_targets, bool)
    used = np.zeros(n_targets, np.int64)  # sims up to the first success
    simulated = 0
    cached = 0
    generations = math.ceil(budget / popsize)
    started = time.perf_counter()
    with tqdm(range(generations), desc="CMA-ES per target", unit="gen") as bar:
        for _ in bar:
            active = [t for t in range(n_targets) if not met[t] and used[t] < budget]
            if not active:
                break
            asked = {t: np.asarray(searches[t].ask()) for t in active}
            sizes = {t: min(popsize, budget - int(used[t])) for t in active}
            batch = np.concatenate([asked[t][: sizes[t]] for t in active])
            figures, served = simulate_units(session, box, np.clip(batch, 0.0, 1.0))
            cached += served
            simulated += len(batch)
            start = 0
            for t in active:
                rows = figures[start : start + sizes[t]]
                start += sizes[t]
                hits = np.flatnonzero(box.met(rows, targets[t]))
                if len(hits):
                    met[t] = True
                    used[t] += int(hits[0]) + 1
                    continue
                used[t] += sizes[t]
                if sizes[t] == popsize:
                    fitness = -worst_margin(rows, targets[t], box)
                    searches[t].tell(list(asked[t]), fitness.tolist())
            bar.set_postfix(met=int(met.sum()))
    seconds = time.perf_counter() - started
    return {
        "method": "CMA-ES per target",
        **per_target_summary(met, used),
        "budget_per_target": budget,
        "popsize": popsize,
        "x0": CMA_X0,
        "sigma0": CMA_SIGMA,
        "training_sims": 0,
        "sizing_sims": simulated,
        "total_sims": simulated,
        "sims_to_first_success_total": int(used.sum()),
        "served_from_store": cached,
        "wall_seconds": seconds,
        "seed": seed,
        "cma_version": cma.__version__,
        "per_target_met": met.tolist(),
        "per_target_sims": used.tolist(),
    }


# -- our run and the anchored trainer -------------------------------------------
def ours(report: dict, run: Path) -> dict:
    """Our trainer's row, from the eval report and the run's ``held_out.json``."""
    training_wall = None
    held_out = run / "held_out.json"
    if held_out.is_file():
        curve = json.loads(held_out.read_text()).get("curve") or []
        if curve:
            training_wall = curve[-1].get("wall_seconds")
    sizing_seconds = report.get("sizing_seconds")
    wall = (
        training_wall + sizing_seconds
        if training_wall is not None and sizing_seconds is not None
        else None
    )
    training, sizing = int(report["training_sims"]), int(report["sizing_sims"])
    return {
        "method": "ours (trained run + train.eval)",
        "success_rate": float(report["success_rate"]),
        "met": int(round(report["success_rate"] * report["targets"])),
        "median_sims_per_target": report["median_sims_per_target"],
        "p90_sims_per_target": report["p90_sims_per_target"],
        "mean_sims_per_target": report.get("mean_sims_per_target"),
        "met_by_training_designs": report.get("met_by_training_designs"),
        "training_sims": training,
        "sizing_sims": sizing,
        "total_sims": training + sizing,
        "training_wall_seconds": training_wall,
        "sizing_seconds": sizing_seconds,
        "wall_seconds": wall,
        "run": str(run),
        "per_target_met": (
            [bool(t["met"]) for t in report["per_target"]]
            if report.get("per_target")
            else None
        ),
        "per_target_sims": (
            [int(t["sims"]) for t in report["per_target"]]
            if report.get("per_target")
            else None
        ),
    }


def store_rows(path: Path) -> int | None:
    """Rows of a simulation store (SPICE sims it recorded), None if absent."""
    if not path.is_file():
        return None
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT COUNT(*) FROM simulations").fetchone()[0])


def anchored(args, targets: np.ndarray, box: TargetBox) -> dict:
    """The anchored trainer's row: its own ``train.eval`` on our targets."""
    if np.isnan(targets).any():
        raise ValueError("the anchored eval needs every spec of every target")
    target_file = Path(args.anchored_targets)
    entries = [dict(zip(box.names, map(float, row), strict=True)) for row in targets]
    target_file.write_text(json.dumps(entries, indent=1) + "\n")
    out = Path(args.anchored_targets).with_suffix(".anchored_eval.json")
    if args.anchored_eval_json:
        out = Path(args.anchored_eval_json)
    store = Path(args.anchored_store)
    before = store_rows(store)
    command = [
        sys.executable,
        "-m",
        "train.eval",
        "--run",
        str(args.anchored_run),
        "--targets",
        str(target_file),
        "--max-sims",
        str(args.anchored_max_sims),
        "--json",
        str(out),
        "--workers",
        str(args.workers),
    ]
    env = {**os.environ, "JAXSIZER_STORE": str(store)}
    env.pop("PYTHONPATH", None)
    started = time.perf_counter()
    subprocess.run(command, cwd=args.anchored_worktree, env=env, check=True)
    seconds = time.perf_counter() - started
    after = store_rows(store)
    report = json.loads(out.read_text())
    metrics = Path(args.anchored_run) / "metrics.jsonl"
    lines = metrics.read_text().splitlines() if metrics.is_file() else []
    last = json.loads(lines[-1]) if lines else {}
    training = int(last.get("spice_sims", report.get("training_sims", 0)))
    sizing = None if before is None or after is None else after - before
    training_wall = last.get("wall_seconds")
    return {
        "method": "anchored trainer (e32e569)",
        "success_rate": float(report["success_rate"]),
        "met": int(round(report["success_rate"] * report["targets"])),
        "median_sims_per_target": report["median_sims_per_target"],
        "p90_sims_per_target": report["p90_sims_per_target"],
        "training_sims": training,
        "verified_records": report.get("training_sims"),
        "sizing_sims": sizing,
        "total_sims": None if sizing is None else training + sizing,
        "store_rows_before_eval": before,
        "store_rows_after_eval": after,
        "training_wall_seconds": training_wall,
        "sizing_seconds": seconds,
        "wall_seconds": None if training_wall is None else training_wall + seconds,
        "eval_json": str(out),
        "targets_file": str(target_file),
        "run": str(args.anchored_run),
        "metrics_last": last,
    }


# -- where each method wins ----------------------------------------------------
DIFFICULTY_BINS = (0.0, 0.5, 0.8, 1.0 + 1e-9)


def hardest_position(targets: np.ndarray, box: TargetBox) -> np.ndarray:
    """Per target ``[T]``: its hardest spec's position from the box's easy
    end (0) to its hard end (1) (``TargetBox.difficulty``; fixed specs 0)."""
    return np.nan_to_num(box.difficulty(targets), nan=0.0).max(axis=-1)


def by_difficulty(rows: list[dict], targets: np.ndarray, box: TargetBox) -> dict:
    """Success per bin of hardest-spec position, for rows with per-target
    results; and per baseline, targets it met that ours missed and back."""
    position = hardest_position(targets, box)
    bins = {}
    for low, high in zip(DIFFICULTY_BINS[:-1], DIFFICULTY_BINS[1:], strict=True):
        inside = (position >= low) & (position < high)
        label = f"[{low:g}, {min(high, 1.0):g}]"
        bins[label] = {"targets": int(inside.sum())}
        for row in rows:
            if row.get("per_target_met") is not None and inside.any():
                met = np.asarray(row["per_target_met"], bool)
                bins[label][row["method"]] = float(met[inside].mean())
    ours_met = rows[0].get("per_target_met")
    versus = {}
    if ours_met is not None:
        ours_met = np.asarray(ours_met, bool)
        for row in rows[1:]:
            if row.get("per_target_met") is not None:
                met = np.asarray(row["per_target_met"], bool)
                versus[row["method"]] = {
                    "met_where_ours_missed": int((met & ~ours_met).sum()),
                    "missed_where_ours_met": int((~met & ours_met).sum()),
                }
    return {"hardest_spec_position_bins": bins, "versus_ours": versus}


def difficulty_table(split: dict) -> str:
    """Markdown: success per hardest-spec position bin, per method."""
    bins = split["hardest_spec_position_bins"]
    methods = list(dict.fromkeys(k for b in bins.values() for k in b))
    methods.remove("targets")
    lines = [
        "| hardest spec position | targets | " + " | ".join(methods) + " |",
        "|---|---|" + "---|" * len(methods),
    ]
    for label, entry in bins.items():
        cells = [_cell(entry.get(m), "{:.1%}") for m in methods]
        lines.append(f"| {label} | {entry['targets']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


# -- output ---------------------------------------------------------------------
def machine_info() -> dict:
    """Platform, CPU model and count, Python (load averages added by main)."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "platform": platform.platform(),
        "cpu_model": model,
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
    }


def _cell(value, fmt: str = "{:g}") -> str:
    return "–" if value is None else fmt.format(value)


def table(rows: list[dict], ceiling: float | None) -> str:
    """The markdown table of every method's row."""
    lines = [
        "| method | strict success | vs ceiling (points) | median sims/target "
        "| p90 | total SPICE sims (training + sizing) | wall s |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        gap = None if ceiling is None else 100 * (row["success_rate"] - ceiling)
        sizing = row.get("sizing_sims")
        total = row.get("total_sims")
        sims = (
            f"{total:,} ({row['training_sims']:,} + {sizing:,})"
            if total is not None
            else f"? ({row['training_sims']:,} + not measured)"
        )
        lines.append(
            f"| {row['method']} | {row['success_rate']:.1%} | {_cell(gap, '{:+.1f}')}"
            f" | {_cell(row.get('median_sims_per_target'))}"
            f" | {_cell(row.get('p90_sims_per_target'))} | {sims}"
            f" | {_cell(row.get('wall_seconds'), '{:.0f}')} |"
        )
    return "\n".join(lines)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = OneLineArgumentParser(
        prog="python benchmarks/box_targets.py",
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--eval-json", type=Path, required=True, help="train.eval --json report"
    )
    parser.add_argument(
        "--run", type=Path, required=True, help="the trained run directory"
    )
    add_count_option(parser, None, "targets (default: eval's)", old=["--targets"])
    parser.add_argument("--seed", type=int, default=None, help="default: eval's")
    parser.add_argument(
        "--ceiling", type=float, default=None, help="feasibility ceiling (0..1)"
    )
    parser.add_argument(
        "--ceiling-note", default="", help="how the ceiling was measured"
    )
    parser.add_argument(
        "--baseline-sims",
        type=int,
        default=None,
        help="B per target (default max(5, ceil(our total sims / targets)))",
    )
    parser.add_argument(
        "--baseline-seed", type=int, default=0, help="seed of the baselines"
    )
    parser.add_argument(
        "--workers", type=int, default=2, help="ngspice workers (default 2)"
    )
    parser.add_argument(
        "--methods",
        default="random_shared,random_per_target,cma",
        help="comma-separated subset of the baselines",
    )
    parser.add_argument(
        "--anchored-worktree",
        type=Path,
        default=None,
        help="a worktree of the first wave's code (e32e569)",
    )
    parser.add_argument(
        "--anchored-run", type=Path, default=None, help="its trained run"
    )
    parser.add_argument(
        "--anchored-targets",
        type=Path,
        default=None,
        help="target file written for its train.eval",
    )
    parser.add_argument(
        "--anchored-eval-json",
        type=Path,
        default=None,
        help="its train.eval report (JSON path)",
    )
    parser.add_argument(
        "--anchored-store", type=Path, default=None, help="the anchored run's store"
    )
    parser.add_argument(
        "--anchored-max-sims", type=int, default=5, help="its sims per target"
    )
    add_json_option(parser, "the report", default="box_targets.json")
    args = parser.parse_args(argv)
    if args.anchored_run is not None and (
        args.anchored_worktree is None
        or args.anchored_targets is None
        or args.anchored_store is None
    ):
        parser.error(
            "--anchored-run needs --anchored-worktree, --anchored-targets "
            "and --anchored-store"
        )
    return args


@keeps_stdout_for_json
def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    load_start = os.getloadavg()
    report = json.loads(args.eval_json.read_text())
    from train.run import run_options

    options = run_options(args.run)
    n_targets, seed = target_source(report, args.n, args.seed)
    ours_row = ours(report, args.run)
    budget = args.baseline_sims or max(5, math.ceil(ours_row["total_sims"] / n_targets))
    runners: dict[str, Callable[..., dict]] = {
        "random_shared": lambda s, b, t: random_shared(
            s, b, t, ours_row["total_sims"], args.baseline_seed
        ),
        "random_per_target": lambda s, b, t: random_per_target(
            s, b, t, budget, args.baseline_seed
        ),
        "cma": lambda s, b, t: cma_per_target(s, b, t, budget, args.baseline_seed),
    }
    probe = open_session(options, store=SimulationStore(":memory:"))
    try:
        box = run_box(args.run, probe)
    finally:
        probe.close()
    targets = draw_by_seed(box, n_targets, seed)
    checked = check_same_targets(report, targets, box)
    rows = [ours_row]
    with tempfile.TemporaryDirectory(prefix="jaxsizer-box-") as tmp:
        for name in [m for m in args.methods.split(",") if m]:
            session = fresh_session(options, args.workers, Path(tmp), name)
            try:
                rows.append(runners[name](session, box, targets))
            finally:
                session.close()
            print(table(rows[-1:], args.ceiling).splitlines()[-1], flush=True)
    if args.anchored_run is not None:
        rows.append(anchored(args, targets, box))
    load_end = os.getloadavg()
    print()
    print(
        f"{options.circuit}/{options.tech}: {n_targets} targets uniform over the "
        f"declared box (seed {seed}); baselines B = {budget} sims per target"
    )
    if args.ceiling is not None:
        print(f"feasibility ceiling: {args.ceiling:.1%} {args.ceiling_note}".rstrip())
    print(table(rows, args.ceiling))
    split = by_difficulty(rows, targets, box)
    print()
    print(difficulty_table(split))
    for method, counts in split["versus_ours"].items():
        print(
            f"{method}: met {counts['met_where_ours_missed']} targets ours missed, "
            f"missed {counts['missed_where_ours_met']} ours met"
        )
    print(
        f"load average 1/5/15 min: start {'/'.join(f'{x:.2f}' for x in load_start)}, "
        f"end {'/'.join(f'{x:.2f}' for x in load_end)}"
    )
    out = {
        "circuit": options.circuit,
        "technology": options.tech,
        "problem": options.to_json(),
        "box": box.to_json(),
        "targets": n_targets,
        "targets_seed": seed,
        "targets_checked_against_eval_json": checked,
        "baseline_sims_per_target": budget,
        "ceiling": args.ceiling,
        "ceiling_note": args.ceiling_note,
        "eval_json": str(args.eval_json),
        "rows": rows,
        "by_difficulty": split,
        "machine": {
            **machine_info(),
            "workers": args.workers,
            "load_average_start": load_start,
            "load_average_end": load_end,
        },
        "started_at": started_at,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    print(f"wrote {write_json(args.json, out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
