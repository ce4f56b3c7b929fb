"""The box trainer (``python -m train``): meet targets drawn from the circuit's
declared box with few SPICE simulations.

1. Sobol designs over the parameter space, simulated (``initial``).
2. Rounds, each: refit the circuit surrogate on every training design (warm
   start); train the policy (PPO on the pure-JAX surrogate env) on box targets
   mixed with a curriculum table of targets still unmet and of hindsight
   targets (every verified design relabelled as a target it solves); draw
   fresh training targets from the box, and for those no verified design
   meets yet, search the surrogate (``train.sizer``) and simulate the best
   design per target (``frontier``): the data grows where the box is not yet
   covered, outward towards its hard end.
3. Every ``eval_every`` rounds, the sizer (one simulation per target) on a
   fixed held-out set drawn from the box with its own seed (``held_out``;
   these simulations are counted but never become training data, so the
   held-out set stays held out). Training stops when held-out success reaches
   ``goal`` (and, when the box's feasibility ceiling is known, is within
   ``CEILING_GAP`` of it), when it has not improved for ``held_out_patience``
   evaluations within ``CEILING_GAP`` of the ceiling, or when the SPICE
   budget is spent: below the ceiling (or with it unknown) a stall never
   stops a run.
4. After the first held-out check that does not improve, every round also
   runs one strategy of ``train.explore`` (a trust region around the closest
   verified designs, per-spec extremes, NSGA-II on the surrogate) with
   ``strategy_sims`` simulations, chosen by the probe targets (box draws of
   the run's seed, never held-out ones) each has newly met per simulation;
   ``metrics.jsonl`` says per round which strategy ran, its sims and what it
   found, ``held_out.json`` the totals per strategy.

Every simulation (initial, frontier, held-out) counts against
``sim_budget`` and is appended to ``verified.jsonl`` as its batch finishes;
the run also writes ``held_out.json`` and ``held_out.png`` (held-out success
vs total SPICE simulations).
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import jax
import numpy as np

from envs.sizing_space import space_session
from sim.engine.backend import BackendConfig
from sim.sizing.session import ProblemOptions, open_session
from sim.sizing.simulator import Evaluation
from sim.sizing.target_text import load_targets
from sim.storage.store import SimulationStore
from surrogate.circuit.dataset import (
    build_dataset_from_records,
    designs_from_actions,
    sobol_actions,
)
from surrogate.circuit.model import surrogate_arrays
from surrogate.circuit.search import make_search
from surrogate.circuit.store import load_surrogate_arrays, save_surrogate
from surrogate.circuit.train import FitConfig, fit_surrogate
from train.checkpoint import (
    FORMAT,
    has_policy,
    runner_to_named,
)
from train.explore import Explorer
from train.policy import Policy, policy_env  # noqa: F401 (re-exported)
from train.ppo import PPOConfig
from train.run_dir import RunDir
from train.sizer import Sizer, SizerConfig, VerifiedDesigns, hindsight_targets

HELD_OUT = "held_out"
CEILING_GAP = 0.01  # a stall this close to the box's ceiling may stop a run
CEILING_FILE = "ceiling.json"  # beside a circuit's YAML: {"ceiling": fraction}


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
    ceiling: float = 0.0  # the box's feasibility ceiling (0: ceiling.json
    # beside the circuit's YAML, else unknown: no stop on patience)
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
    ppo = PPOConfig(**data.get("ppo", {}))
    known = {f.name for f in dataclasses.fields(TrainConfig)} - {"ppo"}
    return TrainConfig(**{k: v for k, v in data.items() if k in known}, ppo=ppo)


def config_to_dict(config: TrainConfig) -> dict:
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


def box_ceiling(config: TrainConfig) -> float | None:
    """The box's feasibility ceiling (fraction of box targets any design
    meets): ``--ceiling``, else ``ceiling.json`` (``{"ceiling": x}``) beside
    the circuit's YAML file, else None (unknown)."""
    if config.ceiling > 0:
        return float(config.ceiling)
    circuit = config.options.circuit
    if not str(circuit).endswith((".yaml", ".yml")):
        return None
    path = Path(circuit).parent / CEILING_FILE
    if not path.is_file():
        return None
    try:
        value = json.loads(path.read_text()).get("ceiling")
    except (OSError, ValueError, AttributeError):
        return None
    if isinstance(value, (int, float)) and 0.0 < value <= 1.0:
        return float(value)
    return None


