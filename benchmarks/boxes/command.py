"""``python -m benchmarks boxes``: one method on every foreign box, per seed.

    python -m benchmarks boxes --method ours --seeds 0 1 2 \\
        [--boxes autockt_twostage ppaas_twostage] [--out DIR] \\
        [--sim-budget 10000] [--train-args "--policy-updates 8"] [--workers 2]
    python -m benchmarks boxes --quick            # tiny smoke run

For every box (``benchmarks/boxes/*/box.json``) and seed, a *cell*: the
method sizes the box's 1000 targets drawn with seed 1
(``envs.targets.draw_by_seed(box, 1000, 1)``: the draw its feasibility
ceiling was measured on, and ``train.eval --n 1000 --seed 1``'s). Methods:

- ``ours``: ``python -m train --circuit C --tech T --seed S --sim-budget B``
  plus ``--train-args``, with a fresh store, then ``python -m train.eval
  --max-sims 5`` on the targets (``benchmarks.sizing.ours``). Every design
  the eval returns is simulated again by a fresh ``Simulator`` (in-memory
  store, ``force``) and strict success is counted from those figures; the
  sizer's own count is kept beside it (``reported_met``).
- ``ours-no-policy``: the same with ``--policy-updates 0`` (the ablation at
  equal budget).
- ``random-pool``, ``random``, ``cmaes``: ``benchmarks.sizing``'s baselines
  (a shared pool of uniform random designs; random search and CMA-ES per
  target), seed S, each with a fresh store, at the total budget of ours (or
  ours-no-policy) on that box and seed when ``--out`` holds it, else
  ``--sim-budget``; per-target baselines get total // targets sims each.

Each cell writes ``--out/results/<box>/<method>-s<seed>.json`` when it is
done; a cell with a result is skipped, a cell without one starts afresh
(its work folder ``--out/cells/...`` is wiped), so a kill loses at most the
cell that was running. After every cell the report is rewritten from all
results in ``--out``: ``boxes.md`` (per cell, and the minimum over seeds),
``boxes.json`` and ``success_<box>.png`` (success vs total SPICE sims).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import time
from pathlib import Path

import numpy as np

from benchmarks import sizing
from benchmarks.boxes.registry import Box, box_names, load_box, load_boxes
from benchmarks.sizing_report import environment, plot_success
from sim.cli_conventions import add_out_option
from sim.errors import UserInputError, positive_int
from sim.sizing.simulator import Simulator
from sim.storage.store import SimulationStore

METHODS = ("ours", "ours-no-policy", "random-pool", "random", "cmaes")
OURS = ("ours", "ours-no-policy")
TARGETS, TARGETS_SEED = 1000, 1
QUICK_TARGETS = 20
MAX_SIMS = 5  # train.eval's sims per target


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``python -m benchmarks boxes`` (one help each)."""
    parser.add_argument(
        "--method",
        nargs="+",
        default=None,
        help=f"method(s): {', '.join(METHODS)} (default ours)",
    )
    parser.add_argument(
        "--seeds", nargs="+", type=int, default=None, help="seeds (default 0)"
    )
    parser.add_argument(
        "--boxes",
        nargs="+",
        default=None,
        help=f"boxes (default all: {', '.join(box_names())})",
    )
    add_out_option(parser, "results, tables and plots", None)  # bench-boxes
    budgets = (
        ("--sim-budget", "SPICE sims of ours' training (count) (default 10000)"),
        ("--total-budget", "baselines' total SPICE sims (default: ours' total)"),
    )
    for flag, text in budgets:
        parser.add_argument(flag, type=positive_int, default=None, help=text)
    parser.add_argument(
        "--train-args", default="", help="extra flags for python -m train (quoted)"
    )
    parser.add_argument(
        "--workers", type=positive_int, default=2, help="ngspice workers (default 2)"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke run: {QUICK_TARGETS} targets, a tiny training, first box",
    )


def resolve(args: argparse.Namespace) -> argparse.Namespace:
    """Defaults filled in; unknown methods refused."""
    args.method = [m for item in (args.method or ["ours"]) for m in item.split(",")]
    unknown = sorted(set(args.method) - set(METHODS))
    if unknown:
        raise UserInputError(f"unknown method {unknown}: choose from {METHODS}")
    args.seeds = args.seeds if args.seeds is not None else [0]
    if args.quick:
        args.boxes = args.boxes or box_names()[:1]
        args.sim_budget = args.sim_budget or 200
        args.out = args.out or Path("bench-boxes-quick")
    args.boxes = load_boxes(args.boxes)
    args.sim_budget = args.sim_budget or 10_000
    args.out = Path(args.out or "bench-boxes")
    args.n_targets = QUICK_TARGETS if args.quick else TARGETS
    return args


