"""The box loop's checkpoint: written after every round, read on ``--resume``.

``checkpoint.msgpack`` (``train.checkpoint``, format 2) holds the loop's
state — round, best held-out success, evaluations without improvement,
whether it stalled, the held-out curve — and the policy, optimiser and
rollout state under named keys. Verified designs are not in it: they are
``verified.jsonl``, which ``train.run.Run`` reads when it opens the run.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from surrogate.circuit.store import load_surrogate_arrays
from train.checkpoint import FORMAT, runner_to_named
from train.rounds import LoopState, refit
from train.run import Run


def save_checkpoint(run: Run, state: LoopState) -> None:
    """Write the loop's state and the policy's runner (when trained)."""
    progress = state.progress
    saved = {
        "format": FORMAT,
        "round": state.round,
        "best": progress.best,
        "stale": progress.stale,
        "stalled": int(progress.stalled),
        "curve": json.dumps(progress.curve),
    }
    if run.policy is not None and run.policy.runner is not None:
        saved.update(runner_to_named(run.policy.runner))
    run.dir.save_checkpoint(saved)


def resume_loop(run: Run, state: LoopState, done: Callable[[LoopState], bool]) -> None:
    """Continue from the run's checkpoint (nothing when there is none): the
    loop's state, the surrogate (fitted again from the verified designs, or
    the saved one when the run has nothing left to do: ``done(state)``) and
    the policy."""
    saved = run.dir.load_checkpoint()
    if saved is None:
        return
    progress = state.progress
    state.round = int(saved["round"])
    progress.best = float(saved["best"])
    progress.stale = int(saved["stale"])
    progress.stalled = bool(int(saved.get("stalled", 0)))
    progress.curve = json.loads(saved["curve"])
    if progress.curve and done(state) and not run.dir.surrogate_problem():
        # nothing left to train: the saved surrogate, no refit
        run.arrays = load_surrogate_arrays(run.dir.path / "surrogate")
    else:
        refit(run, state)
    run.restore_policy(saved)
