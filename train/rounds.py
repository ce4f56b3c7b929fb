"""The box loop's phases, as functions over a run and the loop's state.

Each phase takes the opened run (``train.run.Run``: its session, verified
designs, surrogate, policy) and the loop's ``LoopState`` (what changes from
round to round), and returns the metrics it adds to the round's line of
``metrics.jsonl``:

- ``initial``: the Sobol designs simulated before the first round;
- ``refit``: the circuit surrogate fitted again on every training design;
- ``frontier``: this round's box targets no verified design meets, sized
  on the surrogate and simulated (the data grows where the box is not yet
  covered);
- ``escalate``: after a held-out stall, one strategy of ``train.explore``;
- ``train_policy``: PPO on the surrogate env, on a curriculum of unmet and
  hindsight targets (``curriculum``);
- ``evaluate_held_out``: the sizer on the fixed held-out targets, one
  simulation each (``train.evaluate``), added to the held-out progress.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import jax
import numpy as np

from envs.targets import draw_by_seed
from surrogate.circuit.dataset import build_dataset, designs_from_actions, sobol_actions
from surrogate.circuit.model import surrogate_arrays
from surrogate.circuit.store import save_surrogate
from surrogate.circuit.train import FitConfig, FittedSurrogate, fit_surrogate
from train.evaluate import evaluate
from train.explore import Explorer
from train.progress import HeldOutProgress
from train.run import HELD_OUT, Run
from train.verified import hindsight_targets


@dataclass
class LoopState:
    """What the box loop carries between rounds.

    ``round``: rounds done; ``progress``: the held-out curve and stop rules;
    ``held_out`` ``[H, m]``: the fixed held-out targets; ``train_targets``
    ``[T, m]``: a target file's training list (None: box draws each round);
    ``probe`` ``[P, m]``: box targets (run seed) scoring the strategies;
    ``explorer``: the stall strategies and their yield; ``fit``: the
    surrogate's fit settings and ``fitted`` the last fit (warm start).
    """

    progress: HeldOutProgress
    held_out: np.ndarray
    train_targets: np.ndarray | None
    probe: np.ndarray
    explorer: Explorer
    fit: FitConfig
    round: int = 0
    fitted: FittedSurrogate | None = None
    started: float = field(default_factory=time.perf_counter)


def room(run: Run) -> int:
    """SPICE simulations left of the run's budget."""
    return max(run.config.sim_budget - run.sims_used, 0)


def simulate(run: Run, state: LoopState, designs: list[dict], purpose: str) -> None:
    """Simulate at most the budget's ``room`` of ``designs`` for ``purpose``."""
    run.simulate(designs[: room(run)], purpose, state.round)


def initial(run: Run, state: LoopState) -> None:
    """The first ``initial_samples`` Sobol designs, in order; those a killed
    run already recorded are skipped (a killed batch's are in the store)."""
    config = run.config
    n = min(config.initial_samples, config.sim_budget)
    done = run.sims["initial"]
    if state.round == 0 and done < n:
        actions = sobol_actions(len(run.problem.scale.names), n, config.seed)
        designs = designs_from_actions(run.problem, actions)[done:]
        simulate(run, state, designs, "initial")


def refit(run: Run, state: LoopState) -> dict:
    """Fit the surrogate on every training design (warm start from the last
    fit), set ``run.arrays`` and save it under ``surrogate/``."""
    problem = run.problem
    data = build_dataset(problem, run.verified.rows())
    warm = None if state.fitted is None else state.fitted.weights
    fitted = fit_surrogate(
        data,
        state.fit,
        progress=False,
        weights=warm,
        figure_count=len(problem.figures),
    )
    state.fitted = fitted
    run.arrays = surrogate_arrays(
        fitted.weights,
        fitted.mean,
        fitted.std,
        data.log_mask,
        data.sign,
        fitted.spread_scale,
    )
    save_surrogate(
        run.dir.path / "surrogate",
        fitted,
        data,
        {
            "circuit": problem.circuit,
            "technology": problem.technology,
            "corner": problem.corner,
            "circuit_fingerprint": run.session.simulator.circuit.fingerprint,
            "hidden": state.fit.hidden,
            "members": state.fit.members,
        },
    )
    return {"surrogate_epochs": fitted.epochs, "data_designs": len(data.inputs)}


