"""``python -m benchmarks sizing``: every method on the same targets at equal
total SPICE budget, counted from each method's own simulation store.

    python -m benchmarks sizing --circuit twostage --tech generic --n 100 \\
        [--budget-per-target 5] [--methods ours,random_pool,random,cmaes,tpe,...] \\
        [--space geometric|electrical|autockt] [--run RUN] [--out DIR] [--quick]

``--space`` is the action space of the two policies (ours and ``ppo_spice``;
default geometric, a ``--run``'s own); the search baselines search the
circuit's parameters directly.

Methods (each simulates with a fresh store file under ``--out``):

- ``ours``: the trainer (``python -m train``, or a copy of ``--run``) then
  ``python -m train.eval`` on the targets with ``--budget-per-target`` sims
  each. Its store is the run's ``simulations.sqlite``: training data,
  verification and sizing all land there. With ``--run`` the run is copied
  under ``--out`` first, and "training" is every row its store held before
  the sizing (earlier evals of that run included: an upper bound).
- ``random_pool``: as many uniform random designs as the total budget,
  shared by every target (a target is met when one of them meets it).
- ``random``, ``cmaes``, ``tpe``: per target, up to B sims, stopping at the
  first design that meets it (random and CMA-ES are
  ``benchmarks/box_targets.py``'s; TPE is optuna's sampler on the same unit
  cube and worst-margin objective). B = total budget // targets.
- ``ppo_spice``: PPO directly on ngspice (``python -m train --spice-ppo``)
  with a training budget equal to ours' training sims, then the policy
  stepped from the default design, ``--budget-per-target`` sims per target
  at most and no more than the total budget leaves after its training
  (``train.spice_baseline.evaluate_baseline``).

The total budget is ``--total-budget``, else ours' total as read from its
store, else ``--budget-per-target`` x targets. Every method's total SPICE
sims are the rows of its store after it ran (a repeated design is served from
the store, not simulated again, and is not counted).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks import box_targets as bt
from benchmarks.sizing_report import (
    environment,
    plot_success,
    summary_line,
    table,
)
from envs.targets import draw_by_seed
from sim.cli_conventions import add_count_option, add_out_option
from sim.errors import UserInputError, positive_int
from sim.sizing.session import ProblemOptions, add_space_option, open_session
from sim.sizing.target_text import load_targets, targets_json
from sim.storage.store import SimulationStore

METHODS = ("ours", "random_pool", "random", "cmaes", "tpe", "ppo_spice")
QUICK_TRAIN = (
    "--sim-budget 200 --initial-samples 150 --max-rounds 1 --policy-updates 0 "
    "--held-out 10 --eval-every 1 --surrogate-hidden 32 --surrogate-members 2 "
    "--surrogate-max-epochs 20"
)
QUICK_PPO = "--ppo-n-envs 8 --ppo-n-steps 4 --ppo-minibatches 2 --ppo-epochs 2"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``python -m benchmarks sizing`` (one help each)."""
    parser.add_argument("--circuit", default=None, help="circuit name or YAML path")
    parser.add_argument("--tech", default=None, help="technology name or YAML path")
    add_space_option(parser)  # the space of ours' policy and ppo_spice's
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--targets", default=None, help="a target JSON file")
    add_count_option(
        source,
        None,
        "targets uniform over the declared box (default 100; quick 10)",
        old=["--box"],
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the box draw")
    parser.add_argument(
        "--budget-per-target",
        type=positive_int,
        default=None,
        help="sizing SPICE sims per target for ours and ppo_spice (default 5; quick 3)",
    )
    parser.add_argument(
        "--total-budget",
        type=positive_int,
        default=None,
        help="total SPICE sims per method (default: ours' total from its store)",
    )
    parser.add_argument(
        "--methods",
        default=",".join(METHODS),
        help=f"comma-separated subset of {','.join(METHODS)}",
    )
    parser.add_argument(
        "--run", default=None, help="an existing trained run for ours (copied)"
    )
    parser.add_argument(
        "--train-flags",
        default=None,
        help="extra python -m train flags for ours' run (one quoted string)",
    )
    parser.add_argument(
        "--ppo-flags",
        default=None,
        help="extra python -m train --spice-ppo flags (one quoted string)",
    )
    parser.add_argument(
        "--baseline-seed", type=int, default=0, help="seed of the baselines"
    )
    parser.add_argument(
        "--workers", type=positive_int, default=2, help="ngspice workers per method"
    )
    add_out_option(parser, "the report and runs (default bench-sizing/<c>-<t>)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="tiny sizes for CI: twostage/generic, 10 targets, a tiny run",
    )


def resolve(args: argparse.Namespace) -> argparse.Namespace:
    """Fill ``--quick``'s and the plain defaults; check the method names."""
    if args.quick:
        args.circuit = args.circuit or "twostage"
        args.tech = args.tech or "generic"
        if args.targets is None and args.n is None:
            args.n = 10
        args.budget_per_target = args.budget_per_target or 3
        args.train_flags = args.train_flags or QUICK_TRAIN
        args.ppo_flags = args.ppo_flags or QUICK_PPO
    if args.circuit is None or args.tech is None:
        raise UserInputError("give --circuit and --tech (or --quick)")
    if args.targets is None and args.n is None:
        args.n = 100
    args.budget_per_target = args.budget_per_target or 5
    args.methods = [m for m in args.methods.split(",") if m]
    unknown = sorted(set(args.methods) - set(METHODS))
    if unknown or not args.methods:
        raise UserInputError(f"unknown methods {unknown}: choose from {METHODS}")
    args.out = Path(args.out or f"bench-sizing/{Path(args.circuit).stem}-{args.tech}")
    return args


# -- stores and subprocesses ----------------------------------------------------
def store_rows(path: Path) -> int:
    """SPICE sims a store recorded (0 when the file does not exist)."""
    rows = bt.store_rows(Path(path))
    return 0 if rows is None else rows


def fresh_path(path: Path) -> Path:
    """``path`` with nothing left of an earlier benchmark (file, its WAL, or
    directory)."""
    if path.is_dir():
        shutil.rmtree(path)
    for extra in ("", "-wal", "-shm"):
        Path(f"{path}{extra}").unlink(missing_ok=True)
    return path


@contextlib.contextmanager
def default_store(path: Path):
    """``$JAXSIZER_STORE`` set to ``path`` inside the block (the store every
    ``open_session`` without a store opens)."""
    before = os.environ.get("JAXSIZER_STORE")
    os.environ["JAXSIZER_STORE"] = str(path)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("JAXSIZER_STORE", None)
        else:
            os.environ["JAXSIZER_STORE"] = before


def run_module(argv: list[str], store: Path, log: Path) -> None:
    """``python -m <argv>`` with ``$JAXSIZER_STORE=store``, output to ``log``;
    a failure raises with the log's last lines."""
    env = {**os.environ, "JAXSIZER_STORE": str(store)}
    with log.open("w") as handle:
        done = subprocess.run(
            [sys.executable, "-m", *argv], env=env, stdout=handle, stderr=handle
        )
    if done.returncode:
        tail = "\n".join(log.read_text().splitlines()[-5:])
        raise RuntimeError(f"python -m {' '.join(argv[:1])} failed ({log}):\n{tail}")


def per_target_curve(met, sims, training: int = 0) -> dict:
    """Success and total sims ``[k]`` had every target stopped after at most
    k = 0..max sims: the success-vs-budget curve of a per-target method."""
    met, sims = np.asarray(met, bool), np.asarray(sims, np.int64)
    top = int(sims.max()) if len(sims) else 0
    ks = np.arange(top + 1)
    return {
        "success_rate": [float((met & (sims <= k)).mean()) for k in ks],
        "total_sims": [int(training + np.minimum(sims, k).sum()) for k in ks],
    }


def store_scaled(curve: dict, training: int, total: int) -> dict:
    """The curve's sizing sims rescaled so that its end is the store's total:
    a method's own counter counts a design served from the store again (a
    repeat) and counts to the first success inside a CMA-ES generation, the
    store counts what ngspice ran."""
    sims = np.asarray(curve["total_sims"], np.float64) - training
    end = sims[-1] if len(sims) else 0.0
    factor = (total - training) / end if end > 0 else 1.0
    return {**curve, "total_sims": (training + sims * factor).round(1).tolist()}


# -- the methods ----------------------------------------------------------------
def ours(args, options: ProblemOptions, targets_file: Path) -> dict:
    """Train (or copy ``--run``), then ``train.eval`` on the targets."""
    run = fresh_path(args.out / "ours_run")
    store = run / "simulations.sqlite"
    started = time.perf_counter()
    if args.run:
        shutil.copytree(args.run, run)
        how = f"copy of {args.run}"
    else:
        problem = ["--circuit", options.circuit, "--tech", options.tech]
        problem += ["--space", options.space]
        flags = shlex.split(args.train_flags or "")
        argv = ["train", *problem, "--run", str(run), "--workers", str(args.workers)]
        run_module([*argv, *flags], store, args.out / "ours_train.log")
        how = "python -m train " + " ".join(flags)
    training_seconds = time.perf_counter() - started
    training = store_rows(store)
    report_path = args.out / "ours_eval.json"
    eval_argv = ["train.eval", "--run", str(run), "--targets", str(targets_file)]
    eval_argv += ["--max-sims", str(args.budget_per_target), "--json"]
    eval_argv += [str(report_path), "--workers", str(args.workers)]
    started = time.perf_counter()
    run_module(eval_argv, store, args.out / "ours_eval.log")
    sizing_seconds = time.perf_counter() - started
    report = json.loads(report_path.read_text())
    met = [bool(t["met"]) for t in report["per_target"]]
    sims = [int(t["sims"]) for t in report["per_target"]]
    return {
        "method": "ours",
        "how": f"{how}; train.eval --max-sims {args.budget_per_target}",
        "store": str(store),
        "training_sims": training,
        "budget_per_target": args.budget_per_target,
        "met_by_training_designs": report.get("met_by_training_designs"),
        "wall_seconds": training_seconds + sizing_seconds,
        "per_target_met": met,
        "per_target_sims": sims,
        "curve": per_target_curve(met, sims, training),
    }


def tpe_per_target(session, box, targets, budget: int, seed: int) -> dict:
    """A fresh optuna TPE study per target on the unit cube (worst margin
    maximised), up to ``budget`` sims, stopping at the first design that
    meets it; one trial of every unfinished target per ``simulate`` call."""
    import optuna
    from optuna.distributions import FloatDistribution

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    n_targets = len(targets)
    n_params = len(session.simulator.circuit.parameters)
    space = {f"u{i}": FloatDistribution(0.0, 1.0) for i in range(n_params)}
    studies = [
        optuna.create_study(
            direction="maximize",
            sampler=optuna.samplers.TPESampler(seed=seed * 100_003 + t + 1),
        )
        for t in range(n_targets)
    ]
    met = np.zeros(n_targets, bool)
    sims = np.zeros(n_targets, np.int64)
    for _ in range(budget):
        active = np.flatnonzero(~met)
        if not len(active):
            break
        trials = [studies[t].ask(space) for t in active]
        units = np.asarray(
            [[tr.params[f"u{i}"] for i in range(n_params)] for tr in trials]
        )
        figures, _ = bt.simulate_units(session, box, units)
        sims[active] += 1
        margin = np.nan_to_num(
            bt.worst_margin(figures, targets[active], box), nan=-10.0
        )
        for t, trial, value in zip(active, trials, margin, strict=True):
            studies[t].tell(trial, float(value))
        met[active[box.met(figures, targets[active])]] = True
    return {
        "method": "TPE per target",
        "budget_per_target": budget,
        "optuna_version": optuna.__version__,
        "per_target_met": met.tolist(),
        "per_target_sims": sims.tolist(),
    }


def first_meeting(figures: np.ndarray, targets: np.ndarray, box) -> np.ndarray:
    """Per target ``[T]``: index of the first design of ``figures`` ``[N, m]``
    that meets it, N when none does."""
    first = np.full(len(targets), len(figures), np.int64)
    step = max(1, 2_000_000 // max(1, figures.size))
    for start in range(0, len(targets), step):
        met = box.met(figures[None], targets[start : start + step, None])  # [t, N]
        hit = met.any(axis=1)
        first[start : start + step][hit] = met.argmax(axis=1)[hit]
    return first


def random_pool(args, options, box, targets, total: int) -> dict:
    """``total`` uniform random designs shared by every target (a target is
    met when one of them meets it): what the budget buys with no learning."""
    store = fresh_path(args.out / "stores" / "random_pool.sqlite")
    store.parent.mkdir(parents=True, exist_ok=True)
    session = open_session(options, workers=args.workers, store=SimulationStore(store))
    n_params = len(session.simulator.circuit.parameters)
    units = np.random.default_rng(args.baseline_seed).random((total, n_params))
    started = time.perf_counter()
    try:
        figures, _ = bt.simulate_units(session, box, units)
    finally:
        session.close()
        session.simulator.store.close()
    first = first_meeting(figures, targets, box)
    met = first < total
    ks = np.unique(np.concatenate([[0], np.minimum(first + 1, total), [total]]))
    return {
        "method": "random_pool",
        "how": f"{total} uniform random designs shared by all targets",
        "store": str(store),
        "training_sims": store_rows(store),
        "wall_seconds": time.perf_counter() - started,
        "per_target_met": met.tolist(),
        "per_target_sims": [0] * len(targets),  # no new sims once the pool exists
        "curve": {
            "success_rate": [float((first < k).mean()) for k in ks],
            "total_sims": [int(k) for k in ks],
        },
    }


def per_target_baseline(args, options, box, targets, name: str, budget: int) -> dict:
    """One per-target baseline (random, CMA-ES, TPE) with a fresh store."""
    store = fresh_path(args.out / "stores" / f"{name}.sqlite")
    store.parent.mkdir(parents=True, exist_ok=True)
    session = open_session(options, workers=args.workers, store=SimulationStore(store))
    run = {
        "random": bt.random_per_target,
        "cmaes": bt.cma_per_target,
        "tpe": tpe_per_target,
    }[name]
    started = time.perf_counter()
    try:
        row = run(session, box, targets, budget, args.baseline_seed)
    finally:
        session.close()
        session.simulator.store.close()
    met, sims = row["per_target_met"], row["per_target_sims"]
    keep = ("method", "budget_per_target", "popsize", "optuna_version", "cma_version")
    row = {k: v for k, v in row.items() if k in keep}
    return {
        **row,
        "method": name,
        "how": row["method"] + f", B = {budget}",
        "store": str(store),
        "training_sims": 0,
        "wall_seconds": time.perf_counter() - started,
        "per_target_met": met,
        "per_target_sims": sims,
        "curve": per_target_curve(met, sims),
    }


def ppo_spice(args, options, targets, training_budget: int, total: int) -> dict:
    """PPO trained on ngspice for ``training_budget`` sims, then evaluated
    with at most ``--budget-per-target`` sims per target and at most what
    the total budget leaves (``(total - training) // targets``, at least 1)."""
    from train.spice_baseline import evaluate_baseline

    store = fresh_path(args.out / "stores" / "ppo_spice.sqlite")
    store.parent.mkdir(parents=True, exist_ok=True)
    run = fresh_path(args.out / "ppo_spice_run")
    problem = ["--circuit", options.circuit, "--tech", options.tech]
    problem += ["--space", options.space]
    flags = shlex.split(args.ppo_flags or "")
    argv = ["train", "--spice-ppo", *problem, "--run", str(run)]
    argv += ["--sim-budget", str(max(training_budget, 10))]
    argv += ["--workers", str(args.workers)]
    started = time.perf_counter()
    run_module([*argv, *flags], store, args.out / "ppo_spice_train.log")
    training = store_rows(store)
    left = max(1, (total - training) // len(targets))
    max_sims = min(args.budget_per_target, left)
    with default_store(store):
        met, sims = evaluate_baseline(str(run), targets, max_sims, args.workers)
    met, sims = np.asarray(met, bool), np.asarray(sims, np.int64)
    return {
        "method": "ppo_spice",
        "how": f"python -m train --spice-ppo --sim-budget {training_budget} "
        + " ".join(flags)
        + f"; evaluate_baseline max_sims {max_sims}",
        "store": str(store),
        "training_sims": training,
        "budget_per_target": max_sims,
        "wall_seconds": time.perf_counter() - started,
        "per_target_met": met.tolist(),
        "per_target_sims": sims.tolist(),
        "curve": per_target_curve(met, sims, training),
    }


# -- the benchmark --------------------------------------------------------------
def load_problem(args) -> tuple[ProblemOptions, object, np.ndarray, Path]:
    """Options, target box and targets ``[T, m]``; the targets are written to
    ``--out``/targets.json (what ours' eval reads)."""
    options = ProblemOptions(args.circuit, args.tech, space=args.space or "geometric")
    if args.run:
        from train.run import run_options

        theirs = run_options(args.run)
        if (
            Path(theirs.circuit).stem != Path(options.circuit).stem
            or Path(theirs.tech).stem != Path(options.tech).stem
        ):
            raise UserInputError(
                f"--run {args.run} sizes {theirs.circuit}/{theirs.tech}, "
                f"not {options.circuit}/{options.tech}"
            )
        from train.run_dir import refuse_other_space

        refuse_other_space(f"--run {args.run}", theirs.space, args.space)
        options = theirs
    probe = open_session(options, store=SimulationStore(":memory:"))
    try:
        box = bt.run_box(Path(args.run), probe) if args.run else probe.problem.box
    finally:
        probe.close()
    if args.targets:
        targets = load_targets(args.targets, box)
        source = f"target file {args.targets}"
    else:
        targets = draw_by_seed(box, args.n, args.seed)
        source = f"{args.n} targets uniform over the declared box (seed {args.seed})"
    targets_file = args.out / "targets.json"
    targets_file.write_text(json.dumps(targets_json(targets, box), indent=1) + "\n")
    args.targets_source = source
    return options, box, targets, targets_file


def finish_row(row: dict) -> dict:
    """Totals read back from the method's store; success and sims statistics."""
    total = store_rows(Path(row["store"]))
    met = np.asarray(row["per_target_met"], bool)
    sims = np.asarray(row["per_target_sims"], np.int64)
    return {
        **row,
        "curve": store_scaled(row["curve"], row["training_sims"], total),
        "total_sims": total,
        "sizing_sims": total - row["training_sims"],
        "success_rate": float(met.mean()),
        "met": int(met.sum()),
        "targets": int(len(met)),
        "median_sims_per_target": float(np.median(sims)),
        "p90_sims_per_target": float(np.percentile(sims, 90)),
    }


def run(args: argparse.Namespace) -> dict:
    """Every method of ``args.methods``; the report (also written to --out)."""
    args = resolve(args)
    args.out.mkdir(parents=True, exist_ok=True)
    started_at = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    load_start = os.getloadavg()
    options, box, targets, targets_file = load_problem(args)
    n_targets = len(targets)
    rows: list[dict] = []
    skipped: dict[str, str] = {}
    if "ours" in args.methods:
        rows.append(finish_row(ours(args, options, targets_file)))
        print(summary_line(rows[-1]), flush=True)
    total = args.total_budget or (
        rows[0]["total_sims"] if rows else args.budget_per_target * n_targets
    )
    budget = max(1, total // n_targets)
    if "random_pool" in args.methods:
        rows.append(finish_row(random_pool(args, options, box, targets, total)))
        print(summary_line(rows[-1]), flush=True)
    for name in ("random", "cmaes", "tpe"):
        if name not in args.methods:
            continue
        if name == "tpe" and not _has_optuna():
            skipped[name] = "optuna is not installed (pip install -e '.[bench]')"
            print(f"tpe: skipped: {skipped[name]}", flush=True)
            continue
        row = per_target_baseline(args, options, box, targets, name, budget)
        rows.append(finish_row(row))
        print(summary_line(rows[-1]), flush=True)
    if "ppo_spice" in args.methods:
        training = (
            rows[0]["training_sims"]
            if rows and rows[0]["method"] == "ours"
            else max(10, total - args.budget_per_target * n_targets)
        )
        row = ppo_spice(args, options, targets, training, total)
        rows.append(finish_row(row))
        print(summary_line(rows[-1]), flush=True)
    report = {
        "circuit": options.circuit,
        "technology": options.tech,
        "space": options.space,
        "targets": n_targets,
        "targets_from": args.targets_source,
        "targets_file": str(targets_file),
        "total_budget": total,
        "baseline_sims_per_target": budget,
        "budget_per_target": args.budget_per_target,
        "quick": bool(args.quick),
        "rows": rows,
        "skipped": skipped,
        **environment(),
        "load_average_start": load_start,
        "load_average_end": os.getloadavg(),
        "started_at": started_at,
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    markdown = table(report)
    (args.out / "sizing.md").write_text(markdown + "\n")
    (args.out / "sizing.json").write_text(json.dumps(report, indent=1) + "\n")
    plot_success(report, args.out / "sizing.png")
    print(markdown)
    print(f"wrote {args.out}/sizing.md, sizing.json, sizing.png")
    return report


def _has_optuna() -> bool:
    try:
        import optuna  # noqa: F401
    except ImportError:
        return False
    return True
