"""``python -m envs.specs``: target specs for training and held-out evaluation.

Samples ``--n`` targets uniformly from the circuit's declared target box (the
distribution its users' targets come from, ``sim.format.targets``; its feasibility
ceiling is measured by ``python -m sim specs``) and splits them at random into
a training set and a held-out set::

    python -m envs.specs --env jaxsizer/op2-generic-v1 --n 1000 --seed 0 \\
        --json op2_targets.json [--held-out 0.2]
    python -m envs.specs --circuit DIR/circuit.yaml --tech DIR/tech.yaml ...

``--space`` (or the ``--env`` id's space) names the action space the targets
are for: it is checked against the circuit and technology (the electrical
space needs a sizing procedure and device networks) and recorded; the
targets themselves come from the box, the same in every space.

The JSON holds ``train`` and ``held_out`` lists of ``{spec: value}`` (SI), the
declared box and the space. Use a target with ``gymnasium.make(id,
target=...)``, per episode with ``env.reset(options={"target": ...})``, as
``--targets`` of ``python -m train`` (it trains on ``train`` and holds out
``held_out``, never training on it) or of ``train.eval`` (it sizes
``held_out``).
"""

from __future__ import annotations

import argparse
import sys

import jax
import numpy as np

from envs.sizing_space import check_space
from envs.targets import draw_by_key, save_target_sets, split_indices
from sim.cli_conventions import (
    add_count_option,
    add_deprecated_alias,
    add_json_option,
    keeps_stdout_for_json,
)
from sim.errors import OneLineArgumentParser, UserInputError
from sim.sizing.problem import SizingProblem
from sim.sizing.problem_opening import open_circuit_problem
from sim.sizing.session import add_problem_options, options_from_args


def targets_document(
    env_id: str, definition: SizingProblem, n: int, seed: int, held_out: float
) -> tuple[dict, np.ndarray, np.ndarray]:
    """The metadata of ``python -m envs.specs``'s file and its ``train`` and
    ``held_out`` targets (``n`` drawn from ``jax.random.key(seed)``, a share
    ``held_out`` set aside by a ``seed`` permutation, each in index order)."""
    targets = draw_by_key(jax.random.key(seed), definition, n).astype(np.float64)
    train, held = split_indices(n, int(round(held_out * n)), seed)
    meta = {
        "env": env_id,
        "circuit": definition.circuit,
        "technology": definition.technology,
        "corner": definition.corner,
        "seed": seed,
        "n": n,
        "held_out_fraction": held_out,
    }
    return meta, targets[np.sort(train)], targets[np.sort(held)]


def _parser() -> argparse.ArgumentParser:
    parser = OneLineArgumentParser(prog="python -m envs.specs", description=__doc__)
    add_problem_options(parser, simulation=False)
    add_count_option(parser, 1000, "targets drawn (train and held out)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the draw")
    add_json_option(parser, "the targets (required)")
    add_deprecated_alias(parser, "--out", "--json")
    parser.add_argument(
        "--held-out", type=float, default=0.2, help="fraction held out (0..1)"
    )
    return parser


@keeps_stdout_for_json
def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.json is None:
            raise UserInputError("give --json PATH: the target file to write")
        if not 0.0 <= args.held_out < 1.0:
            raise UserInputError("--held-out must be in [0, 1)")
        options = options_from_args(args)
        opened = open_circuit_problem(options)
        circuit, technology = opened.circuit, opened.technology
        check_space(options.space, circuit, technology)
        definition = opened.problem
        name = args.env or f"{circuit.name}-{technology.name}-{options.space}"
        meta, train, held = targets_document(
            name, definition, args.n, args.seed, args.held_out
        )
        meta["space"] = options.space
    except UserInputError as error:
        sys.stderr.write(f"error: {' '.join(str(error).split())}\n")
        return 2
    box = definition.box
    written = save_target_sets(args.json, train, held, box, **meta)
    print(
        f"wrote {written}: {len(train)} train and {len(held)} held-out targets "
        f"for {meta['env']} (uniform over the declared box)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