class BoxLoop:
    """One training run; ``run()`` trains until the goal, patience or budget."""

    def __init__(self, config: TrainConfig, resume: bool = False) -> None:
        self.config = config
        self.dir = RunDir(config.run)
        self.dir.lock()  # one writer per run directory
        records = self.dir.verified() if resume else []
        if not resume and self.dir.verified():
            raise FileExistsError(
                f"{config.run} already holds a run: use --resume or another --run"
            )
        self.store = SimulationStore(self.dir.path / "simulations.sqlite")
        backend = config.backend_config
        self.session = space_session(  # the policy's space (--space)
            open_session(config.options, store=self.store, backend=backend)
        )
        self.problem = self.session.problem
        if config.backend.get("kind", "local") != "remote":
            self.dir.check_fingerprint(self.session.fingerprint)
        self.train_targets, self.held_out = self._target_sets()
        self.records: list[dict] = []
        self.verified = VerifiedDesigns(self.problem)
        for record in records:
            self._keep(record)
        self.search = make_search(self.problem)
        self.policy = Policy(self.session, config) if config.policy_updates else None
        self.fit = fit_config(config)
        self.fitted = None
        self.arrays = None
        self.round = 0
        self.curve: list[dict] = []
        self.best = -1.0
        self.stale = 0
        self.stalled = False  # held-out stopped improving below the ceiling
        self.ceiling = box_ceiling(config)
        self.explorer = Explorer(self.problem, config.seed)
        self.probe = self.problem.box.sample(
            config.probe_targets, config.seed * 7 + 104729
        )
        self.started = time.perf_counter()
        if resume:
            self._resume()

    # -- targets -----------------------------------------------------------------
    def _target_sets(self) -> tuple[np.ndarray | None, np.ndarray]:
        """Training targets (None: fresh draws from the box each round) and
        the fixed held-out targets [H, m].

        A target file's ``train`` (or ``targets``) list is trained on and its
        ``held_out`` list is the held-out set (at most ``held_out`` of them);
        a file without a held-out list has ``held_out`` of its targets (a
        fifth at most) set aside at random. A held-out list is never trained
        on (``sim.sizing.target_text.load_targets``).
        """
        config, box = self.config, self.problem.box
        if config.targets is None:
            return None, box.sample(config.held_out, config.held_out_seed)
        table = load_targets(config.targets, box, "train")
        held = load_targets(config.targets, box, "held_out")
        if len(held):
            return table, held[: config.held_out]
        order = np.random.default_rng(config.held_out_seed).permutation(len(table))
        n_held = min(config.held_out, max(1, len(table) // 5))
        return table[order[n_held:]], table[order[:n_held]]

    def round_targets(self) -> np.ndarray:
        config = self.config
        rng = np.random.default_rng([config.seed, self.round])
        if self.train_targets is None or len(self.train_targets) == 0:
            return self.problem.box.sample(
                config.round_targets, int(rng.integers(2**31))
            )
        rows = rng.integers(0, len(self.train_targets), config.round_targets)
        return self.train_targets[rows]

    # -- SPICE -------------------------------------------------------------------
    @property
    def sims_used(self) -> int:
        return len(self.records)

    @property
    def room(self) -> int:
        return max(self.config.sim_budget - self.sims_used, 0)

    def _keep(self, record: dict) -> None:
        self.records.append(record)
        if record["purpose"] != HELD_OUT:
            self.verified.add_record(record)

    def record(self, evaluations: list[Evaluation], purpose: str) -> None:
        """Append each evaluation to the run (``verified.jsonl``) and keep it."""
        for e in evaluations:
            record = {
                "round": self.round,
                "purpose": purpose,
                "params": e.params,
                "performance": e.performance,
                "status": e.status.value,
            }
            self.dir.add_verified(record)
            self._keep(record)

    def simulate(self, designs: list[dict], purpose: str) -> list[Evaluation]:
        designs = designs[: self.room]
        if not designs:
            return []
        evaluations = self.session.simulator.simulate(designs, progress=True)
        self.record(evaluations, purpose)
        return evaluations

    # -- surrogate -----------------------------------------------------------------
    def training_records(self) -> list[dict]:
        return [r for r in self.records if r["purpose"] != HELD_OUT]

    def refit(self) -> dict:
        data = build_dataset_from_records(self.problem, self.training_records())
        warm = None if self.fitted is None else self.fitted.weights
        fitted = fit_surrogate(
            data,
            self.fit,
            progress=False,
            weights=warm,
            figure_count=len(self.problem.figures),
        )
        self.fitted = fitted
        self.arrays = surrogate_arrays(
            fitted.weights,
            fitted.mean,
            fitted.std,
            data.log_mask,
            data.sign,
            fitted.spread_scale,
        )
        save_surrogate(
            self.dir.path / "surrogate",
            fitted,
            data,
            {
                "circuit": self.problem.circuit,
                "technology": self.problem.technology,
                "corner": self.problem.corner,
                "circuit_fingerprint": self.session.simulator.circuit.fingerprint,
                "hidden": self.fit.hidden,
                "members": self.fit.members,
            },
        )
        return {"surrogate_epochs": fitted.epochs, "data_designs": len(data.inputs)}

    def sizer(self) -> Sizer:
        proposer = None
        if self.policy is not None and self.policy.runner is not None:
            proposer = self.policy.proposer(self.arrays, self.config.seed)
        return Sizer(
            self.problem,
            self.session.simulator,
            self.arrays,
            self.verified,
            SizerConfig(seed=self.config.seed + self.round),
            proposer,
            self.search,
        )

    # -- a round -------------------------------------------------------------------
    def curriculum(self, unmet: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """``table_size`` targets for the policy: unmet box targets and
        hindsight targets inside the box, resampled to a fixed size."""
        box = self.problem.box
        solved = hindsight_targets(self.verified)
        inside = np.all(
            (box.difficulty(solved) >= 0) & (box.difficulty(solved) <= 1), axis=1
        )
        pool = np.concatenate([unmet, solved[inside]])
        if len(pool) == 0:
            pool = box.sample(self.config.table_size, int(rng.integers(2**31)))
        rows = rng.integers(0, len(pool), self.config.table_size)
        return pool[rows]

    def probe_met(self) -> int:
        """How many of the run's probe targets (box draws of its own seed,
        never held-out ones) a verified design meets."""
        return int(np.sum(self.verified.meeting(self.probe) >= 0))

    def frontier(self) -> tuple[dict, np.ndarray]:
        """Designs for this round's box targets no verified design meets."""
        targets = self.round_targets()
        unmet = targets[self.verified.meeting(targets) < 0]
        reserve = self.config.held_out  # keep room for a final held-out check
        count = min(len(unmet), self.config.round_sims, max(self.room - reserve, 0))
        sims_before, met_before = self.sims_used, self.probe_met()
        if count:
            self.sizer().size(unmet[:count], 1, lambda e: self.record(e, "frontier"))
        sims, new_met = self.sims_used - sims_before, self.probe_met() - met_before
        self.explorer.record("frontier", sims, new_met)
        return {
            "train_unmet": float(len(unmet) / len(targets)),
            "frontier_sims": sims,
            "frontier_new_met": new_met,
        }, unmet

    def escalate(self, unmet: np.ndarray, rng: np.random.Generator) -> dict:
        """After a stall: one strategy of ``train.explore`` at the targets
        still unmet (this round's and the probe's), verified in ngspice;
        what it spent and the probe targets it newly met."""
        config = self.config
        name = self.explorer.choose()
        count = min(config.strategy_sims, max(self.room - config.held_out, 0))
        probe_unmet = self.probe[self.verified.meeting(self.probe) < 0]
        pool = np.concatenate([unmet, probe_unmet])
        sims_before, met_before = self.sims_used, self.probe_met()
        length = self.explorer.length
        sizings = self.explorer.propose(
            name, self.arrays, self.verified, pool, count, rng
        )
        self.simulate([self.problem.design(s) for s in sizings], name)
        sims, new_met = self.sims_used - sims_before, self.probe_met() - met_before
        self.explorer.record(name, sims, new_met)
        out = {"strategy": name, "strategy_sims": sims, "strategy_new_met": new_met}
        if name == "trust":
            out["trust_length"] = length
        return out

    def evaluate_held_out(self) -> dict:
        """Held-out success: the sizer with one simulation per target."""
        count = min(len(self.held_out), self.room)
        results = self.sizer().size(
            self.held_out[:count], 1, lambda e: self.record(e, HELD_OUT)
        )
        met = np.asarray([r.met for r in results])
        success = float(met.mean()) if len(met) else 0.0
        point = {
            "rounds": self.round,
            "spice_sims": self.sims_used,
            "held_out_success": success,
            "held_out_targets": int(len(met)),
            "met_by_verified": int(
                sum(r.source == "verified" and r.met for r in results)
            ),
            "wall_seconds": time.perf_counter() - self.started,
        }
        self.curve.append(point)
        return point

    def run(self) -> dict:
        config = self.config
        key = jax.random.key(config.seed)
        if self.curve and self._finished():  # a resumed run that had ended
            self.write_curve()
            self.dir.close()
            return {
                **self.curve[-1],
                "spice_sims": self.sims_used,
                "curve": self.curve,
                "stopped_by": self.stop_reason() + " (already: nothing new run)",
            }
        n = min(config.initial_samples, config.sim_budget)
        done = sum(r["purpose"] == "initial" for r in self.records)
        if self.round == 0 and done < n:  # the same Sobol designs, in order;
            actions = sobol_actions(len(self.problem.scale.names), n, config.seed)
            designs = designs_from_actions(self.problem, actions)[done:]
            self.simulate(designs, "initial")  # a killed batch's are in the store
        last = {}
        while self.round < config.max_rounds and self.room > 0:
            rng = np.random.default_rng([config.seed, 1, self.round])
            metrics = {"round": self.round, **self.refit()}
            frontier, unmet = self.frontier()
            metrics.update(frontier)
            if self.stalled and self.room > config.held_out:
                metrics.update(self.escalate(unmet, rng))
            if self.policy is not None:
                table = self.curriculum(unmet, rng)
                params = self.policy.params(self.arrays, table)
                metrics.update(
                    self.policy.train(
                        jax.random.fold_in(key, self.round),
                        params,
                        config.policy_updates,
                    )
                )
            self.round += 1
            if self.round % config.eval_every == 0 or self.room <= config.held_out:
                point = self.evaluate_held_out()
                metrics.update(point)
                if point["held_out_success"] > self.best + 1e-9:
                    self.best, self.stale = point["held_out_success"], 0
                else:
                    self.stale += 1
                    self.stalled = True  # from now on, a strategy per round
            metrics["probe_met"] = self.probe_met() / len(self.probe)
            metrics["spice_sims"] = self.sims_used
            metrics["wall_seconds"] = time.perf_counter() - self.started
            self.checkpoint()
            self.dir.log(self.round, metrics)
            print(_one_line(metrics), flush=True)
            last = metrics
            if self.finished():
                break
        stale_curve = not self.curve or self.curve[-1]["spice_sims"] != self.sims_used
        if stale_curve and self.room > 0:
            self.refit()
            last.update(self.evaluate_held_out())
        self.write_curve()
        self.checkpoint()
        self.dir.close()
        return {
            **last,
            "spice_sims": self.sims_used,
            "curve": self.curve,
            "stopped_by": self.stop_reason(),
        }

    def near_ceiling(self, success: float) -> bool:
        """Whether ``success`` is within ``CEILING_GAP`` of the box's
        ceiling (False when the ceiling is unknown)."""
        return self.ceiling is not None and success >= self.ceiling - CEILING_GAP

    def finished(self) -> bool:
        """Stop: held-out success reached the goal (and, when the box's
        ceiling is known, is within ``CEILING_GAP`` of it), or it stalled
        for ``held_out_patience`` checks within ``CEILING_GAP`` of the
        ceiling. Below the ceiling a stall never stops the run: it changes
        strategy (``escalate``) until the budget is spent."""
        if not self.curve:
            return False
        success = self.curve[-1]["held_out_success"]
        goal = success >= self.config.goal and (
            self.ceiling is None or self.near_ceiling(success)
        )
        stale = self.stale >= self.config.held_out_patience and self.near_ceiling(
            self.best
        )
        return goal or stale

    def _finished(self) -> bool:
        """Whether ``run`` has nothing left to do: a stop rule holds
        (``finished``), the budget is spent or ``--max-rounds`` reached."""
        return self.finished() or self.room == 0 or self.round >= self.config.max_rounds

    def stop_reason(self) -> str:
        """Why training ended, in words."""
        config = self.config
        ceiling = "unknown" if self.ceiling is None else f"{self.ceiling:.1%}"
        success = self.curve[-1]["held_out_success"] if self.curve else 0.0
        if self.finished() and success >= config.goal:
            return (
                f"held-out success reached the goal {config.goal:.0%} "
                f"(box ceiling {ceiling})"
            )
        if self.finished():
            return (
                f"held-out success did not improve for {self.stale} checks "
                f"within {CEILING_GAP:.0%} of the box ceiling {ceiling}"
            )
        if self.room == 0:
            return f"the SPICE budget of {config.sim_budget} was spent"
        return f"--max-rounds {config.max_rounds} reached"

    # -- files ---------------------------------------------------------------------
    def checkpoint(self) -> None:
        """Write ``checkpoint.msgpack``: the loop's state and the policy,
        optimiser and rollout state under named keys (``train.checkpoint``)."""
        state = {
            "format": FORMAT,
            "round": self.round,
            "best": self.best,
            "stale": self.stale,
            "stalled": int(self.stalled),
            "curve": json.dumps(self.curve),
        }
        if self.policy is not None and self.policy.runner is not None:
            state.update(runner_to_named(self.policy.runner))
        self.dir.save_checkpoint(state)

    def _resume(self) -> None:
        state = self.dir.load_checkpoint()
        if state is None:
            return
        self.round = int(state["round"])
        self.best = float(state["best"])
        self.stale = int(state["stale"])
        self.stalled = bool(int(state.get("stalled", 0)))
        self.curve = json.loads(state["curve"])
        if self.curve and self._finished() and not self.dir.surrogate_problem():
            # run() trains nothing: the saved surrogate, no refit
            self.arrays = load_surrogate_arrays(self.dir.path / "surrogate")
        else:
            self.refit()
        if self.policy is not None and has_policy(state):
            self.policy.restore(
                jax.random.key(self.config.seed),
                self.arrays,
                state,
                str(self.dir.checkpoint_path),
            )

    def write_curve(self) -> None:
        """``held_out.json`` and ``held_out.png``: held-out success vs total
        SPICE simulations."""
        document = {
            "circuit": self.problem.circuit,
            "technology": self.problem.technology,
            "box": self.problem.box.to_json(),
            "held_out_targets": int(len(self.held_out)),
            "held_out_seed": self.config.held_out_seed,
            "total_spice_sims": self.sims_used,
            "sims_by_purpose": _count_by_purpose(self.records),
            "ceiling": self.ceiling,
            "strategies": self.explorer.summary(),
            "probe_met": self.probe_met() / len(self.probe),
            "curve": self.curve,
        }
        path = self.dir.path / "held_out.json"
        path.write_text(json.dumps(document, indent=1) + "\n")
        plot_curve(self.curve, self.dir.path / "held_out.png", self.problem.circuit)

    def close(self) -> None:
        self.session.close()
        self.store.close()
        self.dir.unlock()


def _count_by_purpose(records: list[dict]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in records:
        counts[r["purpose"]] = counts.get(r["purpose"], 0) + 1
    return counts


def plot_curve(curve: list[dict], path, title: str) -> None:
    """Held-out success (%) vs total SPICE simulations, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.2), dpi=120)
    ax.plot(
        [p["spice_sims"] for p in curve],
        [100 * p["held_out_success"] for p in curve],
        marker="o",
    )
    ax.set_xlabel("total SPICE simulations")
    ax.set_ylabel("held-out success (%)")
    ax.set_ylim(0, 100)
    ax.grid(alpha=0.3)
    ax.set_title(f"{title}: held-out box targets, 1 sim each")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _one_line(metrics: dict) -> str:
    keys = (
        "round",
        "spice_sims",
        "train_unmet",
        "frontier_sims",
        "held_out_success",
        "probe_met",
        "strategy",
        "strategy_sims",
        "strategy_new_met",
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
