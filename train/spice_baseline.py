"""The baseline: the same PPO trained directly on ngspice (AutoCkt-style).

Every environment step is a SPICE simulation: the baseline steps
``envs.vector_env.SpiceVectorEnv`` (``n_envs`` episodes, one worker-pool
call per step), so an episode means here what it means in the SPICE envs
(observation, reward with its success bonus, termination and truncation of
``envs.definition.step_outcome``, as in the surrogate loop, so the two are
compared at equal SPICE budget). Actions become designs through the run's
space (``--space``, ``envs.sizing_space.env_actions``): geometric,
electrical (gm/Id through the device networks) or autockt (AutoCkt's steps
on its grid). The reward is the circuit's in every space (the box trainer's).

Targets come from the declared box (``envs.targets``), drawn here from the
run's key so that a seed gives the same episodes; the env resets the
finished episodes with them (autoreset disabled).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from gymnasium.vector import AutoresetMode

from envs.sizing_space import env_actions, env_keywords
from envs.targets import draw_targets
from envs.vector_env import SpiceVectorEnv
from sim.sizing.session import ProblemOptions
from train.checkpoint import from_named, to_named
from train.config import TrainConfig, config_from_dict, config_to_dict
from train.networks import gaussian_log_prob
from train.ppo import Transition, make_learner
from train.run_dir import RunDir

MAX_SPICE_ENVS = 16

# A policy's deterministic action: observations [B, obs] -> actions [B, n]
# in [-1, 1] (the Gaussian's mean).
PolicyMean = Callable[[np.ndarray], np.ndarray]


def spice_vector_env(
    options: ProblemOptions,
    n_envs: int,
    *,
    workers: int | None = None,
    max_steps: int | None = None,
    success_bonus: float | None = None,
) -> SpiceVectorEnv:
    """``n_envs`` SPICE episodes of a run's problem (``options``), reset by
    the caller (autoreset disabled), rewarded by the circuit's reward in
    every space; ``max_steps``: truncation (None: never)."""
    extra = {} if success_bonus is None else {"success_bonus": success_bonus}
    return SpiceVectorEnv(
        **env_keywords(options),
        num_envs=n_envs,
        autoreset_mode=AutoresetMode.DISABLED,
        n_workers=workers,
        max_steps=max_steps,
        reward="circuit",
        **extra,
    )


def run_spice_baseline(config: TrainConfig, resume: bool = False) -> str:
    """Train PPO on SPICE until ``sim_budget`` simulations are spent."""
    run = RunDir(config.run)
    if not resume:
        run.write_config(config_to_dict(config))
    envs = min(config.ppo.n_envs, MAX_SPICE_ENVS)
    env = spice_vector_env(
        config.options,
        envs,
        workers=config.workers,
        max_steps=config.episode_steps,
        success_bonus=config.ppo.success_bonus,
    )
    definition = env.definition
    space = config.options.space
    n_actions = env.single_action_space.shape[0]
    graphdef, new_params, tx, policy, learn = make_learner(
        config.ppo, definition.observation_size, n_actions
    )
    key = jax.random.key(config.seed)
    key, k_model = jax.random.split(key)
    params = new_params(k_model)
    opt_state = tx.init(params)
    act = jax.jit(lambda p, o, k: _act(policy, p, o, k))
    learn = jax.jit(learn)

    def draw(key, n):
        return np.asarray(draw_targets(jax.random.split(key, n), definition))

    sims, started, episodes, successes = 0, time.perf_counter(), 0, 0
    key, k_t = jax.random.split(key)
    targets = draw(k_t, envs)
    obs, _ = env.reset(options={"target": targets})
    sims += envs
    update = 0
    while sims + envs * config.ppo.n_steps <= config.sim_budget:
        batch = []
        for _ in range(config.ppo.n_steps):
            key, k_act, k_t = jax.random.split(key, 3)
            action, log_prob, value = (np.asarray(a) for a in act(params, obs, k_act))
            next_obs, reward, terminated, truncated, _ = env.step(
                env_actions(space, action)
            )
            sims += envs
            done = terminated | truncated
            next_value = np.asarray(policy(params, jnp.asarray(next_obs))[2])
            batch.append(
                Transition(
                    obs,
                    action,
                    log_prob,
                    value,
                    reward.astype(np.float32),
                    terminated,
                    truncated,
                    next_value,
                )
            )
            episodes += int(done.sum())
            successes += int(terminated.sum())
            if done.any():
                fresh = draw(k_t, envs)
                targets = np.where(done[:, None], fresh, targets)
                reset_obs, _ = env.reset(
                    options={"reset_mask": done, "target": targets}
                )
                next_obs = np.where(done[:, None], reset_obs, next_obs)
            obs = next_obs
        stacked = Transition(
            *(jnp.asarray(np.stack(x)) for x in zip(*batch, strict=True))
        )
        key, k_learn = jax.random.split(key)
        params, opt_state, losses = learn(params, opt_state, stacked, k_learn)
        update += 1
        metrics = {
            "spice_sims": sims,
            "episodes": episodes,
            "train_success": successes / max(episodes, 1),
            "reward": float(stacked.reward.mean()),
            "wall_seconds": time.perf_counter() - started,
        }
        run.log(update, metrics)
    run.save_checkpoint({"baseline_policy": to_named(params)})
    run.close()
    env.close()
    return (
        f"baseline done: {sims} SPICE simulations, {episodes} episodes, "
        f"success during training {successes / max(episodes, 1):.2f}"
    )


def _act(policy, params, obs, key):
    mean, log_std, value = policy(params, obs)
    action = mean + jnp.exp(log_std) * jax.random.normal(key, mean.shape)
    return action, gaussian_log_prob(action, mean, log_std), value


def evaluate_on_spice(
    policy: PolicyMean,
    env: SpiceVectorEnv,
    space: str,
    targets: np.ndarray,
    max_sims: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Held-out evaluation of a deterministic ``policy`` in ngspice: one
    episode per target ``[N, m]`` (``env`` has ``N`` sub-envs, autoreset
    disabled, ``space`` its run's space) from the default design, at most
    ``max_sims`` steps each.

    Returns ``met [N]`` and ``sims [N]`` (simulations until met, or
    ``max_sims``). A target met early holds its last design (served from the
    simulation store) while the others go on.
    """
    obs, _ = env.reset(options={"target": np.asarray(targets)})
    n = len(targets)
    met = np.zeros(n, bool)
    sims = np.full(n, max_sims)
    hold = env_actions(space, np.zeros((n, env.single_action_space.shape[0])))
    if hold.dtype.kind == "i":
        hold[:] = 1  # AutoCkt's "keep"
    for step in range(max_sims):
        active = np.flatnonzero(~met)
        if not len(active):
            break
        actions = hold.copy()
        actions[active] = env_actions(space, policy(obs[active]))
        obs, _, terminated, _, _ = env.step(actions)
        if hold.dtype.kind != "i":
            hold[active] = actions[active]
        done = active[terminated[active]]
        sims[done] = step + 1
        met[done] = True
    return met, sims


def evaluate_baseline(
    run: str, targets: np.ndarray, max_sims: int, workers: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Held-out evaluation of a baseline run (``evaluate_on_spice`` of its
    trained policy). Returns ``met [N]`` and ``sims [N]``."""
    directory = RunDir(run)
    config = config_from_dict(directory.read_config())
    env = spice_vector_env(config.options, len(targets), workers=workers)
    try:
        n_actions = env.single_action_space.shape[0]
        graphdef, new_params, _, policy, _ = make_learner(
            config.ppo, env.definition.observation_size, n_actions
        )
        params = from_named(
            jax.eval_shape(new_params, jax.random.key(0)),
            directory.load_checkpoint()["baseline_policy"],
            f"{directory.checkpoint_path}: baseline_policy",
        )

        def mean(obs: np.ndarray) -> np.ndarray:
            return np.asarray(policy(params, jnp.asarray(obs))[0])

        space = config.options.space
        return evaluate_on_spice(mean, env, space, targets, max_sims)
    finally:
        env.close()
