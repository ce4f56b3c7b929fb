"""A training run's settings: ``TrainConfig`` and its ``config.json`` form.

Every field of ``TrainConfig`` is a flag of ``python -m train``
(``--sim-budget`` ...; the PPO settings as ``--ppo-*``); a run directory's
``config.json`` is ``config_to_dict`` of it and ``config_from_dict`` reads it
back (unknown keys of an older or newer run are ignored).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from sim.engine.backend import BackendConfig
from sim.sizing.session import ProblemOptions
from surrogate.circuit.train import FitConfig
from train.ppo import PPOConfig


@dataclass(frozen=True)
class TrainConfig:
    """Settings of a run; every field is a CLI flag (``--sim-budget`` ...)."""

    problem: dict = field(default_factory=dict)  # sim.sizing.session.ProblemOptions
    backend: dict = field(default_factory=dict)  # sim.engine.backend.BackendConfig
    run: str = "runs/default"
    seed: int = 0
    targets: str | None = None  # a target file standing in for the box
    sim_budget: int = 10000  # every SPICE simulation of the run
    initial_samples: int = 1000  # Sobol designs simulated first
    round_targets: int = 256  # box targets drawn per round
    round_sims: int = 160  # frontier simulations per round at most
    held_out: int = 100  # held-out box targets (fixed, own seed)
    held_out_seed: int = 7919
    eval_every: int = 2  # rounds between held-out evaluations
    goal: float = 0.97  # held-out success that ends training
    held_out_patience: int = 4  # evaluations without improvement
    ceiling: float = 0.0  # the box's feasibility ceiling (0: the box's facts
    # beside the circuit's YAML, train.ceiling, else unknown: no stop on patience)
    strategy_sims: int = 160  # sims per round of a stall strategy at most
    probe_targets: int = 2000  # box targets that score the strategies
    max_rounds: int = 100
    policy_updates: int = 20  # PPO update segments per round (0: no policy)
    episode_steps: int = 8
    walk_steps: int = 8  # policy steps per proposal walk
    table_size: int = 1024  # curriculum targets given to the policy
    workers: int | None = None
    surrogate_hidden: int = 256
    surrogate_members: int = 5
    surrogate_max_epochs: int = 600
    ppo: PPOConfig = field(default_factory=PPOConfig)

    @property
    def options(self) -> ProblemOptions:
        return ProblemOptions.from_json(self.problem)

    @property
    def backend_config(self) -> BackendConfig:
        """Where the run simulates (the local pool of ``workers`` by default)."""
        return BackendConfig(**{"workers": self.workers, **self.backend})


def config_from_dict(data: dict) -> TrainConfig:
    """A ``TrainConfig`` from ``config.json``'s object (unknown keys dropped)."""
    ppo = PPOConfig(**data.get("ppo", {}))
    known = {f.name for f in dataclasses.fields(TrainConfig)} - {"ppo"}
    return TrainConfig(**{k: v for k, v in data.items() if k in known}, ppo=ppo)


def config_to_dict(config: TrainConfig) -> dict:
    """``config`` as the JSON object of ``config.json``."""
    return dataclasses.asdict(config)


def fit_config(config: TrainConfig) -> FitConfig:
    """The surrogate fit the loop's results were measured with: squared
    error, bootstrap members, 15 % for early stopping, no test split."""
    return FitConfig(
        hidden=config.surrogate_hidden,
        members=config.surrogate_members,
        max_epochs=config.surrogate_max_epochs,
        seed=config.seed,
        learning_rate=2e-3,
        final_learning_rate=1e-4,
        patience=40,
        loss="mse",
        bootstrap=True,
        validation=0.15,
        held_out=0.0,
    )
