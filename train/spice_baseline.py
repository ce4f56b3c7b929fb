"""The baseline: the same PPO trained directly on ngspice (AutoCkt-style).

Every environment step is a SPICE simulation; a batch of ``n_envs``
environments steps with one call to the worker pool. Observation, reward,
termination and targets are the functions of ``envs.definition``
(``step_outcome``), as in the surrogate loop, so the two are compared at equal
SPICE budget. Actions become designs through the run's space (``--space``,
``envs.sizing_space.PolicyActions``): geometric, electrical (gm/Id through the
device networks) or autockt (AutoCkt's steps on its grid).
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np

from envs import definition as d
from envs.sizing_space import PolicyActions
from envs.targets import draw_targets
from sim.sizing.session import open_session
from train.checkpoint import from_named, to_named
from train.config import TrainConfig, config_from_dict, config_to_dict
from train.ppo import Transition, make_learner
from train.run_dir import RunDir

MAX_SPICE_ENVS = 16


def _observe(session, records, targets):
    definition = session.problem
    figures = np.stack([definition.figure_vector(r.performance) for r in records])
    operating = np.stack([definition.op_vector(r.performance) for r in records])
    obs, reward, done, _ = d.step_outcome(definition, figures, targets, operating)
    return obs, reward.astype(np.float32), done


def run_spice_baseline(config: TrainConfig, resume: bool = False) -> str:
    """Train PPO on SPICE until ``sim_budget`` simulations are spent."""
    run = RunDir(config.run)
    if not resume:
        run.write_config(config_to_dict(config))
    problem = open_session(config.options, workers=config.workers)
    definition = problem.problem
    mapper = _policy_actions(problem)
    envs = min(config.ppo.n_envs, MAX_SPICE_ENVS)
    graphdef, new_params, tx, policy, learn = make_learner(
        config.ppo, definition.observation_size, mapper.size
    )
    key = jax.random.key(config.seed)
    key, k_model = jax.random.split(key)
    params = new_params(k_model)
    opt_state = tx.init(params)
    act = jax.jit(lambda p, o, k: _act(policy, p, o, k))
    learn = jax.jit(learn)
    default, initial_state = mapper.start()
    states = np.stack([initial_state] * envs)

    def draw(key, n):
        return np.asarray(draw_targets(jax.random.split(key, n), definition))

    sims, started, episodes, successes = 0, time.perf_counter(), 0, 0
    key, k_t = jax.random.split(key)
    targets = draw(k_t, envs)
    start = problem.simulator.simulate([default] * envs)
    sims += envs
    obs, _, _ = _observe(problem, start, targets)
    steps = np.zeros(envs, int)
    update = 0
    while sims + envs * config.ppo.n_steps <= config.sim_budget:
        batch = []
        for _ in range(config.ppo.n_steps):
            key, k_act, k_t = jax.random.split(key, 3)
            action, log_prob, value = (np.asarray(a) for a in act(params, obs, k_act))
            designs, states = mapper.designs(action, states)
            records = problem.simulator.simulate(designs)
            sims += envs
            next_obs, reward, terminated = _observe(problem, records, targets)
            steps += 1
            truncated = ~terminated & (steps >= config.episode_steps)
            done = terminated | truncated
            next_value = np.asarray(policy(params, jnp.asarray(next_obs))[2])
            batch.append(
                Transition(
                    obs,
                    action,
                    log_prob,
                    value,
                    reward + config.ppo.success_bonus * terminated,
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
                reset_obs, _, _ = _observe(problem, start, targets)
                next_obs = np.where(done[:, None], reset_obs, next_obs)
                steps = np.where(done, 0, steps)
                states = np.where(done[:, None], initial_state, states)
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
    problem.close()
    return (
        f"baseline done: {sims} SPICE simulations, {episodes} episodes, "
        f"success during training {successes / max(episodes, 1):.2f}"
    )


def _policy_actions(session) -> PolicyActions:
    """The policy's actions as designs in the run's space (``--space``)."""
    simulator = session.simulator
    return PolicyActions(session.options.space, simulator.circuit, simulator.technology)


def _act(policy, params, obs, key):
    mean, log_std, value = policy(params, obs)
    action = mean + jnp.exp(log_std) * jax.random.normal(key, mean.shape)
    from train.networks import gaussian_log_prob

    return action, gaussian_log_prob(action, mean, log_std), value


def evaluate_baseline(
    run: str, targets: np.ndarray, max_sims: int, workers: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Held-out evaluation of a baseline run: the deterministic policy stepped in
    ngspice from the default design, at most ``max_sims`` steps per target.

    Returns ``met [N]`` and ``sims [N]`` (simulations until met, or max_sims).
    """
    directory = RunDir(run)
    config = config_from_dict(directory.read_config())
    problem = open_session(config.options, workers=workers)
    definition = problem.problem
    mapper = _policy_actions(problem)
    graphdef, new_params, _, policy, _ = make_learner(
        config.ppo, definition.observation_size, mapper.size
    )
    params = from_named(
        jax.eval_shape(new_params, jax.random.key(0)),
        directory.load_checkpoint()["baseline_policy"],
        f"{directory.checkpoint_path}: baseline_policy",
    )
    default, initial_state = mapper.start()
    states = np.stack([initial_state] * len(targets))
    start = problem.simulator.simulate([default])[0]
    obs, _, _ = _observe(problem, [start] * len(targets), targets)
    met = np.zeros(len(targets), bool)
    sims = np.full(len(targets), max_sims)
    for step in range(max_sims):
        active = np.flatnonzero(~met)
        if not len(active):
            break
        mean = np.asarray(policy(params, jnp.asarray(obs[active]))[0])
        designs, states[active] = mapper.designs(mean, states[active])
        records = problem.simulator.simulate(designs)
        new_obs, _, done = _observe(problem, records, targets[active])
        obs[active] = new_obs
        sims[active[done]] = step + 1
        met[active[done]] = True
    problem.close()
    return met, sims
