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
from envs.targets import draw_targets
from sim.cli_conventions import (
    add_count_option,
    add_deprecated_alias,
    add_json_option,
    keeps_stdout_for_json,
    write_json,
)
from sim.errors import OneLineArgumentParser, UserInputError
from sim.format.circuit import load_circuit
from sim.format.technology import load_technology
from sim.sizing.problem import SizingProblem, problem_for
from sim.sizing.session import add_problem_options, options_from_args
from sim.sizing.target_text import targets_json


def sample_targets(definition: SizingProblem, n: int, seed: int) -> np.ndarray:
    """``n`` targets ``[n, m]`` (float32) uniform over the declared box, from
    ``jax.random.key(seed)`` (the environments' own draws)."""
    keys = jax.random.split(jax.random.key(seed), n)
    return np.asarray(draw_targets(keys, definition))


def split_indices(n: int, held_out: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A random train/held-out split of ``range(n)`` (sorted index arrays)."""
    order = np.random.default_rng(seed).permutation(n)
    n_held = int(round(held_out * n))
    return np.sort(order[n_held:]), np.sort(order[:n_held])


def targets_document(
    env_id: str, definition: SizingProblem, n: int, seed: int, held_out: float
) -> dict:
    """The JSON document of ``python -m envs.specs``."""
    targets = sample_targets(definition, n, seed).astype(np.float64)
    train, held = split_indices(n, held_out, seed)
    return {
        "env": env_id,
        "circuit": definition.circuit,
        "technology": definition.technology,
        "corner": definition.corner,
        "seed": seed,
        "n": n,
        "held_out_fraction": held_out,
        "box": definition.box.to_json(),
        "train": targets_json(targets[train], definition.box),
        "held_out": targets_json(targets[held], definition.box),
    }


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
        technology = load_technology(options.tech)
        circuit = load_circuit(options.circuit, technology)
        check_space(options.space, circuit, technology)
        corner = options.corner or technology.default_corner
        definition = problem_for(circuit, technology.name, corner, options.temperature)
        name = args.env or f"{circuit.name}-{technology.name}-{options.space}"
        document = targets_document(name, definition, args.n, args.seed, args.held_out)
        document["space"] = options.space
    except UserInputError as error:
        sys.stderr.write(f"error: {' '.join(str(error).split())}\n")
        return 2
    written = write_json(args.json, document)
    print(
        f"wrote {written}: {len(document['train'])} train and "
        f"{len(document['held_out'])} held-out targets for {document['env']} "
        "(uniform over the declared box)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
