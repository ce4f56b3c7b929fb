"""``python -m envs.consistency``: do v0's sized devices run at the requested gm/Id?

Takes ``--n`` random electrical actions of a ``-v0`` environment, sizes them
through the device networks, simulates them in ngspice and compares every
group's representative device's simulated gm/Id with the requested one::

    python -m envs.consistency --circuit op2 --tech sky130 --n 100 --json v0.json

Prints the median and 90th percentile relative error per group and over all
requests, and the same over the requests the sizing did not flag (a request
is flagged when it leaves a device network's characterised region, e.g. a
mirror left without Vds headroom: ``info["sizing_issue"]``), and how many
requests each kind of flag (the first recorded per request) accounts for.
"""

from __future__ import annotations

import sys
from collections import Counter

import numpy as np

from envs.vector_env import SpiceVectorEnv
from sim.cli_conventions import (
    add_count_option,
    add_json_option,
    keeps_stdout_for_json,
    write_json,
)
from sim.errors import OneLineArgumentParser, UserInputError


def gm_over_id_errors(
    circuit: str, tech: str, n: int, seed: int = 0, pool="shared", batch: int = 16
) -> dict:
    """Relative gm/Id errors ``{group: [errors]}`` of ``n`` random v0 actions
    (``errors``: all simulated; ``unflagged``: without a sizing issue), the
    number of unflagged requests and of failed simulations, and the count of
    each kind of sizing issue (``flags``)."""
    env = SpiceVectorEnv(
        circuit,
        tech,
        "v0",
        num_envs=batch,
        pool=pool,
        figures="specs",
        max_steps=10**6,
        autoreset_mode="Disabled",  # every step applies its action
    )
    groups = env.problem.actions.space_definition.groups
    errors: dict[str, list[float]] = {g: [] for g in groups}
    unflagged: dict[str, list[float]] = {g: [] for g in groups}
    rng = np.random.default_rng(seed)
    sizeable = failed = 0
    flags: Counter[str] = Counter()
    try:
        env.reset(seed=seed)
        for start in range(0, n, batch):
            actions = rng.uniform(-1, 1, env.action_space.shape).astype(np.float32)
            rows = min(batch, n - start)
            requested = env.problem.actions.electrical(actions.astype(np.float64))
            _, _, _, _, info = env.step(actions)
            for i in range(rows):
                clean = not info["sizing_issue"][i]
                sizeable += clean
                if not clean:
                    flags[_flag_kind(info["sizing_issue"][i])] += 1
                if info["status"][i] != "ok":
                    failed += 1
                    continue
                for group, (_, device) in groups.items():
                    got = info["operating_point"][f"{device}:gmoverid"][i]
                    want = requested[f"gmid_{group}"][i]
                    error = abs(got - want) / want if np.isfinite(got) else np.inf
                    errors[group].append(error)
                    if clean:
                        unflagged[group].append(error)
    finally:
        env.close()
    return {
        "errors": errors,
        "unflagged": unflagged,
        "requests": n,
        "sizeable": sizeable,
        "failed": failed,
        "flags": dict(flags.most_common()),
    }


def _flag_kind(issue: str) -> str:
    """A sizing issue without its numbers (``"cm5: ... Vds < 0.1 V"`` keeps
    its group and wording, drops a range in brackets)."""
    return issue.split("[")[0].strip()


def _stats(errors: dict[str, list[float]]) -> dict:
    groups = {
        g: {"median": float(np.median(e)), "p90": float(np.percentile(e, 90))}
        for g, e in errors.items()
        if e
    }
    values = np.concatenate([e for e in errors.values() if e] or [[]])
    if not values.size:
        return {"groups": groups, "median": float("nan"), "p90": float("nan")}
    return {
        "groups": groups,
        "median": float(np.median(values)),
        "p90": float(np.percentile(values, 90)),
    }


def summary(result: dict) -> dict:
    """Median and p90 relative error per group and over all groups, for all
    simulated requests and for the unflagged ones."""
    return {
        **_stats(result["errors"]),
        "unflagged": _stats(result["unflagged"]),
        "unflagged_fraction": result["sizeable"] / result["requests"],
        "failed": result["failed"],
        "flags": result["flags"],
    }


@keeps_stdout_for_json
def main(argv: list[str] | None = None) -> int:
    parser = OneLineArgumentParser(
        prog="python -m envs.consistency", description=__doc__
    )
    parser.add_argument(
        "--circuit", default="op2", help="circuit with a v0 space (name or YAML path)"
    )
    parser.add_argument("--tech", default="sky130", help="technology name or YAML path")
    add_count_option(parser, 100, "random v0 sizing requests")
    parser.add_argument("--seed", type=int, default=0, help="seed of the requests")
    add_json_option(parser, "the statistics")
    args = parser.parse_args(argv)
    try:
        stats = summary(gm_over_id_errors(args.circuit, args.tech, args.n, args.seed))
    except UserInputError as error:
        sys.stderr.write(f"error: {' '.join(str(error).split())}\n")
        return 2
    print(f"v0 gm/Id consistency: {args.circuit} on {args.tech}, {args.n} requests")
    header = f"{'all: median':>12} {'p90':>8} {'unflagged: median':>18} {'p90':>8}"
    print(f"  {'group':<6} {header}")
    for group, s in stats["groups"].items():
        u = stats["unflagged"]["groups"].get(group, {"median": np.nan, "p90": np.nan})
        print(
            f"  {group:<6} {s['median']:>12.2%} {s['p90']:>8.2%} "
            f"{u['median']:>18.2%} {u['p90']:>8.2%}"
        )
    u = stats["unflagged"]
    print(
        f"  {'all':<6} {stats['median']:>12.2%} {stats['p90']:>8.2%} "
        f"{u['median']:>18.2%} {u['p90']:>8.2%}"
    )
    print(
        f"  unflagged requests {stats['unflagged_fraction']:.0%}, "
        f"failed simulations {stats['failed']}"
    )
    for kind, count in stats["flags"].items():
        print(f"  flagged {count:>4}: {kind}")
    if args.json:
        write_json(args.json, stats, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
