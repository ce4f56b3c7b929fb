"""Simulate sizings of one circuit on one technology: the main entry of ``sim``.

``Simulator`` renders the decks once, sends each design's testbenches to the
worker pool, turns vectors into performance figures, and records every
simulation in the store (serving repeats from it unless forced).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.engine import job as jobs
from sim.engine.backend import (
    BackendConfig,
    SimulationBackend,
    make_backend,
    open_remote,
)
from sim.engine.deck_check import expand_deck
from sim.engine.ngspice_session import simulator_identity
from sim.engine.result import RawResult, Status
from sim.errors import UserInputError
from sim.format.circuit import VDD_PLACEHOLDER, Circuit, load_circuit
from sim.format.netlist import choose_bins, format_value, render_deck
from sim.format.performance import performance, required_vectors
from sim.format.technology import Technology, load_technology
from sim.storage.store import SimulationStore

CHUNK_PER_WORKER = 8  # designs per worker in one testbench-major chunk
# Outcomes that a re-run would reproduce; timeouts and crashes are retried.
DETERMINISTIC = (
    Status.OK,
    Status.NONCONVERGENCE,
    Status.ERROR,
    Status.MEASUREMENT_MISSING,
)


@dataclass(frozen=True)
class Evaluation:
    """A design, its figures (NaN where missing) and how the simulation went."""

    params: dict[str, float]
    performance: dict[str, float]
    status: Status
    message: str = ""
    elapsed: float = 0.0  # seconds of simulation (all testbenches)
    cached: bool = False

    @property
    def ok(self) -> bool:
        return self.status is Status.OK


def _content_fingerprint(decks: Mapping[str, str], extra: Sequence[str]) -> str:
    """Digest of everything the simulations read: each deck checked and
    expanded with its includes' content (``sim.engine.deck_check``), the simulator
    build, and ``extra`` (analyses, circuit fingerprint, corner, temperature).

    Raises ``UserInputError`` naming the file and line of a refused deck line
    (a control section in a model file, say) before anything runs.
    """
    digest = hashlib.sha256()
    for name, deck in decks.items():
        expanded = expand_deck(deck, f"deck of testbench {name}")
        digest.update(f"{name}:{expanded.digest}\n".encode())
    for item in (simulator_identity(), *extra):
        digest.update(item.encode() + b"\n")
    return digest.hexdigest()


class Simulator:
    """Simulates designs of ``circuit`` on ``technology`` at one corner/temperature.

    ``store=None`` uses the default store (``$JAXSIZER_STORE`` or
    ``$JAXSIZER_HOME/simulations.sqlite``, ``sim.paths``); pass a ``SimulationStore`` to
    choose. ``backend`` runs the simulations (``sim.engine.backend``): a backend
    object to share (the caller closes it), a ``BackendConfig``, or None for
    a private local pool of ``n_workers``; a private backend starts on first
    use and closes with the simulator.
    """

    def __init__(
        self,
        circuit: str | Path | Circuit,
        technology: str | Path | Technology,
        corner: str | None = None,
        temperature: float = 27.0,
        *,
        n_workers: int | None = None,
        timeout: float = 60.0,
        store: SimulationStore | None = None,
        backend: SimulationBackend | BackendConfig | None = None,
    ) -> None:
        self.technology = (
            technology
            if isinstance(technology, Technology)
            else load_technology(technology)
        )
        self.circuit = (
            circuit
            if isinstance(circuit, Circuit)
            else load_circuit(circuit, self.technology)
        )
        self.corner = corner or self.technology.default_corner
        self.temperature = float(temperature)
        if backend is None:
            backend = BackendConfig(workers=n_workers, timeout=timeout)
        self._backend_config = backend if isinstance(backend, BackendConfig) else None
        self._backend = None if self._backend_config else backend
        self.store = store if store is not None else SimulationStore()
        self._remote = None
        if self._backend_config is not None and self._backend_config.kind == "remote":
            # The server holds the decks and the PDK: nothing to render here.
            if self.corner not in self.technology.corners:
                raise UserInputError(
                    f"unknown corner {self.corner!r} of {self.technology.name}; "
                    f"choose one of {', '.join(self.technology.corners)}"
                )
            self._remote = open_remote(
                self._backend_config,
                self.circuit.name,
                self.technology.name,
                self.corner,
                self.temperature,
                [m.name for m in self.circuit.measures],
            )
            self._decks = {}
            return
        self.technology.includes(self.corner)  # validates the corner early
        wanted = required_vectors(self.circuit, self.technology)
        self._decks = {
            tb.name: render_deck(
                self.circuit, self.technology, tb, self.corner, self.temperature
            )
            for tb in self.circuit.testbenches
        }
        vdd = format_value(self.technology.vdd)
        self._analyses = {
            tb.name: tuple(
                jobs.Analysis(
                    a.name,
                    # ngspice's shared library wants lower-case source names
                    a.command.replace(VDD_PLACEHOLDER, vdd).lower(),
                    tuple(wanted.get((tb.name, a.name), ())),
                )
                for a in tb.analyses
            )
            for tb in self.circuit.testbenches
        }
        # Binned libraries (sky130): each design's deck defines only the model
        # bins its transistors use; decks are cached by bin assignment.
        self._prebinned = self.technology.binned is not None
        self._binned_decks: dict[tuple, tuple[dict[str, str], tuple]] = {}
        self._default_params = self._params(self.circuit.default_design())
        self._fingerprint = _content_fingerprint(
            self._decks,
            [
                repr(self._analyses),
                self.circuit.fingerprint,
                self.corner,
                repr(self.temperature),
            ],
        )
        # Workers keep a deck loaded while its text is unchanged: the content
        # stamp makes an edited include a new deck there too.
        self._decks = {name: self._stamped(d) for name, d in self._decks.items()}

    # -- helpers ---------------------------------------------------------------
    @property
    def backend(self) -> SimulationBackend:
        """What runs the simulations (started on first use when private)."""
        if self._backend is None:
            self._backend = make_backend(self._backend_config)
        return self._backend

    def close(self) -> None:
        """Close the backend if it is this simulator's own."""
        if self._remote is not None:
            self._remote.close()
        if self._backend_config is not None and self._backend is not None:
            self._backend.close()
            self._backend = None

    def __enter__(self) -> Simulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _stamped(self, deck: str) -> str:
        """``deck`` with the content fingerprint as its second line."""
        title, _, rest = deck.partition("\n")
        return f"{title}\n* content {self._fingerprint}\n{rest}"

    @property
    def fingerprint(self) -> str:
        """A hash of everything a simulation reads (expanded decks with their
        includes' contents, model files, analyses, corner, temperature, the
        ngspice library): equal exactly when the same design would be
        simulated the same way."""
        if self._remote is not None:
            raise UserInputError("a remote simulator's fingerprint is its server's")
        return hashlib.sha256(json.dumps(self._fingerprint).encode()).hexdigest()

    def key(self, design: Mapping[str, float]) -> str:
        """Store key of a validated design."""
        if self._remote is not None:
            raise UserInputError("a remote simulator's store keys come from its server")
        text = json.dumps([self._fingerprint, sorted(design.items())])
        return hashlib.sha256(text.encode()).hexdigest()

    def deck(self, testbench: str, design: Mapping[str, float] | None = None) -> str:
        """The deck of ``testbench`` with ``design`` written as ``.param`` values."""
        tb = next(t for t in self.circuit.testbenches if t.name == testbench)
        values = self.circuit.check_design(dict(design or {}))
        return render_deck(
            self.circuit, self.technology, tb, self.corner, self.temperature, values
        )

    def _decks_for(self, design: Mapping[str, float]) -> tuple[dict[str, str], tuple]:
        """Decks for ``design`` and the parameter values written in them."""
        if not self._prebinned:
            return self._decks, self._default_params
        bins = choose_bins(self.circuit, self.technology, self.corner, design)
        key = tuple(sorted(bins.items()))
        decks, written = self._binned_decks.get(key, (None, ()))
        if decks is None:
            if len(self._binned_decks) >= 512:
                self._binned_decks.pop(next(iter(self._binned_decks)))
            # The deck must be valid as written: render it with this design's
            # values (any design with the same bins may reuse it).
            decks = {
                tb.name: render_deck(
                    self.circuit,
                    self.technology,
                    tb,
                    self.corner,
                    self.temperature,
                    dict(design),
                    bins=bins,
                )
                for tb in self.circuit.testbenches
            }
            decks = {name: self._stamped(deck) for name, deck in decks.items()}
            written = self._params(design)
            self._binned_decks[key] = (decks, written)
        return decks, written

    def _params(self, design: Mapping[str, float]) -> tuple[tuple[str, float], ...]:
        return tuple(
            (name, float(design[name])) for name in self.circuit.parameter_names
        )

    def waveforms(
        self, design: Mapping[str, float], extra: Mapping[str, Sequence[str]] = {}
    ) -> dict[str, dict[str, np.ndarray]]:
        """Raw vectors of every testbench for one design (not stored).

        ``extra`` adds vectors per ``"testbench.analysis"`` (e.g.
        ``{"follower.tran": ["v(inp)"]}``). Returns
        ``{testbench: {"analysis:vector": array}}``; raises ``RuntimeError``
        if a simulation fails.
        """
        checked = self.circuit.check_design(dict(design))
        todo = []
        for job, name in zip(self.jobs(checked), self._decks, strict=True):
            analyses = tuple(
                jobs.Analysis(
                    a.name,
                    a.command,
                    a.vectors + tuple(extra.get(f"{name}.{a.name}", ())),
                )
                for a in job.analyses
            )
            todo.append(dataclasses.replace(job, analyses=analyses))
        results = self.backend.map(todo)
        out = {}
        for name, result in zip(self._decks, results, strict=True):
            if not result.ok:
                raise RuntimeError(f"{name}: {result.status.value}: {result.message}")
            out[name] = result.vectors
        return out

    def jobs(self, design: Mapping[str, float]) -> list[jobs.SimulationJob]:
        """One job per testbench for a validated design."""
        decks, written = self._decks_for(design)
        params = self._params(design)
        return [
            jobs.SimulationJob(decks[name], params, self._analyses[name], written)
            for name in self._decks
        ]

    # -- simulate --------------------------------------------------------------
    def simulate(
        self,
        designs: Sequence[Mapping[str, float]],
        *,
        force: bool = False,
        progress: bool = False,
    ) -> list[Evaluation]:
        """Evaluate ``designs`` (parameter name -> SI value; missing ones default).

        Bad values raise ``UserInputError`` before anything runs. Simulation
        failures come back as ``Evaluation.status``; each finished design is
        stored as soon as it is done.
        """
        checked = [self.circuit.check_design(dict(d)) for d in designs]
        if self._remote is not None:
            return self._simulate_remote(checked)
        keys = [self.key(d) for d in checked]
        results: list[Evaluation | None] = [None] * len(checked)
        todo: list[int] = []
        for i, key in enumerate(keys):
            stored = (
                None
                if force
                else self.store.latest(key, tuple(s.value for s in DETERMINISTIC))
            )
            if stored is None:
                todo.append(i)
            else:
                results[i] = Evaluation(
                    checked[i],
                    stored.performance,
                    Status(stored.status),
                    stored.message,
                    stored.elapsed,
                    cached=True,
                )
        tb_names = list(self._decks)
        partial: dict[int, dict[str, RawResult]] = {}
        bar = _progress(len(todo), progress)
        # Designs go in chunks, testbench by testbench inside a chunk: a worker
        # then mostly meets the deck it has loaded (alterparam + reset instead
        # of a reload), and each chunk's designs are stored as they complete.
        chunk = len(todo)
        if todo and len(tb_names) > 1:
            chunk = CHUNK_PER_WORKER * self.backend.n_workers
        for start in range(0, len(todo), max(chunk, 1)):
            group = todo[start : start + chunk]
            per_design = [self.jobs(checked[i]) for i in group]
            flat = [jobs_[t] for t in range(len(tb_names)) for jobs_ in per_design]

            def on_result(index: int, raw: RawResult, group=group) -> None:
                design_index = group[index % len(group)]
                testbench = tb_names[index // len(group)]
                partial.setdefault(design_index, {})[testbench] = raw
                if len(partial[design_index]) == len(tb_names):
                    results[design_index] = self._finish(
                        checked[design_index],
                        keys[design_index],
                        partial.pop(design_index),
                    )
                    if bar is not None:
                        bar.update(1)

            self.backend.map(flat, on_result)
        if bar is not None:
            bar.close()
        return [r for r in results if r is not None]

    def simulate_one(
        self, design: Mapping[str, float] | None = None, **kw
    ) -> Evaluation:
        return self.simulate([design or {}], **kw)[0]

    def _simulate_remote(self, checked: list[dict[str, float]]) -> list[Evaluation]:
        """Designs simulated by the server; each new result stored here once."""
        out = []
        for design, answer in zip(checked, self._remote.simulate(checked), strict=True):
            if (
                self.store.latest(answer.key, tuple(s.value for s in DETERMINISTIC))
                is None
            ):
                self.store.add(
                    answer.key,
                    circuit=self.circuit.name,
                    circuit_fingerprint=self.circuit.fingerprint,
                    technology=self.technology.name,
                    corner=self.corner,
                    temperature=self.temperature,
                    params=design,
                    performance=answer.performance,
                    status=answer.status.value,
                    message=answer.message,
                    elapsed=answer.elapsed,
                )
            out.append(
                Evaluation(
                    design,
                    answer.performance,
                    answer.status,
                    answer.message,
                    answer.elapsed,
                    cached=answer.cached,
                )
            )
        return out

    def _finish(
        self, design: dict[str, float], key: str, raws: dict[str, RawResult]
    ) -> Evaluation:
        """Figures of one design from its testbenches' results; store them."""
        status, message = Status.OK, ""
        for raw in raws.values():
            if not raw.ok:
                status, message = raw.status, raw.message
                break
        figures: dict[str, float] = {}
        if status is Status.OK:
            vectors = {name: raw.vectors for name, raw in raws.items()}
            figures = performance(self.circuit, self.technology, vectors, design)
        elapsed = sum(r.elapsed for r in raws.values())
        self.store.add(
            key,
            circuit=self.circuit.name,
            circuit_fingerprint=self.circuit.fingerprint,
            technology=self.technology.name,
            corner=self.corner,
            temperature=self.temperature,
            params=design,
            performance=figures,
            status=status.value,
            message=message,
            elapsed=elapsed,
        )
        return Evaluation(design, figures, status, message, elapsed)


def _progress(total: int, enabled: bool):
    if not enabled or total == 0:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="design", dynamic_ncols=True)
