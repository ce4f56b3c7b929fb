"""A trained run, opened for sizing (``train.size``, ``train.eval``).

``TrainedSizer(run)`` loads what ``python -m train`` left in a run directory:
the problem (``config.json``), the surrogate (``surrogate/``), the designs
the run verified for training (``verified.jsonl``; held-out checks excluded)
and the policy (``checkpoint.msgpack``), and sizes targets with
``train.sizer.Sizer``. New simulations go to the run's own store.
"""

from __future__ import annotations

import json

import jax
import numpy as np

from sim.backend import BackendConfig
from sim.errors import UserInputError
from sim.session import open_session
from sim.store import SimulationStore
from surrogate.circuit.model import surrogate_arrays
from surrogate.circuit.search import make_search
from surrogate.circuit.store import load_surrogate
from train.loop import HELD_OUT, Policy, config_from_dict
from train.run_dir import RunDir
from train.sizer import Sizer, SizerConfig, SizingResult, VerifiedDesigns


class TrainedSizer:
    """A run's sizer; ``size(targets, max_sims)`` as ``train.sizer.Sizer``."""

    def __init__(self, run: str, workers: int | None = None, seed: int = 0) -> None:
        self.dir = RunDir.existing(run)
        try:
            self.config = config_from_dict(self.dir.read_config())
        except (OSError, ValueError, TypeError, KeyError) as error:
            raise UserInputError(
                f"{run}: config.json is missing or unreadable ({error})"
            ) from None
        if not (self.dir.path / "surrogate" / "surrogate.json").is_file():
            raise UserInputError(f"{run}: no surrogate/ yet (train the run first)")
        self.store = SimulationStore(self.dir.path / "simulations.sqlite")
        backend = dict(self.config.backend)
        backend["workers"] = workers if workers is not None else self.config.workers
        self.session = open_session(
            self.config.options, store=self.store, backend=BackendConfig(**backend)
        )
        self.problem = self.session.problem
        if backend.get("kind", "local") != "remote":
            self.dir.check_fingerprint(self.session.fingerprint)
        loaded = load_surrogate(self.dir.path / "surrogate")
        self.arrays = surrogate_arrays(
            loaded.weights,
            loaded.mean,
            loaded.std,
            loaded.log_mask,
            loaded.sign,
            loaded.spread_scale,
            loaded.physics,
        )
        self.verified = VerifiedDesigns(self.problem)
        self.training_sims = 0
        for record in self.dir.verified():
            self.training_sims += 1
            if record.get("purpose") != HELD_OUT:
                self.verified.add_record(record)
        proposer = self._policy_proposer()
        self.sizer = Sizer(
            self.problem,
            self.session.simulator,
            self.arrays,
            self.verified,
            SizerConfig(seed=seed),
            proposer,
            make_search(self.problem),
        )

    def _policy_proposer(self):
        state = self.dir.load_checkpoint()
        if not self.config.policy_updates or not state or "runner" not in state:
            return None
        policy = Policy(self.session, self.config)
        leaves = [state["runner"][str(i)] for i in range(len(state["runner"]))]
        policy.restore(jax.random.key(self.config.seed), self.arrays, leaves)
        return policy.proposer(self.arrays, self.config.seed)

    def size(
        self,
        targets: np.ndarray,
        max_sims: int,
        on_simulated=None,
        minimise: str | None = None,
    ) -> list[SizingResult]:
        return self.sizer.size(targets, max_sims, on_simulated, minimise)

    def held_out_curve(self) -> dict:
        path = self.dir.path / "held_out.json"
        return json.loads(path.read_text()) if path.is_file() else {}

    def close(self) -> None:
        self.session.close()
        self.store.close()
