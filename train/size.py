"""``python -m train.size``: size a circuit for your target with a trained run.

    python -m train.size --run runs/op2-sky130 \\
        --target "a_0>=40dB ugbw>=10MHz pm>=60deg power<=300uW"

Prints the parameter table and performance vs target, writes the sized
netlist and a Bode plot, and says so plainly when no candidate meets the
target (showing the closest).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from sim.errors import UserInputError
from sim.units import engineering


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
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
        default=None,
        help="directory for the netlist and plot (default: <run>/sized)",
    )
    parser.add_argument("--workers", type=int, default=None)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.max_sims < 1:
            raise UserInputError("--max-sims must be at least 1")
        from train.sizing import TrainedSizer
        from train.targets import parse_target

        sizer = TrainedSizer(args.run, args.workers)
        try:
            circuit = sizer.problem.simulator.circuit
            units = {m.name: m.unit for m in circuit.measures}
            target = parse_target(args.target, sizer.definition, units)
            vector = np.asarray([target[n] for n in sizer.definition.specs], np.float32)
            result = sizer.size(vector[None], args.max_sims)[0]
            _report(sizer, result, units)
            out = Path(args.out) if args.out else sizer.dir.path / "sized"
            _write(sizer, result, out)
        finally:
            sizer.close()
        return 0 if result.met else 1
    except UserInputError as error:
        sys.stderr.write(f"error: {error}\n")
        return 2


def _report(sizer, result, units) -> None:
    console = Console()
    definition = sizer.definition
    circuit = sizer.problem.simulator.circuit
    params = Table(title=f"{circuit.name} sizing ({sizer.problem.env_id})")
    params.add_column("parameter")
    params.add_column("value", justify="right")
    for p in circuit.parameters:
        params.add_row(p.name, engineering(result.params[p.name], p.unit))
    perf = Table(title="performance in ngspice vs target")
    for column in ("spec", "target", "ngspice", "met"):
        perf.add_column(column, justify="right")
    for k, name in enumerate(definition.specs):
        sign = ">=" if definition.lower[k] else "<="
        value = result.performance.get(name, float("nan"))
        ok = (
            value >= result.target[k]
            if definition.lower[k]
            else value <= result.target[k]
        )
        perf.add_row(
            name,
            f"{sign} {engineering(float(result.target[k]), units[name])}",
            engineering(value, units[name]),
            "yes" if ok else "NO",
        )
    console.print(params, perf)
    if result.met:
        console.print(
            f"[bold green]target met[/] after {result.sims} SPICE simulation(s)"
        )
    else:
        console.print(
            f"[bold red]no candidate met the target[/] in {result.sims} SPICE "
            "simulations; the closest is shown above"
        )


def _write(sizer, result, out: Path) -> None:
    from sim.plot import plot_design
    from sim.simulator import Simulator

    out.mkdir(parents=True, exist_ok=True)
    simulator = sizer.problem.simulator
    first = simulator.circuit.testbenches[0].name
    (out / "sized.sp").write_text(simulator.deck(first, result.params))
    print(f"wrote {out / 'sized.sp'}")
    tech = simulator.technology
    with Simulator(
        sizer.definition.circuit,
        tech,
        simulator.corner,
        pool=simulator.pool,
        store=simulator.store,
    ) as full:
        try:
            for path in plot_design(full, result.params, out / "bode.png"):
                print(f"wrote {path}")
        except UserInputError as error:
            print(f"no plot: {error}")


if __name__ == "__main__":
    sys.exit(main())
