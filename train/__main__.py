"""``python -m train``: train a sizer on the circuit's declared target box.

    python -m train --env jaxsizer/twostage-generic-v1 --run runs/twostage
    python -m train --circuit DIR/circuit.yaml --tech DIR/tech.yaml --run runs/mine
    python -m train --run runs/twostage --resume   # continue (or start) a run
    python -m train --spice-ppo --env jaxsizer/op2-sky130-v1 --sim-budget 5000

The default trains the box loop (``train.loop``): surrogate, frontier search
and policy, stopping on held-out success over the box. ``--spice-ppo`` runs
the baseline instead: PPO directly on ngspice at the same budget.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from sim.errors import OneLineArgumentParser, UserInputError
from sim.session import add_problem_options, backend_from_args, options_from_args
from train.loop import TrainConfig, config_from_dict, config_to_dict
from train.ppo import PPOConfig

SKIPPED = ("ppo", "problem", "backend", "workers")


def _add_fields(parser: argparse.ArgumentParser, cls, prefix: str = "") -> None:
    for f in dataclasses.fields(cls):
        if f.name in SKIPPED:
            continue
        flag = "--" + prefix + f.name.replace("_", "-")
        default = f.default if f.default is not dataclasses.MISSING else None
        if isinstance(default, bool):
            kind = None
        elif isinstance(default, int):
            kind = int
        elif isinstance(default, float):
            kind = float
        else:
            kind = str
        if kind is None:
            parser.add_argument(
                flag, action=argparse.BooleanOptionalAction, default=None
            )
        else:
            parser.add_argument(
                flag, type=kind, default=None, help=f"(default {default})"
            )


def parse(argv: list[str] | None = None) -> tuple[TrainConfig, bool, bool]:
    """The run's config, whether to resume, and whether to run ``--spice-ppo``."""
    parser = OneLineArgumentParser(
        prog="python -m train",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_problem_options(parser)
    parser.add_argument("--resume", action="store_true", help="continue --run")
    parser.add_argument(
        "--spice-ppo", action="store_true", help="baseline: PPO on ngspice"
    )
    _add_fields(parser, TrainConfig)
    _add_fields(parser, PPOConfig, "ppo-")
    args = parser.parse_args(argv)
    given = {
        k: v
        for k, v in vars(args).items()
        if v is not None
        and k in {f.name for f in dataclasses.fields(TrainConfig)} - set(SKIPPED)
    }
    ppo_given = {
        k[4:]: v
        for k, v in vars(args).items()
        if k.startswith("ppo_") and v is not None
    }
    run = Path(given.get("run", TrainConfig.run))
    if args.resume and (run / "config.json").exists():
        from train.run_dir import RunDir

        base = config_from_dict(RunDir.existing(run).read_config())
    else:  # a fresh run (--resume with nothing to resume starts one)
        if run.exists() and not run.is_dir():
            raise UserInputError(f"--run {run} is a file, not a run directory")
        base = TrainConfig(problem=options_from_args(args).to_json())
    backend = dataclasses.asdict(backend_from_args(args))
    backend.pop("workers")
    if args.resume and args.sim_backend == "local" and base.backend:
        backend = base.backend  # a resumed run keeps its backend unless told
    config = dataclasses.replace(
        base,
        **given,
        backend=backend,
        workers=args.workers if args.workers is not None else base.workers,
        ppo=dataclasses.replace(base.ppo, **ppo_given),
    )
    for name in (
        "sim_budget",
        "initial_samples",
        "held_out",
        "eval_every",
        "round_targets",
    ):
        if getattr(config, name) < 1:
            raise UserInputError(f"--{name.replace('_', '-')} must be at least 1")
    if config.sim_budget < 10:
        raise UserInputError("--sim-budget must be at least 10")
    if not 0.0 < config.goal <= 1.0:
        raise UserInputError("--goal must be in (0, 1]")
    return config, args.resume, args.spice_ppo


def main(argv: list[str] | None = None) -> int:
    try:
        config, resume, spice_ppo = parse(argv)
        if spice_ppo:
            from train.spice_baseline import run_spice_baseline

            print(run_spice_baseline(config, resume))
            return 0
        from train.loop import BoxLoop

        loop = BoxLoop(config, resume)
        if not (loop.dir.path / "config.json").is_file():
            loop.dir.write_config(config_to_dict(config))
        try:
            summary = loop.run()
        finally:
            loop.close()
        held = summary.get("held_out_success")
        print(
            f"done: held-out success {held if held is None else f'{held:.1%}'} on "
            f"{len(loop.held_out)} targets drawn from the declared box (1 SPICE sim "
            f"each), {summary['spice_sims']} SPICE simulations in total; run in "
            f"{config.run} (held_out.json, held_out.png)"
        )
        return 0
    except (UserInputError, FileExistsError) as error:
        sys.stderr.write(f"error: {' '.join(str(error).split())}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("interrupted: verified designs are kept; use --resume\n")
        return 130


if __name__ == "__main__":
    sys.exit(main())
