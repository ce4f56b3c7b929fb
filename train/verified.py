"""The designs a run verified in ngspice, as one typed batch of arrays.

``VerifiedDesigns`` holds, per design (row), its parameters ``params``
``[N, d]`` (SI, columns ``param_names``: the circuit's parameters, and in
the electrical space the electrical values too), its performance
``performance`` ``[N, k]`` (columns ``performance_names``: every figure and
operating-point entry the simulation returned, NaN where missing), whether
it simulated (``ok`` ``[N]``), why it was simulated (``purpose`` ``[N]``:
``initial``, ``frontier``, a strategy of ``train.explore``) and in which
round (``round`` ``[N]``). From these it keeps the two views the sizer
searches: ``sizings`` ``[N, n]`` (SI, in the problem's parameter order) and
the spec figures ``figures`` ``[N, m]`` (NaN for failed simulations).

A batch grows once per simulate call (``add_evaluations``) or once for a
whole ``verified.jsonl`` (``from_records``); the file's format is
``train.run_dir``'s and does not change.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from sim.sizing.problem import SizingProblem
from sim.sizing.simulator import Evaluation

TARGET_CHUNK = 100  # targets compared with every verified design at once


class DesignRow(NamedTuple):
    """One verified design as ``surrogate.circuit.dataset.build_dataset``
    reads an evaluation: parameter and performance dicts, and ``ok``."""

    params: dict[str, float]
    performance: dict[str, float]
    ok: bool


def _number(value) -> float:
    return np.nan if value is None else float(value)


def _columns(names: tuple[str, ...], rows: Sequence[dict]) -> tuple[str, ...]:
    """``names`` extended by the keys of ``rows`` it lacks, in first-seen order."""
    known, extra = set(names), {}
    for row in rows:
        for key in row:
            if key not in known:
                extra[key] = None
    return names + tuple(extra)


def _matrix(names: tuple[str, ...], rows: Sequence[dict]) -> np.ndarray:
    """``[len(rows), len(names)]`` float64 (NaN where a row lacks a name)."""
    return np.asarray(
        [[_number(row.get(n)) for n in names] for row in rows], np.float64
    ).reshape(len(rows), len(names))


def _widen(array: np.ndarray, columns: int) -> np.ndarray:
    """``array`` ``[N, c]`` padded with NaN columns to ``[N, columns]``."""
    pad = np.full((len(array), columns - array.shape[1]), np.nan)
    return np.concatenate([array, pad], axis=1)


class VerifiedDesigns:
    """Designs verified in ngspice for one problem, as arrays (module doc)."""

    def __init__(self, problem: SizingProblem) -> None:
        self.problem = problem
        self.param_names: tuple[str, ...] = ()
        self.performance_names: tuple[str, ...] = ()
        self.params = np.zeros((0, 0))
        self.performance = np.zeros((0, 0))
        self.ok = np.zeros(0, bool)
        self.purpose = np.zeros(0, object)
        self.round = np.zeros(0, np.int64)
        self.sizings = np.zeros((0, len(problem.scale.names)))
        self.figures = np.zeros((0, len(problem.specs)))

    def __len__(self) -> int:
        return len(self.ok)

    # -- growing -------------------------------------------------------------------
    def append(
        self,
        params: Sequence[dict],
        performance: Sequence[dict],
        ok: Sequence[bool],
        purpose: Sequence[str],
        rounds: Sequence[int],
    ) -> None:
        """Add one batch of designs (one entry per design in each sequence;
        performance values None are missing figures)."""
        if not len(ok):
            return
        self.param_names = _columns(self.param_names, params)
        self.performance_names = _columns(self.performance_names, performance)
        new_params = _matrix(self.param_names, params)
        new_performance = _matrix(self.performance_names, performance)
        new_ok = np.asarray(ok, bool)
        self.params = np.concatenate(
            [_widen(self.params, len(self.param_names)), new_params]
        )
        self.performance = np.concatenate(
            [_widen(self.performance, len(self.performance_names)), new_performance]
        )
        self.ok = np.concatenate([self.ok, new_ok])
        self.purpose = np.concatenate([self.purpose, np.asarray(purpose, object)])
        self.round = np.concatenate([self.round, np.asarray(rounds, np.int64)])
        scale = [self.param_names.index(n) for n in self.problem.scale.names]
        self.sizings = np.concatenate([self.sizings, new_params[:, scale]])
        figures = np.full((len(new_ok), len(self.problem.specs)), np.nan)
        for k, spec in enumerate(self.problem.specs):
            if spec in self.performance_names:
                figures[:, k] = new_performance[:, self.performance_names.index(spec)]
        figures[~new_ok] = np.nan
        self.figures = np.concatenate([self.figures, figures])

    def add_evaluations(
        self, evaluations: Sequence[Evaluation], purpose: str = "", round_: int = 0
    ) -> None:
        """The evaluations of one simulate call, simulated for ``purpose``
        in round ``round_``."""
        n = len(evaluations)
        self.append(
            [e.params for e in evaluations],
            [e.performance for e in evaluations],
            [e.ok for e in evaluations],
            [purpose] * n,
            [round_] * n,
        )

    @classmethod
    def from_records(
        cls, problem: SizingProblem, records: Sequence[dict]
    ) -> VerifiedDesigns:
        """The designs of ``verified.jsonl`` records (``train.run_dir``:
        ``{round, purpose, params, performance, status}``; JSON nulls are
        missing figures)."""
        designs = cls(problem)
        designs.append(
            [r["params"] for r in records],
            [r["performance"] for r in records],
            [r["status"] == "ok" for r in records],
            [r["purpose"] for r in records],
            [int(r.get("round", 0)) for r in records],
        )
        return designs

    # -- reading -------------------------------------------------------------------
    def params_of(self, j: int) -> dict[str, float]:
        """Design ``j``'s parameters as a dict."""
        row = self.params[j]
        return {
            n: float(v) for n, v in zip(self.param_names, row, strict=True) if v == v
        }

    def performance_of(self, j: int) -> dict[str, float]:
        """Design ``j``'s performance as a dict (NaN where missing)."""
        values = map(float, self.performance[j])
        return dict(zip(self.performance_names, values, strict=True))

    def rows(self) -> list[DesignRow]:
        """Every design as ``build_dataset`` reads an evaluation."""
        return [
            DesignRow(self.params_of(j), self.performance_of(j), bool(self.ok[j]))
            for j in range(len(self))
        ]

    def worst_margins(self, targets: np.ndarray) -> np.ndarray:
        """``[T, N]``: each design's worst-spec margin for each target."""
        box = self.problem.box
        out = np.full((len(targets), len(self)), -np.inf)
        for start in range(0, len(targets), TARGET_CHUNK):
            chunk = np.asarray(targets[start : start + TARGET_CHUNK], np.float64)
            margin = box.margin(self.figures[None], chunk[:, None]).min(axis=-1)
            out[start : start + TARGET_CHUNK] = margin
        return out

    def meeting(self, targets: np.ndarray) -> np.ndarray:
        """``[T]``: the design meeting each target with the largest worst-spec
        margin, -1 where none does."""
        if len(self) == 0:
            return np.full(len(targets), -1)
        box = self.problem.box
        best = np.full(len(targets), -1)
        for start in range(0, len(targets), TARGET_CHUNK):
            chunk = np.asarray(targets[start : start + TARGET_CHUNK], np.float64)
            met = box.met(self.figures[None], chunk[:, None])  # [t, N]
            margin = box.margin(self.figures[None], chunk[:, None]).min(axis=-1)
            margin = np.where(met, margin, -np.inf)
            index = margin.argmax(axis=1)
            best[start : start + TARGET_CHUNK] = np.where(met.any(axis=1), index, -1)
        return best

    def closest(self, targets: np.ndarray, k: int) -> np.ndarray:
        """``[T, k]`` indices of the designs closest to meeting each target
        (largest worst-spec margin first); fewer designs are repeated."""
        margins = self.worst_margins(targets)
        order = np.argsort(-margins, axis=1)[:, :k]
        return np.resize(order, (len(targets), k)) if order.shape[1] < k else order


def hindsight_targets(designs: VerifiedDesigns) -> np.ndarray:
    """Every successfully simulated design relabelled as a solved target: its
    verified spec figures ``[N_ok, m]``, which it meets by construction."""
    ok = np.all(np.isfinite(designs.figures), axis=1)
    return designs.figures[ok].copy()
