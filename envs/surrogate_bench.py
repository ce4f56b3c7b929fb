"""``python -m envs.surrogate_bench``: surrogate env steps/s vs SPICE env steps/s.

    python -m envs.surrogate_bench --env jaxsizer/op2-sky130-v1 [--json OUT]

The surrogate environment runs a vmapped batch (default 4096) for a
``lax.scan`` of 100 steps with random actions, timed after compilation; the
SPICE environment steps the same circuit through ngspice (batched through
the worker pool). Writes ``surrogate_steps_per_s``, ``spice_steps_per_s``,
``ratio``. The surrogate env steps the distilled network by default
(``--model ensemble`` for the full ensemble).
"""

from __future__ import annotations

import argparse
import sys
import time

import jax
import numpy as np

from sim.cli_conventions import (
    add_json_option,
    keeps_stdout_for_json,
    write_json,
)
from sim.commands.bench import _machine
from sim.errors import OneLineArgumentParser, UserInputError, positive_int
from sim.sizing.session import Session


def surrogate_rate(env, params, batch: int, steps: int, repeats: int = 3) -> float:
    """Environment steps per second of the jitted, vmapped surrogate env."""

    def rollout(key):
        keys = jax.random.split(key, batch)
        _, state = jax.vmap(env.reset, in_axes=(0, None))(keys, params)

        def body(state, key):
            k_act, k_env = jax.random.split(key)
            action = jax.random.uniform(
                k_act, (batch, env.action_size), minval=-1.0, maxval=1.0
            )
            _, state, reward, _, _, _ = jax.vmap(env.step, in_axes=(0, 0, 0, None))(
                jax.random.split(k_env, batch), state, action, params
            )
            return state, reward.mean()

        _, rewards = jax.lax.scan(body, state, jax.random.split(key, steps))
        return rewards

    run = jax.jit(rollout)
    run(jax.random.key(0)).block_until_ready()
    best = np.inf
    for i in range(repeats):
        start = time.perf_counter()
        run(jax.random.key(i + 1)).block_until_ready()
        best = min(best, time.perf_counter() - start)
    return batch * steps / best


def spice_rate(session: Session, designs: int, seed: int = 0) -> float:
    """Environment steps per second when each step is an ngspice simulation
    of ``session``'s problem (``designs`` random designs, timed after a warm-up
    batch of 4)."""
    from surrogate.circuit.dataset import designs_from_actions

    rng = np.random.default_rng(seed)
    actions = rng.uniform(-1, 1, (designs, len(session.problem.scale.names)))
    batch = designs_from_actions(session.problem, actions)
    session.simulator.simulate(batch[:4], force=True)
    start = time.perf_counter()
    session.simulator.simulate(batch, force=True)
    return designs / (time.perf_counter() - start)


@keeps_stdout_for_json
def main(argv: list[str] | None = None) -> int:
    parser = OneLineArgumentParser(
        prog="python -m envs.surrogate_bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--env",
        default="jaxsizer/op2-sky130-v1",
        help="env id of a circuit with a fitted surrogate",
    )
    parser.add_argument(
        "--batch", type=positive_int, default=4096, help="surrogate envs vmapped"
    )
    parser.add_argument(
        "--steps", type=positive_int, default=100, help="surrogate steps timed"
    )
    parser.add_argument(
        "--spice-steps", type=positive_int, default=200, help="SPICE env steps timed"
    )
    parser.add_argument(
        "--model",
        choices=("distilled", "ensemble"),
        default="distilled",
        help="network the env steps: the distilled one (default) or the ensemble",
    )
    parser.add_argument(
        "--members",
        type=positive_int,
        default=None,
        help="with --model ensemble: members used (default: all)",
    )
    add_json_option(parser, "the results")
    args = parser.parse_args(argv)
    try:
        from envs.surrogate_env import EnvParams, SurrogateEnv, surrogate_params
        from sim.sizing.session import ProblemOptions, env_id_parts, open_session
        from surrogate.circuit.store import load_surrogate, surrogate_dir

        # the surrogate env's own id names the same (geometric) problem
        plain = args.env.split(":", 1)[-1]
        if plain.endswith("-surrogate-v0"):
            plain = plain.removesuffix("-surrogate-v0") + "-geometric-v0"
        circuit, tech, space = env_id_parts(plain)
        if circuit is None or tech is None or space != "geometric":
            raise UserInputError(
                f"{args.env}: the stored surrogates are geometric; give "
                "jaxsizer/<circuit>-<tech>-geometric-v0 (or -v1, or -surrogate-v0)"
            )
        directory = surrogate_dir(tech, circuit)
        if not (directory / "surrogate.json").is_file():
            raise UserInputError(
                f"no surrogate in {directory}: run python -m "
                f"surrogate.fit circuit --circuit {circuit} --tech {tech}"
            )
        loaded = load_surrogate(directory)
        session = open_session(ProblemOptions(circuit, tech, all_figures=True))
    except UserInputError as error:
        sys.stderr.write(f"error: {error}\n")
        return 2
    surrogate = surrogate_params(loaded, args.model)
    model = args.model if loaded.fast_weights is not None else "ensemble"
    if args.members and model == "ensemble":
        surrogate["weights"] = {
            k: v[: args.members] for k, v in surrogate["weights"].items()
        }
    weights = surrogate["weights"]
    params = EnvParams(surrogate, 200)
    env = SurrogateEnv(session.problem, session.default_sizing)
    fast = surrogate_rate(env, params, args.batch, args.steps)
    slow = spice_rate(session, args.spice_steps)
    session.close()
    result = {
        "env": args.env,
        "batch": args.batch,
        "steps": args.steps,
        "model": model,
        "hidden": int(weights["w1"].shape[2]),
        "members": int(weights["w1"].shape[0]),
        "surrogate_steps_per_s": fast,
        "spice_steps_per_s": slow,
        "ratio": fast / slow,
        "machine": {**_machine(), "jax": jax.__version__},
    }
    print("| measure | value |\n|---|---|")
    for key in ("surrogate_steps_per_s", "spice_steps_per_s", "ratio"):
        print(f"| {key} | {result[key]:.4g} |")
    print(f"| model | {model}, {result['members']} x {result['hidden']} wide |")
    if args.json:
        write_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
