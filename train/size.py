"""``python -m train.size``: size a circuit for your target with a trained run.

    python -m train.size --run runs/op2-sky130 \\
        --target "a_0>=40dB ugbw>=10MHz pm>=60deg power<=300uW"

Prints the parameter table and performance vs target, writes result.json,
the sized circuit as a reusable ``<circuit>_sized.subckt`` with a testbench
``<circuit>_tb.sp`` that plain ``ngspice -b`` runs (see ``sim.commands.export``) and a
Bode plot, and says so plainly when no candidate meets the target (showing
the closest).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.cli_conventions import (
    add_json_option,
    keeps_stdout_for_json,
    out_dir,
    write_json,
)
from sim.errors import OneLineArgumentParser, UserInputError
from sim.format.pvt_conditions import conditions_for
from sim.sizing.session import add_pvt_option
from sim.verbosity import add_verbosity_options, progress
from train.size_output import report, result_json, write_files


def _parser() -> argparse.ArgumentParser:
    parser = OneLineArgumentParser(
        prog="python -m train.size",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--run", required=True, help="run directory")
    parser.add_argument(
        "--target",
        required=True,
        help='"a_0>=60dB ugbw>=10MHz ..." or a JSON object/file',
    )
    parser.add_argument(
        "--max-sims", type=int, default=5, help="SPICE simulations to spend at most"
    )
    parser.add_argument(
        "--out",
        type=out_dir,  # a file there is refused in one line
        default=None,
        metavar="DIR",
        help="directory for result.json, the subckt, testbenches and plots "
        "(default: <run>/sized)",
    )
    parser.add_argument(
        "--minimise",
        default=None,
        metavar="SPEC",
        help="after the target is met, spend the remaining sims lowering this "
        "upper-bounded spec (e.g. power) while every spec stays met",
    )
    parser.add_argument(
        "--workers", type=int, default=None, help="ngspice workers (default: cores)"
    )
    add_json_option(parser, "the sizing (as result.json)")
    add_verbosity_options(parser)
    add_pvt_option(parser)  # sim.pvt: conditions the target must hold at
    return parser


@keeps_stdout_for_json
def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.max_sims < 1:
            raise UserInputError("--max-sims must be at least 1")
        from sim.sizing.target_text import parse_target, target_vector
        from train.sizing import TrainedSizer

        sizer = TrainedSizer(args.run, args.workers)
        try:
            box = sizer.problem.box
            vector = target_vector(parse_target(args.target, box), box)
            conditions = conditions_for(sizer.session, args.pvt)
            if not conditions.single:  # every declared condition (sim.pvt)
                from train.pvt_report import size_over_conditions

                return size_over_conditions(sizer, conditions, vector, args)
            with progress(args.max_sims, "SPICE sims", "sim", args.verbosity) as bar:
                result = sizer.size(
                    vector[None],
                    args.max_sims,
                    lambda done: bar.update(len(done)),
                    minimise=args.minimise,
                )[0]
            first = result.first_met
            if args.minimise and first is not None and first is not result:
                report(sizer, first, "first design that met the target")
            report(sizer, result, "best design" if args.minimise else "")
            out = Path(args.out) if args.out else sizer.dir.path / "sized"
            write_files(sizer, result, out)
            if args.json:
                write_json(args.json, result_json(sizer, result))
        finally:
            sizer.close()
        return 0 if result.met else 1
    except UserInputError as error:
        sys.stderr.write(f"error: {' '.join(str(error).split())}\n")
        return 2


if __name__ == "__main__":
    sys.exit(main())