# -- one cell ---------------------------------------------------------------------
def result_path(out: Path, box: str, method: str, seed: int) -> Path:
    return out / "results" / box / f"{method}-s{seed}.json"


def train_flags(args, method: str, seed: int) -> str:
    """The flags ``python -m train`` gets in a cell of ours."""
    flags = ["--seed", str(seed)]
    if args.quick:  # its own --sim-budget (200) and tiny networks
        flags += shlex.split(sizing.QUICK_TRAIN)
    else:
        flags += ["--sim-budget", str(args.sim_budget)]
    if method == "ours-no-policy":
        flags += ["--policy-updates", "0"]
    return shlex.join(flags) + (" " + args.train_args if args.train_args else "")


def cell_args(args, box: Box, method: str, seed: int) -> argparse.Namespace:
    """The namespace ``benchmarks.sizing``'s functions read, for one cell."""
    work = sizing.fresh_path(args.out / "cells" / box.name / f"{method}-s{seed}")
    work.mkdir(parents=True)
    problem = {"circuit": box.circuit, "tech": box.tech, "space": "geometric"}
    draw = {"run": None, "targets": None, "n": args.n_targets, "seed": TARGETS_SEED}
    flags = train_flags(args, method, seed)
    return argparse.Namespace(
        **problem,
        **draw,
        out=work,
        workers=args.workers,
        train_flags=flags,
        budget_per_target=MAX_SIMS,
        baseline_seed=seed,
    )


def resimulate(box: Box, problem_box, eval_json: Path, workers: int) -> dict:
    """Every design ``train.eval`` returned, simulated again by a fresh
    Simulator (nothing served from a store); strict success counted there."""
    report = json.loads(eval_json.read_text())
    entries = report["per_target"]
    names = problem_box.names
    targets = np.asarray(
        [
            [np.nan if e["target"].get(s) is None else e["target"][s] for s in names]
            for e in entries
        ],
        np.float64,
    )
    rows = [i for i, e in enumerate(entries) if e.get("params")]
    simulator = Simulator(
        box.circuit,
        box.tech,
        n_workers=workers,
        store=SimulationStore(":memory:"),
    )
    started = time.perf_counter()
    try:
        results = simulator.simulate([entries[i]["params"] for i in rows], force=True)
    finally:
        simulator.close()
    figures = np.full((len(entries), len(problem_box.names)), np.nan)
    for i, result in zip(rows, results, strict=True):
        if result.ok:
            figures[i] = [
                np.nan if result.performance.get(s) is None else result.performance[s]
                for s in problem_box.names
            ]
    met = problem_box.met(figures, targets)
    return {
        "met": met.tolist(),
        "reported_met": int(sum(bool(e["met"]) for e in entries)),
        "designs_resimulated": len(rows),
        "seconds": time.perf_counter() - started,
    }


def ours_total(out: Path, box: str, seed: int) -> int | None:
    """Ours' (else ours-no-policy's) total SPICE sims on a box and seed."""
    for method in OURS:
        path = result_path(out, box, method, seed)
        if path.is_file():
            return int(json.loads(path.read_text())["total_sims"])
    return None


