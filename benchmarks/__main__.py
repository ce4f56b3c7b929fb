"""``python -m benchmarks``: jaxsizer beside the field's baselines.

    python -m benchmarks sizing --circuit twostage --tech generic --n 100
    python -m benchmarks sizing --quick            # tiny sizes (CI's smoke test)
    python -m benchmarks speed --circuit op2 --tech sky130 [--json speed.json]
    python -m benchmarks boxes --method ours --seeds 0 1 2   # the foreign boxes

``sizing``: success rate vs total SPICE simulations of ours, random search,
CMA-ES, TPE and PPO on ngspice, on the same targets and at the same total
budget, each counted from its own simulation store (``benchmarks.sizing``).
``speed``: simulation and env throughput ratios and recorded model accuracy
(``benchmarks.speed``).
``boxes``: one method on every foreign box (published target boxes, each
with its feasibility ceiling) per seed: table, JSON and plot
(``benchmarks.boxes.command``).
"""

from __future__ import annotations

import argparse
import sys

from sim.cli_conventions import keeps_stdout_for_json
from sim.errors import EXIT_USAGE, OneLineArgumentParser, UserInputError


def build_parser() -> OneLineArgumentParser:
    from benchmarks import sizing, speed
    from benchmarks.boxes import command as boxes

    parser = OneLineArgumentParser(
        prog="python -m benchmarks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for name, module, text in (
        ("sizing", sizing, "every method at equal total SPICE budget"),
        ("speed", speed, "throughput ratios and recorded accuracy"),
        ("boxes", boxes, "one method on every foreign box, per seed"),
    ):
        sub = commands.add_parser(
            name,
            help=text,
            description=module.__doc__,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(sub)
        sub.set_defaults(handler=module.run)
    return parser


@keeps_stdout_for_json
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.handler(args)
    except UserInputError as error:
        sys.stderr.write(f"error: {' '.join(str(error).split())}\n")
        return EXIT_USAGE
    return 0


if __name__ == "__main__":
    sys.exit(main())
