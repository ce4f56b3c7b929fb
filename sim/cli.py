"""Command line of the simulation core: ``python -m sim <command>`` (see --help)."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from sim.cli_conventions import (
    STDOUT,
    add_count_option,
    add_json_option,
    add_out_option,
    keeps_stdout_for_json,
    write_json,
)
from sim.engine.backend import add_backend_options, backend_from_args
from sim.engine.pool import SimulatorUnavailable
from sim.errors import EXIT_USAGE, UserInputError
from sim.errors import OneLineArgumentParser as _Parser
from sim.format.circuit import builtin_circuits
from sim.sizing.session import add_pvt_option


def _design_arg(text: str) -> dict:
    """``--params``: a JSON object or the path of a JSON file."""
    source = text
    if not text.lstrip().startswith("{"):
        path = Path(text)
        if not path.is_file():
            raise UserInputError(
                f"--params {text!r} is neither a JSON object nor a JSON file"
            )
        try:
            source = path.read_text()
        except (OSError, UnicodeDecodeError) as error:
            raise UserInputError(f"--params: cannot read {path} ({error})") from None
    try:
        value = json.loads(source)
    except json.JSONDecodeError as error:
        raise UserInputError(f"--params is not valid JSON ({error.msg})") from None
    if not isinstance(value, dict):
        raise UserInputError("--params must be a JSON object {name: value}")
    return value


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


def _simulator(args):
    from sim.sizing.simulator import Simulator
    from sim.storage.store import SimulationStore

    store = SimulationStore(args.store) if args.store else SimulationStore()
    return Simulator(
        args.circuit,
        args.tech,
        args.corner,
        args.temperature,
        store=store,
        backend=backend_from_args(args, args.timeout),
    )


def _finite_only(values: dict) -> dict:
    """``values`` without the ones that are not finite numbers (a measure that
    could not be computed is left out: strict JSON has no NaN or inf)."""
    return {
        k: v
        for k, v in values.items()
        if not (isinstance(v, float) and not math.isfinite(v))
    }


def _run(args) -> int:
    from sim.commands import report
    from sim.sizing.sampling import random_designs

    with _simulator(args) as simulator:
        circuit = simulator.circuit
        if args.n is not None:
            designs = random_designs(circuit, args.n, args.seed)
        else:
            designs = [_design_arg(args.params) if args.params else {}]
        results = simulator.simulate(
            designs, force=args.force, progress=len(designs) > 1
        )
    if args.json:
        written = write_json(
            args.json,
            [
                {
                    "params": r.params,
                    "performance": _finite_only(r.performance),
                    "status": r.status.value,
                    "message": r.message,
                    "stored": r.cached,
                }
                for r in results
            ],
        )
        if args.json == STDOUT:
            return 0
        print(f"wrote {written}")
    if len(results) == 1:
        result = results[0]
        report.print_tables(
            report.design_table(circuit, result),
            report.performance_table(circuit, result),
            report.operating_point_table(circuit, result),
        )
        if not result.ok:
            print(f"simulation failed: {result.status.value}: {result.message}")
    else:
        report.print_tables(report.batch_table(circuit, results))
    return 0


def _bench(args) -> int:
    from rich.console import Console
    from rich.table import Table

    from sim.commands.bench import run_bench, run_full_bench

    if args.n < 2 or args.cold_n < 1:
        raise UserInputError("--n must be >= 2 and --cold-n >= 1")
    if args.full:
        result = run_full_bench(args.circuit, args.tech, args.n, args.seed)
        keys = [k for k in result if k.startswith(("seconds", "failures"))]
        title = (
            f"python -m sim bench --full: {args.circuit} on {args.tech}, "
            f"{result['testbenches']} testbenches, {args.n} designs"
        )
    else:
        result = run_bench(
            args.circuit,
            args.tech,
            args.corner,
            args.n,
            args.cold_n,
            args.seed,
            args.testbench,
            args.analyses,
        )
        keys = [
            "per_worker_sims_per_s",
            "two_worker_sims_per_s",
            "scaling_2_workers",
            "cold_process_sims_per_s",
            "speedup_vs_cold_process",
            "failures_1_worker",
            "failures_2_workers",
        ]
        title = (
            f"python -m sim bench: {args.circuit} on {args.tech} "
            f"({result['corner']}), {result['testbench']}: "
            f"{' + '.join(result['analyses'])}, {args.n} random designs"
        )
    table = Table(title=title)
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key in keys:
        value = result[key]
        text = f"{value:.4g}" if isinstance(value, float) else str(value)
        table.add_row(key, text)
    Console().print(table)
    if args.json:
        print(f"wrote {write_json(args.json, result, indent=2)}")
    return 0


def _specs(args) -> int:
    from sim.commands.specs_report import print_report, report_json
    from sim.format.circuit import load_circuit
    from sim.format.pvt_conditions import parse_declaration
    from sim.format.technology import load_technology
    from sim.search.specs import SpecSearchConfig, run_spec_search
    from sim.sizing.simulator import Simulator
    from sim.storage.store import SimulationStore

    if args.derive_easy and not args.propose:
        raise UserInputError("--derive-easy needs --propose")
    config = SpecSearchConfig(
        budget=args.budget,
        population=args.population,
        seed=args.seed,
        ceiling_targets=args.ceiling_targets,
        ceiling_seed=args.ceiling_seed,
        target_budget=args.target_budget,
        propose=args.propose,
        target_ceiling=args.target_ceiling,
        derive_easy=args.derive_easy,
    )
    out = args.json
    if out not in (None, STDOUT) and not Path(out).parent.is_dir():
        raise UserInputError(f"--json: directory {Path(out).parent} does not exist")
    technology = load_technology(args.tech)
    circuit = load_circuit(args.circuit, technology)
    box = circuit.box
    if not box.specs:
        raise UserInputError(f"circuit {circuit.name} declares no specs")
    store = SimulationStore(args.store) if args.store else SimulationStore()
    with Simulator(
        circuit.restricted(box.names),
        technology,
        args.corner,
        args.temperature,
        store=store,
        backend=backend_from_args(args, args.timeout),
    ) as simulator:
        report = run_spec_search(simulator, box, config)
        print_report(report, simulator)
        document = report_json(report, simulator) if out is not None else None
        declared = parse_declaration(args.pvt) if args.pvt else circuit.pvt
        if declared is not None:  # the all-condition ceiling (sim.pvt)
            from sim.commands.specs_report import print_pvt, pvt_ceiling_of
            from sim.pvt.ceiling import ceiling_json

            pvt = pvt_ceiling_of(simulator, report, declared)
            if pvt is not None:
                print_pvt(*pvt, report)
                if document is not None:
                    document["pvt"] = ceiling_json(*pvt)
        if out is not None:
            print(f"wrote {write_json(out, document)}")
    return 0


def _plot(args) -> int:
    from sim.commands.plot import plot_design

    with _simulator(args) as simulator:
        design = _design_arg(args.params) if args.params else {}
        name = f"{simulator.circuit.name}_{simulator.technology.name}_bode.png"
        if args.out.exists() and not args.out.is_dir():
            raise UserInputError(f"--out {args.out} is a file, not a directory")
        args.out.mkdir(parents=True, exist_ok=True)
        for path in plot_design(simulator, design, args.out / name):
            print(f"wrote {path}")
    return 0


def _corners(args) -> int:
    from sim.commands.corners import corner_report

    design = _design_arg(args.params) if args.params else {}
    corner_report(args, design)
    return 0


def _explore(args) -> int:
    from sim.commands.explore import explore

    with _simulator(args) as simulator:
        explore(simulator, args.n, args.seed)
    return 0


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())


@keeps_stdout_for_json
def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        commands = {
            "run": _run,
            "bench": _bench,
            "explore": _explore,
            "specs": _specs,
            "plot": _plot,
            "corners": _corners,
        }
        return commands[args.command](args)
    except UserInputError as error:
        sys.stderr.write(f"error: {_one_line(error)}\n")
        return EXIT_USAGE
    except SimulatorUnavailable as error:
        sys.stderr.write(f"error: {_one_line(error)}\n")
        return 3
    except KeyboardInterrupt:
        sys.stderr.write("interrupted: finished simulations are in the store\n")
        return 130
