"""``python -m train``: train a sizer on the circuit's declared target box.

    python -m train --env jaxsizer/twostage-generic-v1 --run runs/twostage
    python -m train --circuit DIR/circuit.yaml --tech DIR/tech.yaml --run runs/mine
    python -m train --run runs/twostage --resume   # continue (or start) a run
    python -m train --spice-ppo --env jaxsizer/op2-sky130-v1 --sim-budget 5000
    python -m train --surrogate --env jaxsizer/op2-sky130-v1   # = the default

The default (``--surrogate`` says it explicitly) trains the box loop
(``train.loop``): surrogate, frontier search and policy, stopping on
held-out success over the box. ``--spice-ppo`` runs
the baseline instead: PPO directly on ngspice at the same budget.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from sim.cli_conventions import add_json_option, keeps_stdout_for_json, write_json
from sim.engine.backend import backend_from_args
from sim.errors import OneLineArgumentParser, UserInputError
from sim.sizing.session import add_problem_options, given_space, options_from_args
from sim.verbosity import add_verbosity_options, progress, quiet_stdout
from train.config import TrainConfig, config_from_dict
from train.ppo import PPOConfig
from train.run_dir import refuse_other_space

SKIPPED = ("ppo", "problem", "backend", "workers")

# One line per flag, with its unit (the fields of train.config.TrainConfig and,
# as --ppo-*, train.ppo.PPOConfig; a test checks that none is missing).
HELP = {
    "run": "run directory (config, logs, checkpoints, verified designs)",
    "seed": "seed of designs, targets and networks (integer)",
    "targets": "a target JSON file standing in for the declared box",
    "sim_budget": "SPICE simulations the whole run may spend (count)",
    "initial_samples": "Sobol designs simulated before the first round (count)",
    "round_targets": "box targets drawn per round (count)",
    "round_sims": "frontier SPICE simulations per round at most (count)",
    "held_out": "held-out box targets, fixed for the run (count)",
    "held_out_seed": "seed of the held-out targets (integer)",
    "eval_every": "rounds between held-out evaluations (count)",
    "goal": "held-out success that ends training (fraction in (0, 1])",
    "held_out_patience": "held-out evaluations without improvement before "
    "stopping, counted only within 1 point of the box ceiling (count)",
    "ceiling": "the box's feasibility ceiling (fraction; 0: box.json beside "
    "the circuit YAML, else unknown: a stall never stops the run)",
    "strategy_sims": "SPICE sims per round of the strategy run after a held-out "
    "stall (count)",
    "probe_targets": "box targets (run seed) scoring each strategy's finds (count)",
    "max_rounds": "rounds at most (count)",
    "policy_updates": "PPO update segments per round (count; 0: no policy)",
    "episode_steps": "steps per surrogate-env episode (count)",
    "walk_steps": "policy steps per proposal walk on the surrogate (count)",
    "table_size": "curriculum targets given to the policy (count)",
    "surrogate_hidden": "hidden units per layer of the circuit surrogate (count)",
    "surrogate_members": "networks in the surrogate ensemble (count)",
    "surrogate_max_epochs": "surrogate fit epochs at most per round (count)",
    "ppo_n_envs": "surrogate envs stepped in parallel (count; --spice-ppo: at "
    "most 16 ngspice envs)",
    "ppo_n_steps": "rollout steps per env per update (count)",
    "ppo_epochs": "passes over each rollout (count)",
    "ppo_minibatches": "minibatches per pass (count)",
    "ppo_gamma": "discount per step (0-1)",
    "ppo_lam": "GAE lambda (0-1)",
    "ppo_success_bonus": "reward added when a step meets every spec (reward units)",
    "ppo_clip": "PPO ratio clip (fraction)",
    "ppo_entropy_coef": "entropy bonus weight (dimensionless)",
    "ppo_value_coef": "value loss weight (dimensionless)",
    "ppo_learning_rate": "initial Adam learning rate (per update)",
    "ppo_final_learning_rate": "learning rate at the end of the schedule",
    "ppo_max_grad_norm": "gradient clip (global L2 norm)",
    "ppo_hidden": "hidden units per layer of policy and value networks (count)",
    "ppo_total_updates": "length of the learning-rate schedule (updates)",
    "ppo_segments": "PPO update segments per jitted call (count)",
    "ppo_box_share": "share of episodes whose goal is drawn from the box; the rest "
    "come from the curriculum table and the achieved front (0-1)",
}


def _add_fields(parser: argparse.ArgumentParser, cls, prefix: str = "") -> None:
    for f in dataclasses.fields(cls):
        if f.name in SKIPPED:
            continue
        flag = "--" + prefix + f.name.replace("_", "-")
        default = f.default if f.default is not dataclasses.MISSING else None
        key = (prefix + f.name).replace("-", "_")
        text = f.metadata.get("help") or HELP.get(key, "")
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
                flag, action=argparse.BooleanOptionalAction, default=None, help=text
            )
        else:
            parser.add_argument(
                flag, type=kind, default=None, help=f"{text} (default {default})"
            )


def build_parser() -> OneLineArgumentParser:
    """``python -m train``'s flags: the problem options, then one per field of
    ``TrainConfig`` and (``--ppo-*``) ``PPOConfig``."""
    parser = OneLineArgumentParser(
        prog="python -m train",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_problem_options(parser)
    parser.add_argument("--resume", action="store_true", help="continue --run")
    method = parser.add_mutually_exclusive_group()
    method.add_argument(
        "--surrogate",
        action="store_true",
        help="the surrogate-accelerated box loop (the default; this flag only says so)",
    )
    method.add_argument(
        "--spice-ppo", action="store_true", help="baseline: PPO on ngspice"
    )
    add_json_option(parser, "the run's summary (held-out success, SPICE sims)")
    add_verbosity_options(parser)
    _add_fields(parser, TrainConfig)
    _add_fields(parser, PPOConfig, "ppo-")
    return parser


def parse(argv: list[str] | None = None) -> tuple[TrainConfig, bool, bool]:
    """The run's config, whether to resume, and whether to run ``--spice-ppo``."""
    config, resume, spice_ppo, _ = parse_args(argv)
    return config, resume, spice_ppo


