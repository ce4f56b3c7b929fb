"""Candidate sizings for given targets: the policy run on the surrogate.

For each target the deterministic policy (the Gaussian's mean) walks
``steps`` steps from the default design on the surrogate; every visited
sizing is a candidate, ranked first by whether the surrogate predicts every
spec met, then by the predicted reward. Optional noisy walks (the policy's
own spread) add candidates for sizing a single target.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from envs import definition as d
from envs.surrogate_env import SurrogateEnv


def make_proposer(env: SurrogateEnv, graphdef, steps: int):
    """``propose(policy, env_params, targets [B, m], key, noise) -> dict``.

    Returns arrays ``sizing [B, steps, n]``, ``reward [B, steps]``,
    ``met [B, steps]`` (surrogate's prediction) and ``obs [B, steps, D]``.
    """

    def walk(policy, env_params, target, key, noise):
        obs, _, _, _ = env.evaluate(env.default_params, target, env_params)

        def body(carry, key):
            obs = carry
            mean, log_std, _ = nnx.merge(graphdef, policy)(obs)
            action = mean + noise * jnp.exp(log_std) * jax.random.normal(
                key, mean.shape
            )
            sizing = d.scale_action(
                jnp.clip(action, -1.0, 1.0), env.definition.scale, jnp
            )
            obs, reward, met, _ = env.evaluate(sizing, target, env_params)
            return obs, (sizing, reward, met, obs)

        _, out = jax.lax.scan(body, obs, jax.random.split(key, steps))
        return out

    @jax.jit
    def propose(policy, env_params, targets, key, noise):
        keys = jax.random.split(key, targets.shape[0])
        sizing, reward, met, obs = jax.vmap(walk, in_axes=(None, None, 0, 0, None))(
            policy, env_params, targets, keys, noise
        )
        return {"sizing": sizing, "reward": reward, "met": met, "obs": obs}

    return propose


def ranked_candidates(
    sizing: np.ndarray, reward: np.ndarray, met: np.ndarray, limit: int
) -> list[np.ndarray]:
    """Distinct sizings of one target ``[steps, n]``, best first, at most ``limit``.

    Predicted-met sizings come first (earliest step first), then the rest by
    predicted reward.
    """
    order = sorted(
        range(len(reward)), key=lambda t: (not met[t], -reward[t] if not met[t] else t)
    )
    seen, out = set(), []
    for t in order:
        key = tuple(np.round(sizing[t], 15))
        if key in seen:
            continue
        seen.add(key)
        out.append(sizing[t])
        if len(out) >= limit:
            break
    return out
