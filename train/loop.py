"""The box trainer (``python -m train``): meet targets drawn from the circuit's
declared box with few SPICE simulations.

1. Sobol designs over the parameter space, simulated (``initial``).
2. Rounds, each: refit the circuit surrogate on every training design (warm
   start); draw fresh training targets from the box, and for those no
   verified design meets yet, search the surrogate (``train.sizer``) and
   simulate the best design per target (``frontier``): the data grows where
   the box is not yet covered, outward towards its hard end; train the
   policy (PPO on the pure-JAX surrogate env) on box targets mixed with a
   curriculum table of targets still unmet and of hindsight targets (every
   verified design relabelled as a target it solves).
3. Every ``eval_every`` rounds, the sizer (one simulation per target) on a
   fixed held-out set drawn from the box with its own seed (``held_out``;
   these simulations are counted but never become training data, so the
   held-out set stays held out). Training stops on the rules of
   ``train.progress``: held-out success at ``goal`` (near the box's
   ceiling, ``train.ceiling``, when known), a stall near the ceiling, or
   the SPICE budget spent.
4. After the first held-out check that does not improve, every round also
   runs one strategy of ``train.explore`` (a trust region around the closest
   verified designs, per-spec extremes, NSGA-II on the surrogate) with
   ``strategy_sims`` simulations, chosen by the probe targets (box draws of
   the run's seed, never held-out ones) each has newly met per simulation;
   ``metrics.jsonl`` says per round which strategy ran, its sims and what it
   found, ``held_out.json`` the totals per strategy.

The phases are functions of ``train.rounds`` over the run (``train.run.Run``)
and the loop's state (``train.rounds.LoopState``); ``train.resume`` writes
and reads the checkpoint, ``train.curve`` the held-out curve. Every
simulation (initial, frontier, held-out) counts against ``sim_budget`` and
is appended to ``verified.jsonl`` as its batch finishes.
"""

from __future__ import annotations

import time

import jax
import numpy as np

from envs.targets import draw_by_seed
from train import rounds
from train.ceiling import box_ceiling
from train.config import TrainConfig, config_to_dict, fit_config
from train.curve import write_curve
from train.explore import Explorer
from train.policy import Policy
from train.progress import HeldOutProgress
from train.resume import resume_loop, save_checkpoint
from train.rounds import LoopState, room
from train.run import Run, target_sets
from train.run_dir import RunDir


class BoxLoop(Run):
    """A run opened to train; ``run()`` trains until the goal, patience or
    budget. ``state`` is the loop's ``LoopState``."""

    def __init__(self, config: TrainConfig, resume: bool = False) -> None:
        directory = RunDir(config.run)
        directory.lock()  # one writer per run directory
        records = directory.verified() if resume else []
        if not resume and directory.verified():
            raise FileExistsError(
                f"{config.run} already holds a run: use --resume or another --run"
            )
        super().__init__(config, directory, records)
        if not (directory.path / "config.json").is_file():
            directory.write_config(config_to_dict(config))
        train_targets, held_out = target_sets(config, self.problem.box)
        if config.policy_updates:
            self.policy = Policy(self.session, config)
        progress = HeldOutProgress(
            config.goal, config.held_out_patience, box_ceiling(config)
        )
        self.state = LoopState(
            progress=progress,
            held_out=held_out,
            train_targets=train_targets,
            probe=draw_by_seed(
                self.problem.box, config.probe_targets, config.seed * 7 + 104729
            ),
            explorer=Explorer(self.problem, config.seed),
            fit=fit_config(config),
        )
        if resume:
            resume_loop(self, self.state, self._done)

    # -- the state, by name ------------------------------------------------------
    @property
    def round(self) -> int:
        return self.state.round

    @round.setter
    def round(self, value: int) -> None:
        self.state.round = value

    @property
    def held_out(self) -> np.ndarray:
        return self.state.held_out

    @property
    def train_targets(self) -> np.ndarray | None:
        return self.state.train_targets

    def round_targets(self) -> np.ndarray:
        return rounds.round_targets(self, self.state)

    # -- the loop ----------------------------------------------------------------
    def _done(self, state: LoopState) -> bool:
        """Whether ``run`` has nothing left to do: a stop rule holds, the
        budget is spent or ``--max-rounds`` reached."""
        return (
            state.progress.finished()
            or room(self) == 0
            or state.round >= self.config.max_rounds
        )

    def stop_reason(self) -> str:
        config = self.config
        return self.state.progress.stop_reason(
            room(self), config.sim_budget, config.max_rounds
        )

    def one_round(self, key: jax.Array) -> dict:
        """Refit, frontier, (after a stall) a strategy, policy, and every
        ``eval_every`` rounds a held-out check; the round's metrics."""
        config, state = self.config, self.state
        rng = np.random.default_rng([config.seed, 1, state.round])
        metrics = {"round": state.round, **rounds.refit(self, state)}
        frontier, unmet = rounds.frontier(self, state)
        metrics.update(frontier)
        if state.progress.stalled and room(self) > config.held_out:
            metrics.update(rounds.escalate(self, state, unmet, rng))
        if self.policy is not None:
            metrics.update(rounds.train_policy(self, state, unmet, rng, key))
        state.round += 1
        if state.round % config.eval_every == 0 or room(self) <= config.held_out:
            point = rounds.evaluate_held_out(self, state)
            metrics.update(point)
            state.progress.judge(point["held_out_success"])
        metrics["probe_met"] = rounds.probe_met(self, state) / len(state.probe)
        metrics["spice_sims"] = self.sims_used
        metrics["wall_seconds"] = time.perf_counter() - state.started
        return metrics

    def run(self) -> dict:
        """Train until a stop rule, the budget or ``--max-rounds``; the
        summary (the last round's metrics, the curve, why it stopped)."""
        config, state = self.config, self.state
        progress = state.progress
        key = jax.random.key(config.seed)
        if progress.curve and self._done(state):  # a resumed run that had ended
            write_curve(self, state)
            self.dir.close()
            return {
                **progress.curve[-1],
                "spice_sims": self.sims_used,
                "curve": progress.curve,
                "stopped_by": self.stop_reason() + " (already: nothing new run)",
            }
        rounds.initial(self, state)
        last = {}
        while state.round < config.max_rounds and room(self) > 0:
            metrics = self.one_round(key)
            save_checkpoint(self, state)
            self.dir.log(state.round, metrics)
            print(_one_line(metrics), flush=True)
            last = metrics
            if progress.finished():
                break
        stale_curve = (
            not progress.curve or progress.curve[-1]["spice_sims"] != self.sims_used
        )
        if stale_curve and room(self) > 0:
            rounds.refit(self, state)
            last.update(rounds.evaluate_held_out(self, state))
        write_curve(self, state)
        save_checkpoint(self, state)
        self.dir.close()
        return {
            **last,
            "spice_sims": self.sims_used,
            "curve": progress.curve,
            "stopped_by": self.stop_reason(),
        }


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
