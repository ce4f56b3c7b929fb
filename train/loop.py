"""The surrogate-in-the-loop trainer (``python -m train --surrogate``).

Round after round: refit the circuit surrogate on every design simulated so
far (warm start), train PPO on the pure-JAX surrogate environment, then run
the policy on a batch of targets, simulate its proposals (and the designs the
ensemble is least sure about) in ngspice, and add them to the data. The run
stops when the SPICE budget is spent or verified success stops improving.
Every simulated design is appended to the run directory as it finishes, so
``--resume`` loses nothing that was verified.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from envs import definition as d
from envs.surrogate_env import EnvParams, SurrogateEnv, ensemble_predictor
from surrogate.circuit.dataset import (
    build_dataset_from_records,
    designs_from_actions,
    sobol_actions,
    surrogate_features,
)
from surrogate.circuit.model import predict
from surrogate.circuit.store import save_surrogate
from surrogate.circuit.train import FitConfig, fit_surrogate
from train.ppo import PPOConfig, make_train
from train.problem import Problem, load_problem
from train.propose import make_proposer, ranked_candidates
from train.run_dir import RunDir


@dataclass(frozen=True)
class TrainConfig:
    """Settings of a run; every field is a CLI flag (``--sim-budget`` ...)."""

    env: str = "jaxsizer/op2-sky130-v1"
    run: str = "runs/op2-sky130"
    seed: int = 0
    surrogate: bool = True  # False: PPO directly on SPICE (the baseline)
    sim_budget: int = 5000  # SPICE simulations, initial data included
    initial_samples: int = 1000  # Sobol designs simulated before the first fit
    max_rounds: int = 30
    patience: int = 5  # rounds without better verified success before stopping
    updates_per_round: int = 60  # PPO update segments per round
    verify_targets: int = 64  # targets whose proposals are simulated per round
    uncertain_designs: int = 32  # most uncertain designs simulated per round
    walk_steps: int = 8  # surrogate steps per proposal walk
    episode_steps: int = 8  # episode length in the surrogate environment
    workers: int | None = None  # ngspice workers (default: cores)
    all_figures: bool = False  # simulate every figure, not only the specs
    surrogate_hidden: int = 256
    surrogate_members: int = 5
    surrogate_max_epochs: int = 600
    ppo: PPOConfig = field(default_factory=PPOConfig)


def _policy_leaves(runner) -> list[np.ndarray]:
    leaves = []
    for leaf in jax.tree.leaves(runner):
        if jnp.issubdtype(leaf.dtype, jax.dtypes.prng_key):
            leaf = jax.random.key_data(leaf)
        leaves.append(np.asarray(leaf))
    return leaves


def _restore_leaves(template, leaves: list[np.ndarray]):
    restored = []
    for leaf, saved in zip(jax.tree.leaves(template), leaves, strict=True):
        if jnp.issubdtype(leaf.dtype, jax.dtypes.prng_key):
            restored.append(jax.random.wrap_key_data(jnp.asarray(saved)))
        else:
            restored.append(jnp.asarray(saved, dtype=leaf.dtype))
    return jax.tree.unflatten(jax.tree.structure(template), restored)


class SurrogateLoop:
    """One run of the loop; ``run()`` trains until the budget or patience ends."""

    def __init__(self, config: TrainConfig, resume: bool = False) -> None:
        self.config = config
        self.dir = RunDir(config.run)
        self.problem: Problem = load_problem(
            config.env, config.workers, all_figures=config.all_figures
        )
        self.definition = self.problem.definition
        self.records = self.dir.verified() if resume else []
        if not resume and self.dir.verified():
            raise FileExistsError(
                f"{config.run} already holds a run: use --resume or another --run"
            )
        self.env = SurrogateEnv(
            self.definition, self.problem.default_params, ensemble_predictor
        )
        self.init, self.update, self.graphdef = make_train(
            config.ppo,
            self.env,
            self.definition.observation_size,
            len(self.definition.scale.names),
        )
        self.propose = make_proposer(self.env, self.graphdef, config.walk_steps)
        self.fit_config = FitConfig(
            hidden=config.surrogate_hidden,
            members=config.surrogate_members,
            max_epochs=config.surrogate_max_epochs,
            seed=config.seed,
            # the settings the loop's results were measured with: squared
            # error, bootstrap members, 15 % for early stopping, no test split
            learning_rate=2e-3,
            final_learning_rate=1e-4,
            patience=40,
            loss="mse",
            bootstrap=True,
            validation=0.15,
            held_out=0.0,
        )
        self.round = 0
        self.best_success = -1.0
        self.stale = 0
        self.runner = None
        self.surrogate = None
        self._fitted_on = -1
        self.started = time.perf_counter()
        if resume:
            self._resume()

    # -- SPICE -------------------------------------------------------------------
    @property
    def sims_used(self) -> int:
        return len(self.records)

    def simulate(self, designs: list[dict], source: str) -> list[dict]:
        """Simulate within the budget; every result is recorded as it comes."""
        room = self.config.sim_budget - self.sims_used
        designs = designs[: max(room, 0)]
        if not designs:
            return []
        results = self.problem.simulator.simulate(designs, progress=True)
        out = []
        for result in results:
            record = {
                "round": self.round,
                "source": source,
                "params": result.params,
                "performance": result.performance,
                "status": result.status.value,
            }
            self.dir.add_verified(record)
            self.records.append(record)
            out.append(record)
        return out

    # -- surrogate -----------------------------------------------------------------
    def refit(self) -> dict:
        self._fitted_on = self.sims_used
        data = build_dataset_from_records(self.definition, self.records)
        warm = None if self.surrogate is None else self.surrogate["fitted"].weights
        fitted = fit_surrogate(
            data,
            self.fit_config,
            progress=False,
            weights=warm,
            figure_count=len(self.definition.figures),
        )
        self.surrogate = {
            "fitted": fitted,
            "params": {
                "weights": {k: jnp.asarray(v) for k, v in fitted.weights.items()},
                "mean": jnp.asarray(fitted.mean, jnp.float32),
                "std": jnp.asarray(fitted.std, jnp.float32),
                "log_mask": jnp.asarray(data.log_mask),
                "sign": jnp.asarray(data.sign, jnp.float32),
            },
            "data": data,
        }
        save_surrogate(
            self.dir.path / "surrogate",
            fitted,
            data,
            {
                "env": self.config.env,
                "circuit": self.definition.circuit,
                "technology": self.definition.technology,
                "corner": self.definition.corner,
                "circuit_fingerprint": self.problem.simulator.circuit.fingerprint,
                "hidden": self.fit_config.hidden,
                "members": self.fit_config.members,
            },
        )
        return {
            "surrogate_epochs": fitted.epochs,
            "surrogate_seconds": fitted.seconds,
            "data_designs": len(data.inputs),
        }

    def env_params(self) -> EnvParams:
        return EnvParams(self.surrogate["params"], self.config.episode_steps)

    def spread(self, sizings: np.ndarray) -> np.ndarray:
        """Ensemble spread of the spec figures (model units) per sizing [N]."""
        params = self.surrogate["params"]
        features = surrogate_features(
            jnp.asarray(sizings, jnp.float32), self.definition.scale, jnp
        )
        _, spread, _ = predict(
            params["weights"], params["mean"], params["std"], features
        )
        return np.asarray(spread)[:, self.definition.spec_index].sum(axis=1)

    # -- rounds ------------------------------------------------------------------
    def train_policy(self, key: jax.Array) -> dict:
        params = self.env_params()
        if self.runner is None:
            self.runner = self.init(key, params)
        metrics = []
        for _ in range(self.config.updates_per_round):
            self.runner, m = self.update(self.runner, params)
            metrics.append(m)
        last = {
            k: float(np.mean([float(m[k]) for m in metrics[-10:]])) for k in metrics[0]
        }
        return {f"ppo/{k}": v for k, v in last.items()}

    def verify(self, key: jax.Array) -> dict:
        """Simulate the policy's proposal for ``verify_targets`` fresh targets."""
        k_targets, k_walk = jax.random.split(key)
        targets = jax.vmap(self.env.sample_target)(
            jax.random.split(k_targets, self.config.verify_targets)
        )
        out = self.propose(self.runner.params, self.env_params(), targets, k_walk, 0.0)
        sizing, reward, met = (np.asarray(out[k]) for k in ("sizing", "reward", "met"))
        chosen = [
            ranked_candidates(sizing[i], reward[i], met[i], 1)[0]
            for i in range(len(targets))
        ]
        names = self.definition.scale.names
        designs = [dict(zip(names, map(float, s), strict=True)) for s in chosen]
        records = self.simulate(designs, "verify")
        targets = np.asarray(targets)[: len(records)]
        success, errors = [], []
        for record, target, s in zip(records, targets, chosen, strict=False):
            perf = np.asarray(
                [record["performance"].get(n, np.nan) for n in self.definition.specs]
            )
            success.append(
                bool(
                    d.terminated(
                        perf, target, self.definition.lower, point=self.definition.point
                    )
                )
            )
            errors.append(self._surrogate_error(s, perf))
        all_sizings = sizing.reshape(-1, sizing.shape[-1])
        ranking = np.argsort(-self.spread(all_sizings))
        uncertain = [
            dict(zip(names, map(float, all_sizings[i]), strict=True))
            for i in ranking[: self.config.uncertain_designs]
        ]
        self.simulate(uncertain, "uncertain")
        errors = (
            np.asarray(errors) if errors else np.zeros((0, len(self.definition.specs)))
        )
        metrics = {
            "verified_success": float(np.mean(success)) if success else 0.0,
            "verified_designs": len(records),
        }
        for k, name in enumerate(self.definition.specs):
            if len(errors):
                metrics[f"surrogate_error/{name}"] = float(np.nanmedian(errors[:, k]))
        return metrics

    def _surrogate_error(
        self, sizing: np.ndarray, performance: np.ndarray
    ) -> np.ndarray:
        """|prediction - SPICE| per spec (relative for logged figures)."""
        from surrogate.circuit.model import from_model_units

        params = self.surrogate["params"]
        features = surrogate_features(
            jnp.asarray(sizing[None], jnp.float32), self.definition.scale, jnp
        )
        y, _, _ = predict(params["weights"], params["mean"], params["std"], features)
        raw = np.asarray(from_model_units(y, params["log_mask"], params["sign"]))[0]
        predicted = raw[self.definition.spec_index]
        logged = self.definition.target_log
        return np.where(
            logged,
            np.abs(predicted / performance - 1.0),
            np.abs(predicted - performance),
        )

    def checkpoint(self) -> None:
        self.dir.save_checkpoint(
            {
                "round": self.round,
                "best_success": self.best_success,
                "stale": self.stale,
                "runner": {
                    str(i): leaf for i, leaf in enumerate(_policy_leaves(self.runner))
                },
                "surrogate": {
                    k: np.asarray(v)
                    for k, v in self.surrogate["fitted"].weights.items()
                },
            }
        )

    def _resume(self) -> None:
        state = self.dir.load_checkpoint()
        if state is None:
            return
        self.round = int(state["round"])
        self.best_success = float(state["best_success"])
        self.stale = int(state["stale"])
        self.refit()
        template = jax.eval_shape(
            self.init, jax.random.key(self.config.seed), self.env_params()
        )
        leaves = [state["runner"][str(i)] for i in range(len(state["runner"]))]
        self.runner = _restore_leaves(template, leaves)

    def run(self) -> dict:
        """Train until the budget is spent or success stops improving."""
        config = self.config
        key = jax.random.key(config.seed)
        if self.sims_used == 0:
            actions = sobol_actions(
                len(self.definition.scale.names),
                min(config.initial_samples, config.sim_budget),
                config.seed,
            )
            self.simulate(designs_from_actions(self.definition, actions), "initial")
        summary = self.dir.last_metrics()
        while (
            self.round < config.max_rounds
            and self.sims_used < config.sim_budget
            and self.stale < config.patience
        ):
            round_key = jax.random.fold_in(key, self.round)
            k_policy, k_verify = jax.random.split(round_key)
            metrics = {"round": self.round, **self.refit()}
            metrics.update(self.train_policy(k_policy))
            metrics.update(self.verify(k_verify))
            metrics["spice_sims"] = self.sims_used
            metrics["wall_seconds"] = time.perf_counter() - self.started
            self.round += 1
            if metrics["verified_success"] > self.best_success + 1e-9:
                self.best_success, self.stale = metrics["verified_success"], 0
            else:
                self.stale += 1
            self.checkpoint()
            self.dir.log(self.round, metrics)
            print(_one_line(metrics))
            summary = metrics
            if self.stale >= config.patience:
                break
        if self._fitted_on != self.sims_used:
            self.refit()  # the saved surrogate includes the last verified designs
        self.dir.close()
        return summary

    def close(self) -> None:
        self.problem.close()


def _one_line(metrics: dict) -> str:
    keys = (
        "round",
        "spice_sims",
        "verified_success",
        "ppo/reward",
        "ppo/success_rate",
        "wall_seconds",
    )
    return "  ".join(
        f"{k}={metrics[k]:.3g}"
        if isinstance(metrics[k], float)
        else f"{k}={metrics[k]}"
        for k in keys
        if k in metrics
    )


def config_from_dict(data: dict) -> TrainConfig:
    ppo = PPOConfig(**data.get("ppo", {}))
    return TrainConfig(**{**{k: v for k, v in data.items() if k != "ppo"}, "ppo": ppo})


def config_to_dict(config: TrainConfig) -> dict:
    return dataclasses.asdict(config)
