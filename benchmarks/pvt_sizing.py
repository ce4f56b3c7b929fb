"""Sizing for every declared condition: ours beside two baselines, one run.

    python -m benchmarks.pvt_sizing --run runs/op2-sky130 --pvt signoff \\
        --n 100 --seed 1 --max-sims 5 --json pvt.json

On the same box targets, with the same trained run (a nominal one), and at
the same nominal budget per target (``--max-sims``), each method returns one
design per target; success means met at **every** declared condition:

- ``nominal_then_check``: size at the nominal, then check the conditions
  (conditionally: stops at the first failing one);
- ``derated_every_condition``: ``train.pvt_sizing`` (derating learned from
  the failures, up to 4 attempts), every condition of every returned design
  simulated (the naive all-conditions verification);
- ``derated_conditional``: the same with conditional verification (ours).

Each method runs on its own copy of the run directory (its own store), so
none is served by another's simulations. Reported per method: success at
every condition, nominal sims, condition sims, their total, wall seconds.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

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

METHODS = {
    "nominal_then_check": {"attempts": 1},
    "derated_every_condition": {"conditional": False},
    "derated_conditional": {},
}


def _parser() -> OneLineArgumentParser:
    parser = OneLineArgumentParser(
        prog="python -m benchmarks.pvt_sizing", description=__doc__
    )
    parser.add_argument("--run", required=True, help="a trained run directory")
    add_pvt_option(parser)
    add_count_option(parser, 100, "targets drawn uniformly from the box")
    parser.add_argument("--seed", type=int, default=1, help="seed of the targets")
    parser.add_argument(
        "--max-sims", type=int, default=5, help="nominal SPICE sims per target"
    )
    parser.add_argument(
        "--methods",
        nargs="+",
        choices=list(METHODS),
        default=list(METHODS),
        help="which methods to run",
    )
    parser.add_argument(
        "--workers", type=int, default=None, help="ngspice workers (default: cores)"
    )
    add_json_option(parser, "the results per method and target")
    return parser


def run_method(run: Path, name: str, args) -> dict:
    """One method on a private copy of ``run``; its summary and per-target
    outcomes."""
    from train.pvt_sizing import PvtSizer
    from train.sizing import TrainedSizer

    with tempfile.TemporaryDirectory(prefix=f"pvt-{name}-") as scratch:
        copy = Path(scratch) / "run"
        shutil.copytree(run, copy)
        sizer = TrainedSizer(str(copy), args.workers)
        try:
            conditions = conditions_for(sizer.session, args.pvt)
            if conditions.single:
                raise UserInputError("declare more than the nominal condition (--pvt)")
            targets = draw_by_seed(sizer.problem.box, args.n, args.seed)
            started = time.perf_counter()
            pvt = PvtSizer.for_trained(sizer, conditions, **METHODS[name])
            try:
                results = pvt.size(targets, args.max_sims)
            finally:
                pvt.verifier.close()
            seconds = time.perf_counter() - started
        finally:
            sizer.close()
    met = np.asarray([r.met for r in results])
    nominal = np.asarray([r.sims for r in results])
    condition = np.asarray([r.condition_sims for r in results])
    return {
        "method": name,
        "conditions": len(conditions),
        "targets": len(results),
        "success_all_conditions": float(met.mean()),
        "nominal_sims": int(nominal.sum()),
        "condition_sims": int(condition.sum()),
        "total_sims": int(nominal.sum() + condition.sum()),
        "median_total_sims_per_target": float(np.median(nominal + condition)),
        "seconds": round(seconds, 1),
        "per_target": [
            {
                "met": bool(r.met),
                "nominal_sims": int(r.sims),
                "condition_sims": int(r.condition_sims),
                "attempts": int(r.attempts),
            }
            for r in results
        ],
    }


@keeps_stdout_for_json
def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.max_sims < 0:
            raise UserInputError("--max-sims must be >= 0")
        run = Path(args.run)
        if not (run / "config.json").is_file():
            raise UserInputError(f"{run}: not a run directory (no config.json)")
        rows = [run_method(run, name, args) for name in args.methods]
    except UserInputError as error:
        sys.stderr.write(f"error: {' '.join(str(error).split())}\n")
        return 2
    print(
        "| method | conditions | success at all | nominal sims | condition sims "
        "| total | s |\n|---|---|---|---|---|---|---|"
    )
    for r in rows:
        print(
            f"| {r['method']} | {r['conditions']} | {r['success_all_conditions']:.3f}"
            f" | {r['nominal_sims']} | {r['condition_sims']} | {r['total_sims']}"
            f" | {r['seconds']} |"
        )
    if args.json:
        write_json(args.json, {"run": str(args.run), "methods": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
