"""``python -m train.eval``: strict success of a run on targets from the box.

    python -m train.eval --run runs/twostage --n 1000 --seed 1 --json out.json
    python -m train.eval --run runs/twostage --targets targets.json
    python -m train.eval --run runs/twostage --n 1000 --policy-only

Targets are drawn uniformly from the circuit's declared box (``--n N``,
``--seed``; the default) or read from a target file. Every target is sized
with at most ``--max-sims`` SPICE simulations (``train.evaluate``, the
trainer's own held-out measure); success means every spec met in ngspice.
Prints a table (success, median and p90 sims per target, the run's
training sims); ``--json`` also lists per target: met or missed, sims
used, parameters, verified figures and per-spec margins.

``--policy-only`` measures what the policy alone learned: its deterministic
walk on the run's surrogate per target, the final design simulated once in
ngspice, no lookup in verified designs and no search or refinement
(``train.policy.policy_only``).
"""

from __future__ import annotations

import sys
import time

import numpy as np

from envs.targets import draw_by_seed
from sim.cli_conventions import (
    add_count_option,
    add_json_option,
    keeps_stdout_for_json,
    write_json,
)
from sim.errors import OneLineArgumentParser, UserInputError
from sim.format.pvt_conditions import conditions_for
from sim.sizing.session import add_pvt_option
from sim.sizing.target_text import load_targets, targets_json
from sim.verbosity import add_verbosity_options, progress
from train.evaluate import evaluate as evaluate_sizer
from train.evaluate import outcome


def _parser() -> OneLineArgumentParser:
    parser = OneLineArgumentParser(prog="python -m train.eval", description=__doc__)
    parser.add_argument("--run", required=True, help="run directory (python -m train)")
    parser.add_argument("--targets", default=None, help="a target JSON file")
    add_count_option(
        parser, 1000, "targets drawn uniformly from the box", old=["--box"]
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the box draw")
    parser.add_argument(
        "--max-sims", type=int, default=5, help="new SPICE sims per target at most"
    )
    parser.add_argument("--limit", type=int, default=None, help="first N targets")
    parser.add_argument(
        "--policy-only",
        action="store_true",
        help="the policy's own design per target, one simulation, nothing else",
    )
    parser.add_argument(
        "--without-policy",
        action="store_true",
        help="size without the policy's proposals (the run's search alone)",
    )
    add_json_option(parser, "the report (per target)")
    parser.add_argument(
        "--workers", type=int, default=None, help="ngspice workers (default: cores)"
    )
    add_verbosity_options(parser)
    add_pvt_option(parser)  # sim.pvt: conditions every target must hold at
    return parser


def _clean(value):
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def evaluate(args) -> dict:
    """Size the targets of ``args`` with the run's sizer; the report dict."""
    from train.sizing import TrainedSizer

    if args.max_sims < 0:
        raise UserInputError("--max-sims must be >= 0")
    sizer = TrainedSizer(args.run, args.workers)
    if args.without_policy:
        sizer.sizer.proposer = None  # what the policy adds: the same run without it
    try:
        box = sizer.problem.box
        if args.targets is not None:
            targets = load_targets(args.targets, box)
            source = f"target file {args.targets}"
        else:
            targets = draw_by_seed(box, args.n, args.seed)
            source = (
                f"{args.n} targets uniform over the declared box (seed {args.seed})"
            )
        targets = targets[: args.limit]
        started = time.perf_counter()
        conditions = conditions_for(sizer.session, getattr(args, "pvt", None))
        pvt = None
        if not conditions.single:  # met at every declared condition (sim.pvt)
            from train.pvt_report import eval_over_conditions

            found, *pvt = eval_over_conditions(
                sizer, conditions, targets, args.max_sims
            )
            results = outcome(found)
        elif args.policy_only:
            from train.policy import policy_only

            results = outcome(policy_only(sizer, targets))
        else:
            bar = progress(
                len(targets) * args.max_sims,
                "SPICE sims (at most)",
                "sim",
                getattr(args, "verbosity", 0),
            )
            with bar:
                results = evaluate_sizer(
                    sizer, targets, args.max_sims, lambda done: bar.update(len(done))
                )
        seconds = time.perf_counter() - started
        training = sizer.training_sims
    finally:
        sizer.close()
    met = results.met if pvt is None else np.asarray(pvt[0])
    sims = results.sims if pvt is None else np.asarray(pvt[1])
    per_target = [
        {
            "target": t,
            "met": bool(r.met),
            "sims": int(r.sims),
            "source": r.source,
            "params": r.params,
            "figures": {k: _clean(float(v)) for k, v in r.performance.items()},
            "margins": dict(
                zip(box.names, map(_clean, map(float, r.margins)), strict=True)
            ),
        }
        for t, r in zip(targets_json(targets, box), results.results, strict=True)
    ]
    if pvt is not None:
        for one, extra in zip(per_target, pvt[3], strict=True):
            one.update(extra)
    report = {
        "run": args.run,
        "targets_from": source,
        "targets": int(len(met)),
        "max_sims": 1 if args.policy_only else args.max_sims,
        "policy_only": bool(args.policy_only),
        "without_policy": bool(args.without_policy),
        "success_rate": float(met.mean()),
        "median_sims_per_target": float(np.median(sims)),
        "p90_sims_per_target": float(np.percentile(sims, 90)),
        "mean_sims_per_target": float(sims.mean()),
        "met_by_training_designs": results.met_by_verified,
        "sizing_sims": int(sims.sum()),
        "training_sims": training,
        "sizing_seconds": seconds,
        **({} if pvt is None else pvt[2]),
        "per_target": per_target,
    }
    return report


@keeps_stdout_for_json
def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        report = evaluate(args)
    except UserInputError as error:
        sys.stderr.write(f"error: {' '.join(str(error).split())}\n")
        return 2
    print("| metric | value |\n|---|---|")
    for key, value in report.items():
        if key != "per_target":
            shown = f"{value:.4g}" if isinstance(value, float) else value
            print(f"| {key} | {shown} |")  # 3.0, not 3.0000000000000004
    if args.json:
        write_json(args.json, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
