"""Command line: ``python -m surrogate.fit device|circuit ...``.

``device`` sweeps a transistor in ngspice (or reuses the cached sweeps), trains
its gm/Id networks, evaluates them on held-out sweep points and writes
``$JAXSIZER_HOME/models/<tech>/<device>/``. ``circuit`` fits a circuit surrogate
(``surrogate.circuit``) into ``$JAXSIZER_HOME/models/<tech>/<circuit>/``.
Fitted models shadow the shipped ones (``surrogate.model_paths``).
Bad input gives one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import sys

from sim.cli_conventions import (
    add_count_option,
    add_deprecated_alias,
    add_json_option,
    add_out_option,
    keeps_stdout_for_json,
    write_json,
)
from sim.engine.pool import SimulatorUnavailable
from sim.errors import EXIT_USAGE, UserInputError
from sim.errors import OneLineArgumentParser as _Parser
from sim.errors import positive_int as _positive_int
from sim.sizing.session import ProblemOptions, add_problem_options, options_from_args


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m surrogate.fit", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    device = sub.add_parser("device", help="fit a device gm/Id model")
    device.add_argument("--tech", required=True, help="sky130 or generic")
    device.add_argument(
        "--device", required=True, help="nfet_01v8/pfet_01v8 (sky130), nmos/pmos"
    )
    device.add_argument("--corner", default="tt", help="process corner (default tt)")
    device.add_argument(
        "--temperature", type=float, default=27.0, help="degrees C (default 27)"
    )
    device.add_argument(
        "--workers", type=_positive_int, default=2, help="ngspice processes"
    )
    device.add_argument(
        "--resweep", action="store_true", help="simulate even if sweeps are cached"
    )
    device.add_argument(
        "--inverse-epochs", type=_positive_int, default=400, help="max epochs"
    )
    device.add_argument(
        "--forward-epochs", type=_positive_int, default=200, help="max epochs"
    )
    device.add_argument("--seed", type=int, default=0, help="training seed")
    add_out_option(device, "the models (default: $JAXSIZER_HOME/models)")
    add_json_option(device, "the report")
    add_deprecated_alias(device, "--report", "--json")
    device.add_argument("--quiet", action="store_true", help="no progress bars")
    circuit = sub.add_parser("circuit", help="fit a circuit surrogate")
    # --env/--circuit/--tech/--corner/--temperature/--space: the one problem
    # option set (sim.sizing.session); without any of them, op2 on sky130
    add_problem_options(circuit, simulation=False)
    add_count_option(
        circuit,
        3000,
        "Sobol designs to simulate (stored ones are reused)",
        old=["--samples"],
    )
    circuit.add_argument(
        "--seed", type=int, default=0, help="seed of designs, split and training"
    )
    circuit.add_argument(
        "--workers",
        type=_positive_int,
        default=None,
        help="ngspice workers (default: cores)",
    )
    circuit.add_argument(
        "--hidden", type=_positive_int, default=512, help="hidden units per layer"
    )
    circuit.add_argument(
        "--members", type=_positive_int, default=5, help="networks in the ensemble"
    )
    circuit.add_argument(
        "--max-epochs", type=_positive_int, default=1000, help="ensemble epochs"
    )
    circuit.add_argument(
        "--loss", choices=("l1", "mse"), default="l1", help="ensemble loss"
    )
    circuit.add_argument(
        "--distilled-hidden",
        type=_positive_int,
        default=192,
        help="width of the network distilled for the environment",
    )
    circuit.add_argument(
        "--distill-designs",
        type=_positive_int,
        default=200_000,
        help="random designs the ensemble labels for the distillation",
    )
    circuit.add_argument(
        "--distill-epochs",
        type=_positive_int,
        default=100,
        help="epochs of the distilled network",
    )
    circuit.add_argument(
        "--no-physics",
        action="store_true",
        help="plain inputs only (no device-physics inputs, surrogate.circuit.physics)",
    )
    add_out_option(
        circuit, "the surrogate (default: $JAXSIZER_HOME/models/<tech>/<circuit>/)"
    )
    add_json_option(circuit, "the report")
    add_deprecated_alias(circuit, "--report", "--json")
    return parser


def format_report(report: dict) -> str:
    """The accuracy table: network vs interpolation (vs the sizing helper)."""
    rows = [
        f"{report['tech']} {report['device']}: held-out points "
        f"{report['held_out_points']}, fit {report['fit_seconds']:.0f} s "
        f"(sweeps {report['sweep_seconds']:.0f} s, inverse "
        f"{report['train_seconds']['inverse']:.0f} s, forward "
        f"{report['train_seconds']['forward']:.0f} s)",
        f"{'output':<18}{'network med/p95':>22}{'interp. med/p95':>22}"
        f"{'helper med/p95':>22}",
    ]
    units = {
        "log10(idoverw)": (1, "dec"),
        "l": (100, "%"),
        "log10(gdsoverw)": (1, "dec"),
        "vgs": (1000, "mV"),
    }
    for name, (scale, unit) in units.items():
        cells = []
        for source in ("network", "baseline", "helper"):
            s = report[source][name]
            cells.append(f"{s['median'] * scale:.3g} / {s['p95'] * scale:.3g} {unit}")
        rows.append(f"{name:<18}" + "".join(f"{c:>22}" for c in cells))
    strong = report.get("above_weak_inversion")
    if strong:
        net, base = strong["network"], strong["baseline"]
        rows.append(
            f"Id/W >= {strong['idoverw_min']:g} A/m ({strong['fraction']:.0%} of "
            "points), median network | interpolation: "
            + ", ".join(
                f"{name} {net[name]['median'] * scale:.3g} | "
                f"{base[name]['median'] * scale:.3g} {unit}"
                for name, (scale, unit) in units.items()
            )
        )
    rows.append(
        f"interpolation covers {report['baseline_coverage']:.1%} of held-out "
        f"points; the helper accepts {report['helper_valid_fraction']:.1%}"
    )
    return "\n".join(rows)


def _device(args: argparse.Namespace) -> int:
    from sim.format.technology import load_technology
    from surrogate.device.sweep import polarity_of

    polarity_of(load_technology(args.tech), args.device)  # before the heavy imports
    from surrogate.device.fit_device import DeviceFitConfig, fit_device_model
    from surrogate.device.network import TrainConfig

    defaults = DeviceFitConfig(args.tech, args.device)
    config = DeviceFitConfig(
        tech=args.tech,
        device=args.device,
        corner=args.corner,
        temperature=args.temperature,
        workers=args.workers,
        resweep=args.resweep,
        progress=not args.quiet,
        root=args.out,
        inverse=TrainConfig(
            **{
                **defaults.inverse.__dict__,
                "max_epochs": args.inverse_epochs,
                "seed": args.seed,
            }
        ),
        forward=TrainConfig(
            **{
                **defaults.forward.__dict__,
                "max_epochs": args.forward_epochs,
                "seed": args.seed,
            }
        ),
    )
    report = fit_device_model(config)
    print(format_report(report))
    if args.json:
        write_json(args.json, report)
    return 0


def circuit_problem(args: argparse.Namespace) -> ProblemOptions:
    """The circuit, technology, corner and temperature to fit (op2 on sky130
    when none is given); circuit surrogates map the geometric space only."""
    if args.env is None and args.circuit is None and args.tech is None:
        args.circuit, args.tech = "op2", "sky130"
    options = options_from_args(args)
    if options.space != "geometric":
        raise UserInputError(
            f"circuit surrogates are fitted in the geometric space, not "
            f"{options.space}: drop --space (the trainer fits its own surrogate "
            "in its space)"
        )
    return options


def _circuit(args: argparse.Namespace) -> int:
    from surrogate.circuit.distill import DistillConfig
    from surrogate.circuit.fit_circuit import fit_circuit, print_summary
    from surrogate.circuit.train import FitConfig

    config = FitConfig(
        hidden=args.hidden,
        members=args.members,
        max_epochs=args.max_epochs,
        loss=args.loss,
        seed=args.seed,
    )
    distill_config = DistillConfig(
        hidden=args.distilled_hidden,
        designs=args.distill_designs,
        epochs=args.distill_epochs,
        seed=args.seed,
    )
    problem = circuit_problem(args)
    summary = fit_circuit(
        problem.circuit,
        problem.tech,
        args.n,
        args.seed,
        args.workers,
        args.out,
        config,
        distill_config,
        physics=not args.no_physics,
        corner=problem.corner,
        temperature=problem.temperature,
    )
    print_summary(summary)
    if args.json:
        write_json(args.json, summary)
    return 0


@keeps_stdout_for_json
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _circuit(args) if args.command == "circuit" else _device(args)
    except UserInputError as error:
        sys.stderr.write(f"error: {error}\n")
        return EXIT_USAGE
    except SimulatorUnavailable as error:
        sys.stderr.write(f"error: {error}\n")
        return EXIT_USAGE


if __name__ == "__main__":
    raise SystemExit(main())
