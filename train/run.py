"""A training run, opened once: ``Run``.

A run directory (``train.run_dir.RunDir``) holds what ``python -m train``
learned. ``Run`` opens it once for everyone who uses it — the trainer
(``train.loop.BoxLoop``), the sizer (``train.sizing.TrainedSizer``, behind
``train.size``, ``train.eval`` and the benchmarks):

- ``config``: the run's ``train.config.TrainConfig`` (``config.json``);
- ``store``, ``session``, ``problem``: its simulation store
  (``simulations.sqlite``) and the problem in the space the run trains in
  (``--space``), its fingerprint checked against the run's;
- ``verified``: the designs it verified for training, a
  ``train.verified.VerifiedDesigns`` batch (held-out checks excluded), and
  ``sims``, the simulations it spent per purpose (held-out ones included);
- ``arrays``: its circuit surrogate (``surrogate/``; None until fitted);
- ``policy``: its ``train.policy.Policy`` (None without one);

``record`` appends a simulate call's evaluations to ``verified.jsonl`` and
to the batch at once; ``make_sizer(seed)`` is a ``train.sizer.Sizer`` over all
of it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import jax
import numpy as np

from envs.sizing_space import space_session
from envs.targets import draw_by_seed, load_target_sets, split_indices
from sim.engine.backend import BackendConfig
from sim.errors import UserInputError
from sim.format.targets import TargetBox
from sim.sizing.session import ProblemOptions, open_session
from sim.sizing.simulator import Evaluation
from sim.storage.store import SimulationStore
from surrogate.circuit.search import make_search
from train.checkpoint import has_policy
from train.config import TrainConfig, config_from_dict
from train.policy import Policy
from train.run_dir import RunDir
from train.sizer import Sizer, SizerConfig
from train.verified import VerifiedDesigns

HELD_OUT = "held_out"  # the purpose of held-out checks: never training data


def read_run_config(directory: RunDir) -> TrainConfig:
    """The run's ``TrainConfig``; a ``UserInputError`` naming ``config.json``
    when it is missing or unreadable."""
    try:
        return config_from_dict(directory.read_config())
    except (OSError, ValueError, TypeError, KeyError) as error:
        raise UserInputError(
            f"{directory.path}: config.json is missing or unreadable ({error})"
        ) from None


def target_sets(
    config: TrainConfig, box: TargetBox
) -> tuple[np.ndarray | None, np.ndarray]:
    """Training targets (None: fresh draws from the box each round) and
    the fixed held-out targets ``[H, m]``.

    A target file's ``train`` (or ``targets``) list is trained on and its
    ``held_out`` list is the held-out set (at most ``held_out`` of them);
    a file without a held-out list has ``held_out`` of its targets (a
    fifth at most) set aside at random. A held-out list is never trained
    on (``sim.sizing.target_text.load_targets``).
    """
    if config.targets is None:
        return None, draw_by_seed(box, config.held_out, config.held_out_seed)
    table, held = load_target_sets(config.targets, box)
    if len(held):
        return table, held[: config.held_out]
    n_held = min(config.held_out, max(1, len(table) // 5))
    train, held_out = split_indices(len(table), n_held, config.held_out_seed)
    return table[train], table[held_out]


class Run:
    """One run directory opened: config, session, store, verified designs,
    surrogate and policy (module doc). Subclasses open it for a purpose:
    ``train.loop.BoxLoop`` to train, ``train.sizing.TrainedSizer`` to size."""

    def __init__(
        self,
        config: TrainConfig,
        directory: RunDir,
        records: Sequence[dict],
        workers: int | None = None,
    ) -> None:
        """Open ``directory`` (``config`` its settings, ``records`` its
        ``verified.jsonl``) with ``workers`` ngspice workers (None: the
        config's)."""
        self.config = config
        self.dir = directory
        self.store = SimulationStore(directory.path / "simulations.sqlite")
        backend = dict(config.backend)
        backend["workers"] = workers if workers is not None else config.workers
        self.session = space_session(  # the policy's space (--space)
            open_session(
                config.options, store=self.store, backend=BackendConfig(**backend)
            )
        )
        self.problem = self.session.problem
        if backend.get("kind", "local") != "remote":
            self.dir.check_fingerprint(self.session.fingerprint)
        self.sims: Counter[str] = Counter(r["purpose"] for r in records)
        training = [r for r in records if r["purpose"] != HELD_OUT]
        self.verified = VerifiedDesigns.from_records(self.problem, training)
        self.search = make_search(self.problem)
        self.arrays: dict | None = None
        self.policy: Policy | None = None

    # -- SPICE -------------------------------------------------------------------
    @property
    def sims_used(self) -> int:
        """Every simulation the run spent (held-out checks included)."""
        return sum(self.sims.values())

    def record(
        self, evaluations: list[Evaluation], purpose: str, round_: int = 0
    ) -> None:
        """Append the evaluations of one simulate call to ``verified.jsonl``
        (one record each) and, unless held-out checks, to ``verified``."""
        for e in evaluations:
            self.dir.add_verified(
                {
                    "round": round_,
                    "purpose": purpose,
                    "params": e.params,
                    "performance": e.performance,
                    "status": e.status.value,
                }
            )
        if not evaluations:
            return
        self.sims[purpose] += len(evaluations)
        if purpose != HELD_OUT:
            self.verified.add_evaluations(evaluations, purpose, round_)

    def simulate(
        self, designs: list[dict], purpose: str, round_: int = 0
    ) -> list[Evaluation]:
        """Simulate ``designs`` (a progress bar) and ``record`` them."""
        if not designs:
            return []
        evaluations = self.session.simulator.simulate(designs, progress=True)
        self.record(evaluations, purpose, round_)
        return evaluations

    # -- sizing ------------------------------------------------------------------
    def make_sizer(self, seed: int) -> Sizer:
        """A ``Sizer`` over the run's surrogate, verified designs and (once
        trained) its policy's proposals; ``seed`` draws its random starts."""
        proposer = None
        if self.policy is not None and self.policy.runner is not None:
            proposer = self.policy.proposer(self.arrays, self.config.seed)
        return Sizer(
            self.problem,
            self.session.simulator,
            self.arrays,
            self.verified,
            SizerConfig(seed=seed),
            proposer,
            self.search,
        )

    def restore_policy(self, state: dict | None) -> None:
        """``policy`` from a checkpoint ``state`` (``train.checkpoint``); None
        when the run trains none or the checkpoint holds none."""
        if not self.config.policy_updates or not has_policy(state):
            return
        if self.policy is None:
            self.policy = Policy(self.session, self.config)
        self.policy.restore(
            jax.random.key(self.config.seed),
            self.arrays,
            state,
            str(self.dir.checkpoint_path),
        )

    def close(self) -> None:
        self.session.close()
        self.store.close()
        self.dir.unlock()


def run_options(path: str | Path) -> ProblemOptions:
    """The problem options a run directory holds (its ``config.json``, read
    as ``Run`` reads it); creates nothing, a ``UserInputError`` of one line
    when ``path`` holds no run."""
    return read_run_config(RunDir.existing(path)).options


def open_existing(path: str | Path) -> tuple[RunDir, TrainConfig]:
    """A run directory that holds a trained run, and its config (creates
    nothing; a ``UserInputError`` of one line when it is not one)."""
    directory = RunDir.existing(path)
    config = read_run_config(directory)
    if not (directory.path / "surrogate" / "surrogate.json").is_file():
        raise UserInputError(f"{path}: no surrogate/ yet (train the run first)")
    return directory, config
