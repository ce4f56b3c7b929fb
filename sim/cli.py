"""Command line of the simulation core: ``python -m sim <command>`` (see --help)."""

from __future__ import annotations

import argparse
import math
import sys

from sim.cli_conventions import (
    add_count_option,
    add_json_option,
    add_out_option,
    keeps_stdout_for_json,
)
from sim.commands.cli_handlers import HANDLERS
from sim.engine.backend import add_backend_options
from sim.engine.pool import SimulatorUnavailable
from sim.errors import EXIT_USAGE, UserInputError
from sim.errors import OneLineArgumentParser as _Parser
from sim.format.circuit import builtin_circuits
from sim.sizing.session import add_pvt_option


def _finite(text: str) -> float:
    """argparse type: a finite float."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def _positive(text: str) -> float:
    """argparse type: a finite float > 0."""
    value = _finite(text)
    if value <= 0:
        raise ValueError(text)
    return value


def _count(text: str) -> int:
    """argparse type: an integer >= 1."""
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


def _seed(text: str) -> int:
    """argparse type: an integer >= 0."""
    value = int(text)
    if value < 0:
        raise ValueError(text)
    return value


_finite.__name__ = "finite number"
_positive.__name__ = "positive number"
_count.__name__ = "integer >= 1"
_seed.__name__ = "integer >= 0"


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--circuit",
        default="op2",
        help=f"built-in ({', '.join(builtin_circuits())}) or a path",
    )
    parser.add_argument(
        "--tech", default="sky130", help="generic, sky130, or a technology YAML path"
    )
    parser.add_argument(
        "--corner", default=None, help="process corner (tt ss ff sf fs)"
    )
    parser.add_argument(
        "--temperature", type=_finite, default=27.0, help="temperature in °C"
    )
    parser.add_argument(
        "--workers",
        type=_count,
        default=None,
        help="worker processes (default: number of cores)",
    )
    parser.add_argument(
        "--timeout",
        type=_positive,
        default=60.0,
        help="seconds per simulation before it is abandoned",
    )
    parser.add_argument(
        "--store",
        default=None,
        help="SQLite store (default $JAXSIZER_HOME/simulations.sqlite)",
    )
    add_backend_options(parser)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m sim", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    run = sub.add_parser("run", help="simulate designs and print their performance")
    _common(run)
    group = run.add_mutually_exclusive_group()
    group.add_argument(
        "--params",
        type=str,
        default=None,
        help="JSON object (or file) of parameter values in SI units",
    )
    add_count_option(group, None, "simulate N random designs", old=["--random"])
    run.add_argument("--seed", type=_seed, default=0, help="seed of the --n designs")
    run.add_argument(
        "--force",
        action="store_true",
        help="simulate again even if the store has the result",
    )
    add_json_option(run, "the designs and their performance")
    bench = sub.add_parser("bench", help="throughput: 1 and 2 workers vs ngspice -b")
    bench.add_argument(
        "--circuit", default="op2", help="built-in circuit name or a path"
    )
    bench.add_argument(
        "--tech", default="sky130", help="generic, sky130, or a technology YAML path"
    )
    bench.add_argument(
        "--corner", default=None, help="process corner (default: the technology's)"
    )
    add_count_option(bench, 300, "random designs timed (at least 2)")
    bench.add_argument(
        "--cold-n",
        type=int,
        default=40,
        help="designs simulated with a fresh ngspice -b each",
    )
    bench.add_argument("--seed", type=_seed, default=0, help="seed of the designs")
    bench.add_argument(
        "--testbench",
        default=None,
        help="testbench to time (default: the circuit's first)",
    )
    bench.add_argument(
        "--analyses",
        nargs="+",
        default=["op", "ac"],
        help="analyses of that testbench to run (default: op ac)",
    )
    bench.add_argument(
        "--full",
        action="store_true",
        help="instead: seconds per design for the whole figure set",
    )
    add_json_option(bench, "the results")
    specs = sub.add_parser(
        "specs",
        help="search the spec trade-offs; measure (or propose) the target box "
        "and its feasibility ceiling",
    )
    _common(specs)
    specs.add_argument(
        "--budget",
        type=_count,
        default=30_000,
        help="SPICE simulations of the front search",
    )
    specs.add_argument(
        "--population", type=_count, default=200, help="front search population"
    )
    specs.add_argument("--seed", type=_seed, default=0, help="front search seed")
    specs.add_argument(
        "--ceiling-targets",
        type=_count,
        default=1000,
        help="box targets the feasibility ceiling is measured on",
    )
    specs.add_argument(
        "--ceiling-seed", type=_seed, default=1, help="seed of those targets"
    )
    specs.add_argument(
        "--target-budget",
        type=_count,
        default=200,
        help="SPICE simulations of the targeted search per unmet target",
    )
    specs.add_argument(
        "--propose",
        action="store_true",
        help="propose hard ends at the edge of what the search reaches",
    )
    specs.add_argument(
        "--target-ceiling",
        type=_finite,
        default=0.98,
        help="estimated ceiling a proposed box aims at (0.97-0.99 is useful)",
    )
    specs.add_argument(
        "--derive-easy",
        action="store_true",
        help="with --propose: easy ends from random designs, not the declared ones",
    )
    add_pvt_option(specs)
    add_json_option(specs, "the report")
    plot = sub.add_parser("plot", help="Bode plot and step response (PNG)")
    _common(plot)
    plot.add_argument(
        "--params",
        type=str,
        default=None,
        help="JSON object (or file) of parameter values in SI units",
    )
    add_out_option(plot, "<circuit>_<tech>_bode.png (and _step.png)", default=".")
    corners = sub.add_parser("corners", help="one design over corners and temperatures")
    _common(corners)
    corners.add_argument(
        "--params",
        type=str,
        default=None,
        help="JSON object (or file) of parameter values in SI units",
    )
    corners.add_argument(
        "--corners",
        nargs="+",
        default=None,
        help="corners (default: all of the technology)",
    )
    corners.add_argument(
        "--temperatures",
        nargs="+",
        type=float,
        default=[-40.0, 27.0, 125.0],
        help="temperatures in °C",
    )
    corners.add_argument(
        "--supplies",
        nargs="+",
        type=_positive,
        default=[1.0],
        help="supply scales of the technology's VDD (e.g. 0.9 1.0 1.1)",
    )
    add_pvt_option(corners)
    add_json_option(corners, "the results")
    explore = sub.add_parser("explore", help="sample the sizing space, summarise it")
    _common(explore)
    add_count_option(explore, 200, "random designs")
    explore.add_argument("--seed", type=_seed, default=0, help="seed of the designs")
    return parser


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())


@keeps_stdout_for_json
def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return HANDLERS[args.command](args)
    except UserInputError as error:
        sys.stderr.write(f"error: {_one_line(error)}\n")
        return EXIT_USAGE
    except SimulatorUnavailable as error:
        sys.stderr.write(f"error: {_one_line(error)}\n")
        return 3
    except KeyboardInterrupt:
        sys.stderr.write("interrupted: finished simulations are in the store\n")
        return 130