def run_cell(args, box: Box, method: str, seed: int) -> dict:
    """One method on one box with one seed: its result row."""
    cell = cell_args(args, box, method, seed)
    options, problem_box, targets, targets_file = sizing.load_problem(cell)
    started = time.perf_counter()
    if method in OURS:
        row = sizing.finish_row(sizing.ours(cell, options, targets_file))
        check = resimulate(box, problem_box, cell.out / "ours_eval.json", args.workers)
        met = np.asarray(check.pop("met"), bool)
        sims = np.asarray(row["per_target_sims"], np.int64)
        training, total = row["training_sims"], row["total_sims"]
        curve = sizing.per_target_curve(met, sims, training)
        row = {
            **row,
            **check,
            "per_target_met": met.tolist(),
            "success_rate": float(met.mean()),
            "met": int(met.sum()),
            "curve": sizing.store_scaled(curve, training, total),
            "success_counted_by": "independent re-simulation (fresh Simulator, force)",
        }
    else:
        total = args.total_budget or ours_total(args.out, box.name, seed)
        total = total or args.sim_budget
        if method == "random-pool":
            row = sizing.random_pool(cell, options, problem_box, targets, total)
        else:
            budget = max(1, total // len(targets))
            row = sizing.per_target_baseline(
                cell, options, problem_box, targets, method, budget
            )
        row = {**sizing.finish_row(row), "total_budget": total}
    return {
        **row,
        "method": method,
        "box": box.name,
        "seed": seed,
        "ceiling": box.ceiling,
        "targets_from": f"{len(targets)} targets of box.sample (seed {TARGETS_SEED})",
        "cell_wall_seconds": time.perf_counter() - started,
        "circuit": options.circuit,
        "technology": options.tech,
    }


def write_result(path: Path, row: dict) -> None:
    """The cell's result, written whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(row, indent=1) + "\n")
    os.replace(partial, path)


# -- the report -------------------------------------------------------------------
def _cell(value, fmt: str = "{:g}") -> str:
    return "–" if value is None else fmt.format(value)


def cell_table(rows: list[dict]) -> str:
    """Markdown: one line per box x method x seed."""
    lines = [
        "| box | method | seed | strict success | ceiling | training sims "
        "| sizing sims | median / p90 sims per target | wall s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['box']} | {r['method']} | {r['seed']} | {r['success_rate']:.1%}"
            f" | {_cell(r.get('ceiling'), '{:.1%}')} | {r['training_sims']:,}"
            f" | {r['sizing_sims']:,} | {r['median_sims_per_target']:g} / "
            f"{r['p90_sims_per_target']:g} | {_cell(r.get('wall_seconds'), '{:.0f}')} |"
        )
    return "\n".join(lines)


def seed_table(rows: list[dict]) -> str:
    """Markdown: per box x method, the minimum and mean success over seeds."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in rows:
        groups.setdefault((r["box"], r["method"]), []).append(r)
    lines = [
        "| box | method | seeds | min success | mean success | ceiling "
        "| max total sims |",
        "|---|---|---|---|---|---|---|",
    ]
    for (box, method), group in groups.items():
        rates = [r["success_rate"] for r in group]
        lines.append(
            f"| {box} | {method} | {len(group)} | {min(rates):.1%} "
            f"| {np.mean(rates):.1%} | {_cell(group[0].get('ceiling'), '{:.1%}')} "
            f"| {max(r['total_sims'] for r in group):,} |"
        )
    return "\n".join(lines)


def collect(out: Path) -> list[dict]:
    """Every cell result in ``out``, sorted by box, method, seed; each with
    its box's ceiling as ``box.json`` records it now."""
    rows = [json.loads(p.read_text()) for p in (out / "results").glob("*/*.json")]
    ceilings = {name: load_box(name).ceiling for name in {r["box"] for r in rows}}
    rows = [{**r, "ceiling": ceilings[r["box"]]} for r in rows]
    order = {m: i for i, m in enumerate(METHODS)}
    return sorted(rows, key=lambda r: (r["box"], order[r["method"]], r["seed"]))


def write_report(args, started_at: str) -> dict:
    """``boxes.md``, ``boxes.json`` and one plot per box, from every result."""
    rows = collect(args.out)
    markdown = cell_table(rows) + "\n\n" + seed_table(rows) + "\n"
    date = time.strftime("%Y-%m-%d")
    for name in sorted({r["box"] for r in rows}):
        mine = [r for r in rows if r["box"] == name]
        plot_success(
            {
                "circuit": name,
                "technology": Path(mine[0]["technology"]).stem,
                "targets": mine[0]["targets"],
                "date": date,
                "rows": [{**r, "method": f"{r['method']} s{r['seed']}"} for r in mine],
            },
            args.out / f"success_{name}.png",
        )
    report = {
        "targets": args.n_targets,
        "targets_seed": TARGETS_SEED,
        "sizing_sims_per_target": MAX_SIMS,
        "quick": bool(args.quick),
        "rows": [
            {k: v for k, v in r.items() if not k.startswith("per_target")} for r in rows
        ],
        **environment(),
        "load_average": os.getloadavg(),
        "started_at": started_at,
        "written_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    (args.out / "boxes.md").write_text(markdown)
    (args.out / "boxes.json").write_text(json.dumps(report, indent=1) + "\n")
    return report


def run(args: argparse.Namespace) -> dict:
    """Every cell of ``args`` not yet done; the report of all results."""
    args = resolve(args)
    args.out.mkdir(parents=True, exist_ok=True)
    started_at = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    for box in args.boxes:
        for seed in args.seeds:
            for method in args.method:
                path = result_path(args.out, box.name, method, seed)
                if path.is_file():
                    print(f"{box.name} {method} s{seed}: done ({path})", flush=True)
                    continue
                row = run_cell(args, box, method, seed)
                write_result(path, row)
                write_report(args, started_at)
                print(cell_table([row]).splitlines()[-1], flush=True)
    report = write_report(args, started_at)
    print((args.out / "boxes.md").read_text())
    print(f"wrote {args.out}/boxes.md, boxes.json, success_<box>.png")
    return report
