"""The handlers of ``python -m sim``'s commands: parsed arguments in, exit code out.

``sim.cli`` builds the argument parser and calls ``HANDLERS[args.command]``
with the parsed ``argparse.Namespace`` (its options as ``sim.cli`` documents
them: temperatures in °C, timeouts in s, design values in SI units); each
handler opens what it needs (simulator, store, backend), runs the command's
body from this package and returns the process exit code (0 on success). A
user's mistake raises ``UserInputError``, which ``sim.cli`` prints as one line.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

from sim.cli_conventions import STDOUT, write_json
from sim.engine.backend import backend_from_args
from sim.errors import UserInputError


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


def _simulator(args):
    """The ``Simulator`` the common flags describe (circuit, technology,
    corner, temperature in °C, store, backend, timeout in s)."""
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


HANDLERS: dict[str, Callable[..., int]] = {
    "run": _run,
    "bench": _bench,
    "explore": _explore,
    "specs": _specs,
    "plot": _plot,
    "corners": _corners,
}
"""Command name -> its handler, called with the parsed arguments."""
