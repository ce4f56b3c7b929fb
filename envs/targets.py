"""Target draws from ``jax.random`` keys, shared by every environment.

Targets come from the circuit's declared box (``sim.format.targets.TargetBox``):
uniform positions between each spec's easy and hard end, on the spec's scale.
The randomness always comes from ``jax.random`` so that the SPICE envs
(NumPy) and the JAX env draw the same targets for the same key.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from sim.sizing.problem import SizingProblem


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
