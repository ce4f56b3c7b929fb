"""The target distribution: every draw of sizing targets, and target sets.

Targets are uniform over the circuit's declared box (``sim.format.targets.TargetBox``:
per spec uniform between its easy and hard end, on the spec's scale; the box
is declared in the circuit's YAML). Two random streams draw from it, each the
one way to draw with its kind of randomness:

- by seed, NumPy (``draw_by_seed``): ``numpy.random.default_rng(seed)``
  uniforms, the stream of the trainer's held-out and round targets,
  ``train.eval``, the benchmarks and ``sim.search.specs``' feasibility ceiling;
- by key, JAX (``draw_by_key``, ``draw_target``, ``draw_targets``):
  ``jax.random`` uniforms, the stream of every environment (the SPICE envs
  per episode, the surrogate env inside ``jit``), the PPO-on-SPICE baseline
  and ``python -m envs.specs``; the SPICE envs (NumPy) and the JAX env draw the
  same targets for the same key.

A target set splits into ``train`` and ``held_out`` (``split_indices``); a
target file holds them under those keys (``save_target_sets``, read back by
``load_target_sets`` through ``sim.sizing.target_text.load_targets``, the one
loader). ``BOX_SHARE`` is the share of a trainer's episodes drawn from the box
rather than its target table.
"""

from __future__ import annotations

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from sim.cli_conventions import write_json
from sim.format.targets import TargetBox
from sim.sizing.problem import SizingProblem
from sim.sizing.target_text import load_targets, targets_json

# The share of a trainer's episodes whose target is drawn from the declared
# box; the rest come from its target table (``envs.surrogate_env.EnvParams``,
# ``train.ppo.PPOConfig.box_share``, ``envs.gymnax_env.build``).
BOX_SHARE = 0.5


# -- by seed (NumPy) -------------------------------------------------------------
def draw_by_seed(box: TargetBox, n: int, seed: int) -> np.ndarray:
    """``n`` targets ``[n, m]`` (float64, SI) uniform over ``box`` from the
    NumPy generator ``default_rng(seed)`` (``TargetBox.sample``)."""
    return box.sample(n, seed)


# -- by key (JAX) ----------------------------------------------------------------
def target_uniforms(key: jax.Array, problem: SizingProblem) -> jax.Array:
    """The positions ``[m]`` (float32 in [0, 1)) that define one target."""
    return jax.random.uniform(key, (len(problem.specs),), dtype=jnp.float32)


def draw_target(key: jax.Array, problem: SizingProblem, xp=np):
    """One target ``[m]`` (float32) uniform over the declared box, for ``key``."""
    u = target_uniforms(key, problem)
    if xp is np:
        u = np.asarray(u, np.float64)
    return xp.asarray(problem.box.from_uniform(u, xp), dtype=xp.float32)


def draw_targets(keys: jax.Array, problem: SizingProblem) -> jax.Array:
    """Targets ``[n, m]`` (float32) for keys ``[n]`` (one jitted ``vmap``)."""
    draw = jax.jit(jax.vmap(lambda key: draw_target(key, problem, jnp)))
    return draw(keys)


def draw_by_key(key: jax.Array, problem: SizingProblem, n: int) -> np.ndarray:
    """``n`` targets ``[n, m]`` (float32, SI) uniform over the box from one
    ``jax.random`` key: target ``i`` is ``draw_target`` of the ``i``-th of
    ``jax.random.split(key, n)``."""
    return np.asarray(draw_targets(jax.random.split(key, n), problem))


# -- sets ------------------------------------------------------------------------
def split_indices(n: int, n_held: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A random train/held-out split of ``range(n)``: ``(train, held_out)``
    index arrays, ``n_held`` held out, in the order of the permutation
    ``default_rng(seed).permutation(n)`` (held out first)."""
    order = np.random.default_rng(seed).permutation(n)
    return order[n_held:], order[:n_held]


def target_sets_document(
    train: np.ndarray, held_out: np.ndarray, box: TargetBox, **meta
) -> dict:
    """A target file's JSON: ``meta`` entries, the declared ``box`` and the
    ``train`` and ``held_out`` lists of ``{spec: value}`` (SI; a spec without
    a requirement, NaN, is left out)."""
    return {
        **meta,
        "box": box.to_json(),
        "train": targets_json(train, box),
        "held_out": targets_json(held_out, box),
    }


def save_target_sets(
    path: str | Path,
    train: np.ndarray,
    held_out: np.ndarray,
    box: TargetBox,
    **meta,
) -> str:
    """Write ``target_sets_document`` to ``path`` (``-``: stdout); returns
    what was written to (``sim.cli_conventions.write_json``)."""
    return write_json(path, target_sets_document(train, held_out, box, **meta))


def load_target_sets(path: str | Path, box: TargetBox) -> tuple[np.ndarray, np.ndarray]:
    """``(train [N, m], held_out [H, m])`` of a target file (a plain list is
    all training targets; ``H`` is 0 then), read by
    ``sim.sizing.target_text.load_targets``."""
    return load_targets(path, box, "train"), load_targets(path, box, "held_out")