def round_targets(run: Run, state: LoopState) -> np.ndarray:
    """This round's training targets: box draws, or rows of the file's list."""
    config = run.config
    rng = np.random.default_rng([config.seed, state.round])
    table = state.train_targets
    if table is None or len(table) == 0:
        return draw_by_seed(
            run.problem.box, config.round_targets, int(rng.integers(2**31))
        )
    return table[rng.integers(0, len(table), config.round_targets)]


def probe_met(run: Run, state: LoopState) -> int:
    """How many of the probe targets (box draws of the run's seed, never
    held-out ones) a verified design meets."""
    return int(np.sum(run.verified.meeting(state.probe) >= 0))


def frontier(run: Run, state: LoopState) -> tuple[dict, np.ndarray]:
    """Designs for this round's box targets no verified design meets; the
    metrics and those unmet targets ``[U, m]``."""
    config = run.config
    targets = round_targets(run, state)
    unmet = targets[run.verified.meeting(targets) < 0]
    reserve = config.held_out  # keep room for a final held-out check
    count = min(len(unmet), config.round_sims, max(room(run) - reserve, 0))
    sims_before, met_before = run.sims_used, probe_met(run, state)
    if count:
        run.make_sizer(config.seed + state.round).size(
            unmet[:count], 1, lambda e: run.record(e, "frontier", state.round)
        )
    sims = run.sims_used - sims_before
    new_met = probe_met(run, state) - met_before
    state.explorer.record("frontier", sims, new_met)
    return {
        "train_unmet": float(len(unmet) / len(targets)),
        "frontier_sims": sims,
        "frontier_new_met": new_met,
    }, unmet


def escalate(
    run: Run, state: LoopState, unmet: np.ndarray, rng: np.random.Generator
) -> dict:
    """After a stall: one strategy of ``train.explore`` at the targets still
    unmet (this round's and the probe's), verified in ngspice; what it spent
    and the probe targets it newly met."""
    config, explorer = run.config, state.explorer
    name = explorer.choose()
    count = min(config.strategy_sims, max(room(run) - config.held_out, 0))
    probe_unmet = state.probe[run.verified.meeting(state.probe) < 0]
    pool = np.concatenate([unmet, probe_unmet])
    sims_before, met_before = run.sims_used, probe_met(run, state)
    length = explorer.length
    sizings = explorer.propose(name, run.arrays, run.verified, pool, count, rng)
    simulate(run, state, [run.problem.design(s) for s in sizings], name)
    sims = run.sims_used - sims_before
    new_met = probe_met(run, state) - met_before
    explorer.record(name, sims, new_met)
    out = {"strategy": name, "strategy_sims": sims, "strategy_new_met": new_met}
    if name == "trust":
        out["trust_length"] = length
    return out


def curriculum(run: Run, unmet: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``table_size`` targets for the policy: unmet box targets and
    hindsight targets inside the box, resampled to a fixed size."""
    box, size = run.problem.box, run.config.table_size
    solved = hindsight_targets(run.verified)
    inside = np.all(
        (box.difficulty(solved) >= 0) & (box.difficulty(solved) <= 1), axis=1
    )
    pool = np.concatenate([unmet, solved[inside]])
    if len(pool) == 0:
        pool = draw_by_seed(box, size, int(rng.integers(2**31)))
    return pool[rng.integers(0, len(pool), size)]


def train_policy(
    run: Run,
    state: LoopState,
    unmet: np.ndarray,
    rng: np.random.Generator,
    key: jax.Array,
) -> dict:
    """PPO on the surrogate env for ``policy_updates`` calls, on the
    curriculum of this round (``key``: the run's, folded with the round)."""
    table = curriculum(run, unmet, rng)
    params = run.policy.params(run.arrays, table)
    return run.policy.train(
        jax.random.fold_in(key, state.round), params, run.config.policy_updates
    )


def evaluate_held_out(run: Run, state: LoopState) -> dict:
    """Held-out success: the sizer with one simulation per target (these
    simulations are counted, never training data); the point added to the
    held-out curve (``HeldOutProgress.judge`` counts it for the stop rules)."""
    count = min(len(state.held_out), room(run))
    held = evaluate(
        run.make_sizer(run.config.seed + state.round),
        state.held_out[:count],
        1,
        lambda e: run.record(e, HELD_OUT, state.round),
    )
    point = {
        "rounds": state.round,
        "spice_sims": run.sims_used,
        "held_out_success": held.success,
        "held_out_targets": int(len(held.met)),
        "met_by_verified": held.met_by_verified,
        "wall_seconds": time.perf_counter() - state.started,
    }
    state.progress.curve.append(point)
    return point
