"""``python -m train.eval``: strict success of a run on held-out targets.

    python -m train.eval --run runs/op2-sky130 --targets targets.json --json out.json

Every target is sized with at most ``--max-sims`` SPICE simulations
(``train.sizing``); success means every spec met in ngspice. Reports
``success_rate``, ``median_sims_per_target``, ``p90_sims_per_target`` and the
run's ``training_sims``, as JSON and a markdown table.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from sim.errors import UserInputError


def load_targets(path: Path, specs: tuple[str, ...]) -> np.ndarray:
    """Targets ``[N, m]`` from a JSON list of {spec: value} (or a dict holding
    such a list under ``held_out``/``test``/``targets``)."""
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise UserInputError(f"cannot read targets {path}: {error}") from None
    if isinstance(data, dict):
        for key in ("held_out", "test", "targets"):
            if key in data:
                data = data[key]
                break
    if not isinstance(data, list) or not data:
        raise UserInputError(f"{path}: expected a non-empty list of targets")
    rows = []
    for i, entry in enumerate(data):
        if not isinstance(entry, dict) or set(entry) < set(specs):
            raise UserInputError(f"{path}: target {i} must give {list(specs)}")
        rows.append([float(entry[s]) for s in specs])
    return np.asarray(rows, np.float32)


def _evaluate_surrogate_run(args):
    from train.sizing import TrainedSizer

    sizer = TrainedSizer(args.run, args.workers)
    try:
        targets = load_targets(Path(args.targets), sizer.definition.specs)[: args.limit]
        results = sizer.size(targets, args.max_sims)
        training = len(sizer.dir.verified())
    finally:
        sizer.close()
    return (
        np.asarray([r.met for r in results]),
        np.asarray([r.sims for r in results]),
        training,
    )


def _evaluate_baseline(args):
    import json as json_

    from train.loop import config_from_dict
    from train.problem import load_problem
    from train.run_dir import RunDir
    from train.spice_baseline import evaluate_baseline

    directory = RunDir(args.run)
    config = config_from_dict(directory.read_config())
    problem = load_problem(config.env, 1, all_figures=config.all_figures)
    specs = problem.definition.specs
    problem.close()
    targets = load_targets(Path(args.targets), specs)[: args.limit]
    met, sims = evaluate_baseline(args.run, targets, args.max_sims, args.workers)
    lines = (directory.path / "metrics.jsonl").read_text().splitlines()
    training = json_.loads(lines[-1])["spice_sims"] if lines else 0
    return met, sims, training


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m train.eval",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--run", required=True)
    parser.add_argument("--targets", required=True, help="JSON file of targets")
    parser.add_argument("--max-sims", type=int, default=10)
    parser.add_argument(
        "--limit", type=int, default=None, help="use the first N targets"
    )
    parser.add_argument("--json", default=None, metavar="OUT")
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args(argv)
    try:
        from train.run_dir import RunDir

        state = RunDir(args.run).load_checkpoint() or {}
        if "baseline_policy" in state:
            met, sims, training = _evaluate_baseline(args)
        else:
            met, sims, training = _evaluate_surrogate_run(args)
    except UserInputError as error:
        sys.stderr.write(f"error: {error}\n")
        return 2
    report = {
        "run": args.run,
        "targets": len(met),
        "max_sims": args.max_sims,
        "success_rate": float(met.mean()),
        "median_sims_per_target": float(np.median(sims)),
        "p90_sims_per_target": float(np.percentile(sims, 90)),
        "median_sims_when_met": float(np.median(sims[met])) if met.any() else None,
        "training_sims": training,
    }
    print("| metric | value |\n|---|---|")
    for key, value in report.items():
        print(f"| {key} | {value} |")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
