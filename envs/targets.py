"""Target draws from ``jax.random`` keys, shared by every environment.

The randomness (uniforms and an anchor pick) always comes from ``jax.random``
so that the SPICE envs (NumPy) and the JAX env draw the same targets for the
same key; the arithmetic is ``envs.definition.sample_target``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from envs.definition import sample_target
from envs.problem import EnvDefinition


def target_draw(
    key: jax.Array, definition: EnvDefinition
) -> tuple[jax.Array, jax.Array]:
    """The uniforms ``[m]`` and anchor index that define one target.

    One draw of ``m + 1`` uniforms (the last picks the anchor): the pure-JAX
    environment draws a target on every step, so this is kept to a single
    call of the generator.
    """
    m, n_anchors = len(definition.specs), len(definition.anchors)
    draws = jax.random.uniform(key, (m + 1,), dtype=jnp.float32)
    pick = jnp.minimum((draws[m] * n_anchors).astype(jnp.int32), n_anchors - 1)
    return draws[:m], pick


def draw_target(key: jax.Array, definition: EnvDefinition, xp=np):
    """One feasible target ``[m]`` (float32) for ``key``."""
    u, pick = target_draw(key, definition)
    if xp is np:
        u, pick = np.asarray(u), int(pick)
    anchors = xp.asarray(definition.anchors, dtype=xp.float32)
    arrays = (definition.spec_low, definition.spec_high)
    low, high = (xp.asarray(a, dtype=xp.float32) for a in arrays)
    target = sample_target(
        u, pick, anchors, low, high, definition.lower, definition.spec_log, xp
    )
    return xp.asarray(target, dtype=xp.float32)


def draw_targets(keys: jax.Array, definition: EnvDefinition) -> jax.Array:
    """Targets ``[n, m]`` (float32) for keys ``[n]`` (one jitted ``vmap``)."""
    draw = jax.jit(jax.vmap(lambda key: draw_target(key, definition, jnp)))
    return draw(keys)
