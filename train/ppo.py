"""PPO in optax: one jitted update segment over vmapped pure-JAX environments.

``make_train(config, env)`` returns ``init(key, env_params)`` and
``update(runner, env_params)``; ``update`` runs ``n_steps`` of every
environment (``lax.scan``), computes GAE, and does ``epochs`` x
``minibatches`` clipped-objective updates, all inside one ``jax.jit``. The
Python caller only does I/O between segments (PureJaxRL's shape, Brax's
outer loop). The environment is any object with gymnax-style ``reset(key,
params)`` and ``step(key, state, action, params)`` whose ``info`` carries
``final_observation``; its reward is learnt as it is (the success bonus is
the environment's, ``envs.definition.step_outcome``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax
from flax import nnx

from envs.definition import SUCCESS_BONUS
from envs.targets import BOX_SHARE
from train.gae import gae
from train.networks import (
    ActorCritic,
    gaussian_entropy,
    gaussian_log_prob,
    standardised,
)


@dataclass(frozen=True)
class PPOConfig:
    """PPO hyper-parameters (defaults suit the surrogate environments)."""

    n_envs: int = 512
    n_steps: int = 16  # rollout length per update
    epochs: int = 2
    minibatches: int = 4
    gamma: float = 0.5
    lam: float = 0.9
    # The reward's bonus on a step that meets every spec (reward units): the
    # trainer passes it to the environment (``EnvParams.success_bonus``),
    # whose ``envs.definition.step_outcome`` adds it; PPO adds nothing.
    success_bonus: float = SUCCESS_BONUS
    clip: float = 0.2
    entropy_coef: float = 1e-3
    value_coef: float = 0.5
    learning_rate: float = 3e-4
    final_learning_rate: float = 3e-5
    max_grad_norm: float = 0.5
    hidden: int = 128
    total_updates: int = 5000  # segments in the learning-rate schedule
    segments: int = 4  # update segments per jitted call (train.policy)
    box_share: float = BOX_SHARE  # episodes with a box target; the rest from tables


class Runner(NamedTuple):
    """Everything an update segment carries (a pytree)."""

    params: Any
    opt_state: Any
    env_state: Any
    obs: jax.Array
    key: jax.Array


class Transition(NamedTuple):
    obs: jax.Array
    action: jax.Array
    log_prob: jax.Array
    value: jax.Array
    reward: jax.Array
    terminated: jax.Array
    truncated: jax.Array
    next_value: jax.Array


def make_learner(config: PPOConfig, n_obs: int, n_act: int):
    """The environment-free half of PPO.

    Returns ``graphdef``, ``new_params(key)``, ``tx`` (the optax chain),
    ``policy(params, obs)`` and the jitted ``learn(params, opt_state, batch,
    key) -> (params, opt_state, losses)`` that does ``epochs`` x
    ``minibatches`` clipped-objective updates on a rollout ``batch``
    (``Transition`` of ``[T, B, ...]`` arrays).
    """
    graphdef, _ = nnx.split(ActorCritic(n_obs, n_act, config.hidden, rngs=nnx.Rngs(0)))
    steps_per_update = config.epochs * config.minibatches
    schedule = optax.linear_schedule(
        config.learning_rate,
        config.final_learning_rate,
        config.total_updates * steps_per_update,
    )
    # optax.adam spelt out with named stages: the optimiser state's checkpoint
    # keys are names (optimiser/scale_by_adam/mu/...), not chain positions
    tx = optax.named_chain(
        ("clip_by_global_norm", optax.clip_by_global_norm(config.max_grad_norm)),
        ("scale_by_adam", optax.scale_by_adam(eps=1e-5)),
        ("scale_by_learning_rate", optax.scale_by_learning_rate(schedule)),
    )

    def new_params(key: jax.Array):
        return nnx.state(ActorCritic(n_obs, n_act, config.hidden, rngs=nnx.Rngs(key)))

    def policy(params, obs):
        return nnx.merge(graphdef, params)(obs)

    def loss_fn(params, batch: Transition, advantages, returns):
        mean, log_std, value = policy(params, batch.obs)
        log_prob = gaussian_log_prob(batch.action, mean, log_std)
        ratio = jnp.exp(log_prob - batch.log_prob)
        normed = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
        policy_loss = -jnp.minimum(
            ratio * normed, jnp.clip(ratio, 1 - config.clip, 1 + config.clip) * normed
        ).mean()
        value_loss = 0.5 * ((value - returns) ** 2).mean()
        entropy = gaussian_entropy(log_std)
        total = (
            policy_loss + config.value_coef * value_loss - config.entropy_coef * entropy
        )
        return total, (policy_loss, value_loss, entropy)

    def learn(params, opt_state, batch: Transition, key: jax.Array):
        advantages, returns = gae(
            batch.reward,
            batch.value,
            batch.next_value,
            batch.terminated,
            batch.truncated,
            config.gamma,
            config.lam,
        )
        flat = jax.tree.map(
            lambda a: a.reshape((-1,) + a.shape[2:]), (batch, advantages, returns)
        )
        size = flat[1].shape[0]

        def epoch(state, key):
            order = jax.random.permutation(key, size)
            shuffled = jax.tree.map(
                lambda a: a[order].reshape((config.minibatches, -1) + a.shape[1:]), flat
            )

            def minibatch(state, mb):
                params, opt_state = state
                (loss, parts), grads = jax.value_and_grad(loss_fn, has_aux=True)(
                    params, *mb
                )
                updates, opt_state = tx.update(grads, opt_state, params)
                return (optax.apply_updates(params, updates), opt_state), (loss, *parts)

            return jax.lax.scan(minibatch, state, shuffled)

        (params, opt_state), losses = jax.lax.scan(
            epoch, (params, opt_state), jax.random.split(key, config.epochs)
        )
        return params, opt_state, [part.mean() for part in losses]

    return graphdef, new_params, tx, policy, learn


def make_train(config: PPOConfig, env, n_obs: int, n_act: int):
    """Build ``init`` and the jitted ``update`` for a pure-JAX ``env``.

    ``init`` sets the network's observation standardisation from the
    environment (fresh episodes and one uniformly random action each, at
    least 4096 of them). ``update``'s metrics are scalars, except
    ``achieved`` ``[n_steps, n_envs, m]``: the figures every step reached,
    when the environment's ``info`` carries ``performance`` (else absent).
    """
    graphdef, new_params, tx, policy, learn = make_learner(config, n_obs, n_act)
    n_sample = max(config.n_envs, 4096)

    def init(key: jax.Array, env_params) -> Runner:
        k_model, k_env, k_obs, k_act, key = jax.random.split(key, 5)
        obs, env_state = jax.vmap(env.reset, in_axes=(0, None))(
            jax.random.split(k_env, config.n_envs), env_params
        )
        first, states = jax.vmap(env.reset, in_axes=(0, None))(
            jax.random.split(k_obs, n_sample), env_params
        )
        actions = jax.random.uniform(k_act, (n_sample, n_act), minval=-1, maxval=1)
        k_step, k_act = jax.random.split(k_act)
        stepped = jax.vmap(env.step, in_axes=(0, 0, 0, None))(
            jax.random.split(k_step, n_sample), states, actions, env_params
        )[5]["final_observation"]
        params = standardised(
            new_params(k_model), jnp.concatenate([first, stepped], axis=0)
        )
        return Runner(params, tx.init(params), env_state, obs, key)

    def rollout_step(carry, _, env_params):
        params, env_state, obs, key = carry
        key, k_act, k_env = jax.random.split(key, 3)
        mean, log_std, value = policy(params, obs)
        action = mean + jnp.exp(log_std) * jax.random.normal(k_act, mean.shape)
        log_prob = gaussian_log_prob(action, mean, log_std)
        next_obs, env_state, reward, terminated, truncated, info = jax.vmap(
            env.step, in_axes=(0, 0, 0, None)
        )(
            jax.random.split(k_env, config.n_envs),
            env_state,
            jnp.clip(action, -1.0, 1.0),
            env_params,
        )
        _, _, next_value = policy(params, info["final_observation"])
        transition = Transition(
            obs, action, log_prob, value, reward, terminated, truncated, next_value
        )
        return (params, env_state, next_obs, key), (transition, info)

    def update(runner: Runner, env_params) -> tuple[Runner, dict]:
        carry = (runner.params, runner.env_state, runner.obs, runner.key)
        (params, env_state, obs, key), (batch, info) = jax.lax.scan(
            lambda c, x: rollout_step(c, x, env_params),
            carry,
            None,
            length=config.n_steps,
        )
        key, k_learn = jax.random.split(key)
        params, opt_state, losses = learn(params, runner.opt_state, batch, k_learn)
        ended = jnp.maximum(batch.terminated, batch.truncated).sum()
        metrics = {
            "reward": batch.reward.mean(),
            "episodes": ended,
            "success_rate": batch.terminated.sum() / jnp.maximum(ended, 1),
            "loss": losses[0],
            "policy_loss": losses[1],
            "value_loss": losses[2],
            "entropy": losses[3],
        }
        if "performance" in info:
            metrics["achieved"] = info["performance"]
        return Runner(params, opt_state, env_state, obs, key), metrics

    return jax.jit(init), jax.jit(update), graphdef


def scan_updates(update, segments: int):
    """``segments`` calls of ``update(runner, env_params)`` as one jitted
    ``lax.scan`` (PureJaxRL's shape): ``many(runner, env_params) -> (runner,
    metrics)`` with every metric stacked ``[segments, ...]``. Compiled once
    per ``segments``; new ``env_params`` arrays of the same shapes reuse it."""

    def many(runner: Runner, env_params) -> tuple[Runner, dict]:
        return jax.lax.scan(
            lambda r, _: update(r, env_params), runner, None, length=segments
        )

    return jax.jit(many)
