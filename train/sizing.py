"""A trained run, opened for sizing (``train.size``, ``train.eval``).

``TrainedSizer(run)`` is the run (``train.run.Run``) opened for sizing: the
problem (``config.json``), the surrogate (``surrogate/``), the designs the
run verified for training (``verified.jsonl``; held-out checks excluded)
and the policy (``checkpoint.msgpack``); it sizes targets with
``train.sizer.Sizer``. New simulations go to the run's own store.

``load_policy(run)`` gives the trained policy network alone, built from the
run's ``config.json`` and filled from the checkpoint's named leaves, in any
fresh process::

    model, config = load_policy("runs/twostage")
    mean, log_std, value = model(observations)  # [B, n_obs] -> [B, n_act] ...
"""

from __future__ import annotations

import json
from pathlib import Path

import jax
import numpy as np
from flax import nnx

from envs.sizing_space import space_session
from sim.errors import UserInputError
from sim.sizing.session import open_session
from sim.storage.store import SimulationStore
from surrogate.circuit.store import load_surrogate_arrays
from train.checkpoint import (
    from_named,
    from_positional,
    has_policy,
    positional_leaves,
)
from train.config import TrainConfig
from train.policy import Policy, policy_env
from train.ppo import make_learner
from train.run import Run, open_existing, read_run_config
from train.run_dir import RunDir
from train.sizer import SizingResult


class TrainedSizer(Run):
    """A run opened to size; ``size(targets, max_sims)`` as
    ``train.sizer.Sizer`` (``sizer``), the policy restored from the run's
    checkpoint (``policy``, None when it trained none)."""

    def __init__(self, run: str, workers: int | None = None, seed: int = 0) -> None:
        directory, config = open_existing(run)
        records = directory.verified()
        super().__init__(config, directory, records, workers)
        self.arrays = load_surrogate_arrays(directory.path / "surrogate")
        self.training_sims = len(records)
        self.restore_policy(directory.load_checkpoint())
        self.sizer = self.make_sizer(seed)

    def trained_policy(self) -> Policy | None:
        """The run's policy restored from its checkpoint, or None when the
        run trained none (``--policy-updates 0``)."""
        return self.policy

    def size(
        self,
        targets: np.ndarray,
        max_sims: int,
        on_simulated=None,
        minimise: str | None = None,
    ) -> list[SizingResult]:
        results = self.sizer.size(targets, max_sims, on_simulated, minimise)
        # an electrical run's evaluations carry gm/Id etc. beside the design
        names = set(self.session.simulator.circuit.parameter_names)
        for one in [*results, *(r.first_met for r in results if r.first_met)]:
            one.params = {k: v for k, v in one.params.items() if k in names}
        return results

    def held_out_curve(self) -> dict:
        path = self.dir.path / "held_out.json"
        return json.loads(path.read_text()) if path.is_file() else {}


def load_policy(run: str | Path) -> tuple[nnx.Module, TrainConfig]:
    """The policy network of a run and the run's config, from the run
    directory alone.

    The network is built from ``config.json`` (the problem's observation and
    action sizes, ``ppo.hidden``) exactly as training builds it, and its
    parameters are read from ``checkpoint.msgpack`` by name
    (``policy/actor/l1/kernel`` ...; a ``--spice-ppo`` run's
    ``baseline_policy`` too). ``model(obs [B, n_obs])`` returns the action
    mean ``[B, n_act]`` (in [-1, 1] after clipping; the deterministic
    action), the log std ``[n_act]`` and the value ``[B]``. A run with no
    policy, or one whose checkpoint does not fit its config, is a
    ``UserInputError`` of one line.
    """
    directory = RunDir.existing(run)
    config = read_run_config(directory)
    state = directory.load_checkpoint()
    where = str(directory.checkpoint_path)
    saved = None if state is None else state.get("policy", state.get("baseline_policy"))
    if saved is None and not has_policy(state):
        raise UserInputError(
            f"{directory.path} holds no trained policy (not trained yet, or "
            "trained with --policy-updates 0)"
        )
    store = SimulationStore(directory.path / "simulations.sqlite")
    try:
        session = space_session(open_session(config.options, store=store))
        try:
            env = policy_env(session)
            n_obs, n_act = env.observation_size, env.action_size
        finally:
            session.close()
    finally:
        store.close()
    graphdef, new_params, *_ = make_learner(config.ppo, n_obs, n_act)
    template = jax.eval_shape(new_params, jax.random.key(0))
    if saved is not None:
        params = from_named(template, saved, f"{where}: policy")
    else:  # format 1: the policy's arrays come first among runner/0 ... N
        count = len(jax.tree.leaves(template))
        params = from_positional(template, positional_leaves(state)[:count], where)
    return nnx.merge(graphdef, params), config
