"""The trainer and the sizer: PPO on the pure-JAX surrogate env, verified in ngspice.

- ``train.run``: a run directory opened once (config, session, store,
  verified designs as arrays, surrogate, policy) for the trainer and the
  sizer alike;
- ``train.loop``: the box trainer behind ``python -m train`` (Sobol designs,
  then rounds of surrogate refit, frontier search and PPO on the surrogate
  env, stopping on held-out success over the circuit's declared box); its
  phases are ``train.rounds``, its stop rules ``train.progress``;
- ``train.ppo`` (with ``networks``, ``gae``): PPO in optax, one jitted update
  segment over vmapped ``envs.surrogate_env.SurrogateEnv``s;
- ``train.sizer``: sizing a target with what a run learned, every answer
  simulated; ``train.sizing`` opens a run for it, ``python -m train.size``
  sizes one target and ``python -m train.eval`` measures success on many
  (``train.evaluate``, also the trainer's held-out measure);
- ``train.spice_baseline``: the same PPO directly on ngspice
  (``python -m train --spice-ppo``), the baseline at equal SPICE budget;
- ``train.run_dir``: a run's directory (config, logs, checkpoints);
  ``train.checkpoint``: checkpoints with named leaves
  (``policy/actor/l1/kernel``), ``train.sizing.load_policy(run)`` restores
  the policy from a run directory alone.
"""
