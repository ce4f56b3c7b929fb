"""Conditional verification: a design checked over the declared conditions at
a fraction of their cost.

The nominal condition is simulated first; a design that passes goes on to
the remaining conditions one at a time, the condition that failed most
often before first (a failure count per condition and spec, learned from
every verification this verifier made), and stops at its first failure
(PPAAS's skip-on-fail; the conditional evaluation of commercial sign-off
tools). Conditions no design failed yet go in order of distance from the
nominal (the extremes first), then in declared order.

Designs are verified in batches: every design still passing goes to the
next condition together, through the pool, in one ``Simulator.simulate``
call. Every condition simulation is counted (``sims``, of which
``from_store`` the store answered) and stored: each condition has its own
``Simulator`` (supply through ``Technology.with_supply``), so store keys
differ by corner, temperature and supply; the nominal condition's keys are
the ones a single-condition run writes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from sim.errors import UserInputError
from sim.format.pvt_conditions import Condition, ConditionSet, worst_case
from sim.sizing.simulator import Evaluation, Simulator


@dataclass
class Verdict:
    """One design verified against one target over a ``ConditionSet``.

    ``figures`` ``[k, m]``: spec figures per condition (NaN where missing or
    not simulated; ``simulated`` ``[k]`` says which were); ``evaluations``
    the full result of each simulated condition (by index); ``met`` True only
    when every condition was simulated and met; ``failed_at`` the index of
    the condition that failed (None if none did); ``sims`` condition
    simulations this verification sent to the simulators.
    """

    params: dict[str, float]
    target: np.ndarray
    figures: np.ndarray
    simulated: np.ndarray
    lower: np.ndarray
    evaluations: dict[int, Evaluation] = field(default_factory=dict)
    met: bool = False
    failed_at: int | None = None
    sims: int = 0

    @property
    def complete(self) -> bool:
        """Every condition simulated."""
        return bool(self.simulated.all())

    def worst(self) -> tuple[np.ndarray, np.ndarray]:
        """(worst figure ``[m]``, its condition index ``[m]``) over the
        simulated conditions (``sim.format.pvt_conditions.worst_case``)."""
        rows = np.flatnonzero(self.simulated)
        worst, index = worst_case(self.figures[rows], self.lower)
        return worst, rows[index]


class ConditionalVerifier:
    """Verifies designs of ``circuit`` over ``conditions`` (see the module).

    ``circuit`` is a loaded ``sim.format.circuit.Circuit`` (loaded with the
    unscaled ``technology``), ``box`` its spec box (the figures checked);
    ``backend`` and ``store`` are shared by every condition's simulator;
    ``simulators`` may hand in ones already open (the session's nominal).
    """

    def __init__(
        self,
        circuit,
        technology,
        conditions: ConditionSet,
        box,
        *,
        backend=None,
        store=None,
        simulators: Mapping[Condition, Simulator] | None = None,
    ) -> None:
        self.circuit = circuit
        self.technology = technology
        self.conditions = conditions
        self.box = box
        self.lower = np.asarray(box.lower, bool)
        self._backend = backend
        self._store = store
        self._simulators: dict[Condition, Simulator] = dict(simulators or {})
        self._own: list[Simulator] = []
        k, m = len(conditions), len(box.specs)
        self.failures = np.zeros((k, m), np.int64)  # per condition and spec
        self.sims_per_condition = np.zeros(k, np.int64)
        self.from_store = 0
        self._cache: dict[tuple[int, tuple], Evaluation] = {}

    @classmethod
    def for_session(cls, session, conditions: ConditionSet | None = None):
        """The verifier of a ``sim.sizing.session.Session``'s problem and conditions
        (default ``session.conditions``), sharing its backend and store.
        A simulator wrapping another (``_simulator``: the electrical space's)
        is unwrapped: designs here are the circuit's own parameters."""
        simulator = getattr(session.simulator, "_simulator", session.simulator)
        conditions = conditions or session.conditions
        if getattr(simulator, "_remote", None) is not None and not conditions.single:
            raise UserInputError(
                "PVT conditions need a local or ray backend (a remote server "
                "simulates one condition)"
            )
        return cls(
            simulator.circuit,
            simulator.technology,
            conditions,
            session.problem.box,
            backend=None if conditions.single else simulator.backend,
            store=simulator.store,
            simulators={conditions.nominal: simulator},
        )

    @property
    def sims(self) -> int:
        """Condition simulations sent to the simulators (stored or new)."""
        return int(self.sims_per_condition.sum())

    def simulator(self, condition: Condition) -> Simulator:
        """The simulator of one condition (made on first use)."""
        simulator = self._simulators.get(condition)
        if simulator is None:
            simulator = Simulator(
                self.circuit,
                self.technology.with_supply(condition.supply),
                condition.corner,
                condition.temperature,
                backend=self._backend,
                store=self._store,
            )
            self._simulators[condition] = simulator
            self._own.append(simulator)
        return simulator

    def close(self) -> None:
        """Close the simulators this verifier made (not the ones handed in)."""
        for simulator in self._own:
            simulator.close()
        self._own.clear()

    # -- the order ---------------------------------------------------------------
    def _distance(self, index: int) -> float:
        c, n = self.conditions.conditions[index], self.conditions.nominal
        return (
            (c.corner != n.corner)
            + abs(c.temperature - n.temperature) / 100.0
            + abs(c.supply - n.supply) * 10.0
        )

    def next_condition(self, done: Sequence[int], asked: np.ndarray) -> int:
        """The condition to simulate next after ``done``: the nominal first,
        then the one whose ``asked`` ``[m]`` specs failed most often before
        (ties: farthest from the nominal, then declared order)."""
        remaining = [i for i in range(len(self.conditions)) if i not in set(done)]
        nominal = self.conditions.nominal
        if not done and nominal in self.conditions.conditions:
            return self.conditions.index(nominal)
        counts = self.failures[:, asked].sum(axis=1)
        return min(remaining, key=lambda i: (-counts[i], -self._distance(i), i))

    def order(self, asked: np.ndarray | None = None) -> list[int]:
        """The order a design that meets everything would be simulated in."""
        asked = np.ones(len(self.box.specs), bool) if asked is None else asked
        done: list[int] = []
        while len(done) < len(self.conditions):
            done.append(self.next_condition(done, asked))
        return done

    # -- simulating --------------------------------------------------------------
    def evaluate(
        self, designs: Sequence[Mapping[str, float]], index: int
    ) -> list[Evaluation]:
        """``designs`` at condition ``index``, one batch; repeats served from
        memory (not counted), the rest counted in ``sims_per_condition``."""
        return [e for e, _ in self._evaluate(designs, index)]

    def _evaluate(
        self, designs: Sequence[Mapping[str, float]], index: int
    ) -> list[tuple[Evaluation, bool]]:
        """As ``evaluate``, each with whether it was counted (sent now)."""
        simulator = self.simulator(self.conditions.conditions[index])
        checked = [self.circuit.check_design(dict(d)) for d in designs]
        keys = [(index, tuple(sorted(d.items()))) for d in checked]
        todo = list(dict.fromkeys(k for k in keys if k not in self._cache))
        if todo:
            results = simulator.simulate([dict(k[1]) for k in todo])
            for key, result in zip(todo, results, strict=True):
                self._cache[key] = result
                self.from_store += int(result.cached)
            self.sims_per_condition[index] += len(todo)
        fresh = set(todo)
        out = []
        for key in keys:
            out.append((self._cache[key], key in fresh))
            fresh.discard(key)
        return out

    def spec_figures(self, evaluation: Evaluation) -> np.ndarray:
        """Spec figures ``[m]`` of one evaluation (NaN where missing)."""
        return np.asarray(
            [
                np.nan
                if evaluation.performance.get(s) is None
                else float(evaluation.performance[s])
                for s in self.box.names
            ]
        )

    def verify(
        self,
        designs: Sequence[Mapping[str, float]],
        targets: np.ndarray,
        *,
        stop_on_fail: bool = True,
    ) -> list[Verdict]:
        """Verify ``designs`` against ``targets`` ``[n, m]`` (or one ``[m]``
        for all; NaN asks nothing) over the conditions, conditionally: a
        design stops at its first failing condition unless ``stop_on_fail``
        is False (then every condition is simulated, e.g. for a report)."""
        n, m = len(designs), len(self.box.specs)
        targets = np.broadcast_to(np.asarray(targets, np.float64), (n, m))
        k = len(self.conditions)
        verdicts = [
            Verdict(
                self.circuit.check_design(dict(d)),
                targets[i].copy(),
                np.full((k, m), np.nan),
                np.zeros(k, bool),
                self.lower,
            )
            for i, d in enumerate(designs)
        ]
        pending = list(range(n))
        done: list[int] = []
        while pending and len(done) < k:
            asked = ~np.all(np.isnan(targets[pending]), axis=0)
            index = self.next_condition(done, asked)
            done.append(index)
            results = self._evaluate([verdicts[i].params for i in pending], index)
            still = []
            for i, (result, counted) in zip(pending, results, strict=True):
                verdict = verdicts[i]
                verdict.sims += int(counted)
                verdict.simulated[index] = True
                verdict.evaluations[index] = result
                figures = self.spec_figures(result)
                verdict.figures[index] = figures
                ok = self.box.met(figures[None], verdict.target[None], np)[0]
                if not ok:
                    per_spec = self.box.margin(figures, verdict.target) < 0
                    self.failures[index] += per_spec
                    if verdict.failed_at is None:
                        verdict.failed_at = index
                if ok or not stop_on_fail:
                    still.append(i)
            pending = still
        for verdict in verdicts:
            verdict.met = verdict.complete and verdict.failed_at is None
        return verdicts

    def state(self) -> dict:
        """What this verifier learned and spent (JSON)."""
        return {
            "conditions": self.conditions.to_json(),
            "specs": list(self.box.names),
            "failures": self.failures.tolist(),
            "sims_per_condition": self.sims_per_condition.tolist(),
            "sims": self.sims,
            "from_store": self.from_store,
        }

    def __enter__(self) -> ConditionalVerifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
