"""``python -m envs.specs``: target specs for training and held-out evaluation.

Samples ``--n`` targets of an environment id from its circuit's feasible spec
ranges (``envs.definition.sample_target``: every target is met by one of the
anchor designs of ``feasible_<tech>.json``, see ``sim.specs``) and splits them
at random into a training set and a held-out set (AutoCkt's protocol: train
on sampled targets, report reached held-out targets)::

    python -m envs.specs --env jaxsizer/op2-generic-v1 --n 1000 --seed 0 \\
        --out op2_targets.json [--held-out 0.2]

The JSON holds ``train`` and ``held_out`` lists of ``{spec: value}`` (SI),
the spec bounds and ranges, and where the ranges came from. Use a target with
``gymnasium.make(id, target=...)`` or per episode with
``env.reset(options={"target": ...})``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import jax
import numpy as np

from envs.config import EnvConfig, build_problem
from envs.problem import EnvDefinition
from envs.registration import env_ids
from envs.targets import draw_targets
from sim.errors import UserInputError


def sample_targets(definition: EnvDefinition, n: int, seed: int) -> np.ndarray:
    """``n`` feasible targets ``[n, m]`` (float32) from ``jax.random.key(seed)``."""
    keys = jax.random.split(jax.random.key(seed), n)
    return np.asarray(draw_targets(keys, definition))


def split_indices(n: int, held_out: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A random train/held-out split of ``range(n)`` (sorted index arrays)."""
    order = np.random.default_rng(seed).permutation(n)
    n_held = int(round(held_out * n))
    return np.sort(order[n_held:]), np.sort(order[:n_held])


def targets_document(
    env_id: str, definition: EnvDefinition, n: int, seed: int, held_out: float, source
) -> dict:
    """The JSON document of ``python -m envs.specs``."""
    targets = sample_targets(definition, n, seed)
    train, held = split_indices(n, held_out, seed)

    def rows(index: np.ndarray) -> list[dict[str, float]]:
        return [
            dict(zip(definition.specs, map(float, targets[k]), strict=True))
            for k in index
        ]

    bounds = np.where(
        definition.point, "point", np.where(definition.lower, "lower", "upper")
    )
    return {
        "env": env_id,
        "circuit": definition.circuit,
        "technology": definition.technology,
        "corner": definition.corner,
        "seed": seed,
        "n": n,
        "held_out_fraction": held_out,
        "ranges_from": source,
        "anchors": len(definition.anchors),
        "specs": {
            s: {"bound": str(b), "range": [float(lo), float(hi)]}
            for s, b, lo, hi in zip(
                definition.specs,
                bounds,
                definition.spec_low,
                definition.spec_high,
                strict=True,
            )
        },
        "train": rows(train),
        "held_out": rows(held),
    }


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m envs.specs", description=__doc__)
    parser.add_argument("--env", required=True, help="e.g. jaxsizer/op2-generic-v1")
    parser.add_argument("--n", type=int, default=1000, help="number of targets")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True, help="JSON file to write")
    parser.add_argument(
        "--held-out", type=float, default=0.2, help="fraction held out (0..1)"
    )
    parser.add_argument("--circuit", default=None, help="circuit for custom ids")
    parser.add_argument("--tech", default=None, help="technology for custom ids")
    parser.add_argument(
        "--feasible-specs", default=None, help="a `python -m sim specs --out` JSON"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        ids = env_ids()
        env_id = args.env.split(":", 1)[-1]
        if env_id not in ids:
            raise UserInputError(
                f"unknown env id {args.env!r}; e.g. {', '.join(list(ids)[:3])}, ..."
            )
        if args.n < 1 or not 0.0 <= args.held_out < 1.0:
            raise UserInputError("--n must be >= 1 and --held-out in [0, 1)")
        kwargs = dict(ids[env_id])
        kwargs["variant"] = "v1"  # targets do not depend on the action space
        for key in ("circuit", "tech"):
            if getattr(args, key) is not None:
                kwargs[key] = getattr(args, key)
        if "circuit" not in kwargs or "tech" not in kwargs:
            raise UserInputError(f"{env_id} needs --circuit and --tech")
        config = EnvConfig(**kwargs, feasible_specs=args.feasible_specs)
        problem = build_problem(config)
        stored = args.feasible_specs is not None or _has_feasible(problem)
        source = "feasible specs" if stored else "circuit spec ranges (no anchors)"
        document = targets_document(
            args.env, problem.definition, args.n, args.seed, args.held_out, source
        )
    except UserInputError as error:
        sys.stderr.write(f"error: {' '.join(str(error).split())}\n")
        return 2
    Path(args.out).write_text(json.dumps(document, indent=1) + "\n")
    print(
        f"wrote {args.out}: {len(document['train'])} train and "
        f"{len(document['held_out'])} held-out targets for {args.env} ({source})"
    )
    return 0


def _has_feasible(problem) -> bool:
    from sim.specs import load_feasible

    simulator = problem.simulator
    return load_feasible(simulator.circuit, simulator.technology.name) is not None


if __name__ == "__main__":
    raise SystemExit(main())