def parse_args(argv: list[str] | None = None):
    """``parse`` and the other options (``json``, ``verbosity``)."""
    args = build_parser().parse_args(argv)
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

        base = config_from_dict(RunDir(run).read_config())  # surrogate/ may be refit
        refuse_other_space(run, base.options.space, given_space(args))
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
        "probe_targets",
    ):
        if getattr(config, name) < 1:
            raise UserInputError(f"--{name.replace('_', '-')} must be at least 1")
    if config.sim_budget < 10:
        raise UserInputError("--sim-budget must be at least 10")
    if not 0.0 < config.goal <= 1.0:
        raise UserInputError("--goal must be in (0, 1]")
    if not 0.0 <= config.ceiling <= 1.0:
        raise UserInputError("--ceiling must be in [0, 1] (0: unknown)")
    return config, args.resume, args.spice_ppo, args


def held_out_success(summary: dict) -> float | None:
    """The run's held-out success: this session's last evaluation, else the
    curve's last point (a finished run re-run evaluates nothing new)."""
    held = summary.get("held_out_success")
    if held is None and summary.get("curve"):
        held = summary["curve"][-1].get("held_out_success")
    return held


@keeps_stdout_for_json
def main(argv: list[str] | None = None) -> int:
    try:
        config, resume, spice_ppo, args = parse_args(argv)
        json_path = args.json
        if spice_ppo:
            from train.spice_baseline import run_spice_baseline

            result = run_spice_baseline(config, resume)
            print(result)
            if json_path:
                write_json(json_path, {"summary": result})
            return 0
        from train.loop import BoxLoop

        loop = BoxLoop(config, resume)  # writes config.json for a new run
        bar = progress(config.max_rounds, "rounds", "round", args.verbosity)
        log = loop.dir.log

        def log_round(round_: int, metrics: dict) -> None:
            log(round_, metrics)
            bar.update(1)

        loop.dir.log = log_round  # one bar step per round (train.run_dir)
        try:
            with quiet_stdout(args.verbosity):
                summary = loop.run()
        finally:
            bar.close()
            loop.close()
        held = held_out_success(summary)
        if json_path:
            write_json(json_path, {**summary, "held_out_success": held})
        print(
            f"done: held-out success {held if held is None else f'{held:.1%}'} on "
            f"{len(loop.held_out)} targets drawn from the declared box (at most 1 "
            f"new SPICE sim each), {summary['spice_sims']} SPICE simulations in "
            f"total; stopped: {summary['stopped_by']}; run in {config.run} "
            "(held_out.json, held_out.png)"
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
