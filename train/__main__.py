"""``python -m train``: train a sizing policy (see ``train.loop``).

python -m train --surrogate --env jaxsizer/op2-sky130-v1 --sim-budget 5000
python -m train --surrogate --run runs/op2-sky130 --resume
python -m train --env jaxsizer/op2-sky130-v1 --sim-budget 5000   # PPO on SPICE
"""

from __future__ import annotations

import argparse
import dataclasses
import sys

from sim.errors import OneLineArgumentParser as _Parser
from sim.errors import UserInputError
from train.loop import TrainConfig, config_from_dict, config_to_dict
from train.ppo import PPOConfig


def _add_fields(parser: argparse.ArgumentParser, cls, prefix: str = "") -> None:
    for f in dataclasses.fields(cls):
        if f.name in ("ppo", "surrogate"):
            continue
        flag = "--" + prefix + f.name.replace("_", "-")
        default = f.default if f.default is not dataclasses.MISSING else None
        if isinstance(default, bool):
            parser.add_argument(
                flag,
                action=argparse.BooleanOptionalAction,
                default=None,
                help=f"(default {default})",
            )
        else:
            kind = (
                int
                if isinstance(default, int)
                else float
                if isinstance(default, float)
                else str
            )
            if f.name == "workers":
                kind = int
            parser.add_argument(
                flag, type=kind, default=None, help=f"(default {default})"
            )


def parse(argv: list[str] | None = None) -> tuple[TrainConfig, bool]:
    parser = _Parser(
        prog="python -m train",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--surrogate",
        action="store_true",
        help="train on the surrogate with SPICE verification",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in --run (its config is reused)",
    )
    _add_fields(parser, TrainConfig)
    _add_fields(parser, PPOConfig, "ppo-")
    args = parser.parse_args(argv)
    given = {k: v for k, v in vars(args).items() if v is not None}
    if args.resume:
        from train.run_dir import RunDir

        run = given.get("run", TrainConfig.run)
        try:
            base = config_from_dict(RunDir(run).read_config())
        except FileNotFoundError:
            base = TrainConfig()  # nothing to resume yet: start the run
    else:
        base = TrainConfig()
    ppo = dataclasses.replace(
        base.ppo, **{k[4:]: v for k, v in given.items() if k.startswith("ppo_")}
    )
    fields = {f.name for f in dataclasses.fields(TrainConfig)} - {"ppo", "surrogate"}
    changes = {k: v for k, v in given.items() if k in fields}
    surrogate = args.surrogate or (args.resume and base.surrogate)
    config = dataclasses.replace(base, **changes, ppo=ppo, surrogate=surrogate)
    if config.sim_budget < 10:
        raise UserInputError("--sim-budget must be at least 10")
    return config, args.resume


def main(argv: list[str] | None = None) -> int:
    try:
        config, resume = parse(argv)
        if not config.surrogate:
            from train.spice_baseline import run_spice_baseline

            print(run_spice_baseline(config, resume))
            return 0
        from train.loop import SurrogateLoop

        loop = SurrogateLoop(config, resume)
        if not (loop.dir.path / "config.json").is_file():
            loop.dir.write_config(config_to_dict(config))
        try:
            summary = loop.run()
        finally:
            loop.close()
        print(
            f"done: {summary.get('spice_sims')} SPICE simulations, verified success "
            f"{summary.get('verified_success', 0):.2f}; run in {config.run}"
        )
        return 0
    except (UserInputError, FileExistsError) as error:
        sys.stderr.write(f"error: {error}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("interrupted: verified designs are kept; use --resume\n")
        return 130


if __name__ == "__main__":
    sys.exit(main())
