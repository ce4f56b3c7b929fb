"""One persistent ngspice shared-library session (lives inside a worker process).

PySpice's ``NgSpiceShared`` raises on any stderr line that is not a warning, so
ngspice's harmless notes ("Starting dynamic gmin stepping") make converged runs
fail. ``NgspiceSession`` keeps every message and classifies them itself; the
return code of ``ngSpice_Command`` is useless (0 even after a fatal error).
"""

from __future__ import annotations

import logging
import re
import time

import numpy as np

from sim.job import SimulationJob
from sim.result import RawResult, Status

# Only final failures: "singular matrix" or "gmin stepping failed" are often
# followed by a successful source stepping or transient op.
_NONCONVERGENCE = re.compile(
    r"DC solution failed|simulation\(s\) aborted|timestep too small"
    r"|iteration limit reached|transient op failed|no convergence",
    re.IGNORECASE,
)
_ERROR = re.compile(
    r"\berror\b|not in the circuit|no such command|undefined parameter"
    r"|cannot compute|unknown (?:parameter|model|subckt)|could not find"
    r"|unable to find|no such vector|can't find|is not available",
    re.IGNORECASE,
)
_FATAL = re.compile(r"cannot recover|awaits to be detached", re.IGNORECASE)


def classify_messages(lines: list[str]) -> tuple[Status, str]:
    """Status implied by ngspice's messages, with the first offending line."""
    for line in lines:
        if _NONCONVERGENCE.search(line):
            return Status.NONCONVERGENCE, line.strip()
    for line in lines:
        if _ERROR.search(line) or _FATAL.search(line):
            return Status.ERROR, line.strip()
    return Status.OK, ""


def _make_session_class():
    # PySpice is imported lazily: the pool's parent process never loads ngspice.
    logging.getLogger("PySpice").setLevel(logging.CRITICAL)
    from PySpice.Spice.NgSpice.Shared import NgSpiceShared, ffi

    class _Shared(NgSpiceShared):
        def __init__(self) -> None:
            self.messages: list[str] = []
            super().__init__(ngspice_id=0, send_data=False)

        def send_char(self, message: str, ngspice_id: int) -> int:
            prefix, _, content = message.partition(" ")
            self.messages.append(content if prefix in ("stdout", "stderr") else message)
            return 0

    return _Shared, ffi


class NgspiceSession:
    """A loaded ngspice library that runs ``SimulationJob``s.

    A deck stays loaded while jobs keep using it; each job applies its sizing
    with ``alterparam`` + ``reset``, which is exact across model bins.
    """

    def __init__(self) -> None:
        shared_cls, self._ffi = _make_session_class()
        self._ng = shared_cls()
        self._lib = self._ng._ngspice_shared
        self._current: str | None = None  # key of the loaded deck
        self.fatal = False  # the library must not be used again
        self.command("set num_threads=1")

    # -- low level -------------------------------------------------------------
    def command(self, text: str) -> list[str]:
        """Run one ngspice command; return the messages it produced."""
        start = len(self._ng.messages)
        self._lib.ngSpice_Command(text.encode("ascii"))
        new = self._ng.messages[start:]
        if any(_FATAL.search(line) for line in new):
            self.fatal = True
        return new

    def vector(self, name: str) -> np.ndarray | None:
        """Copy of a vector of the current plot (or a device quantity), or None."""
        info = self._lib.ngGet_Vec_Info(name.encode("ascii"))
        ffi = self._ffi
        if info == ffi.NULL or info.v_length <= 0:
            return None
        n = info.v_length
        if info.v_compdata != ffi.NULL:
            raw = np.frombuffer(ffi.buffer(info.v_compdata, 16 * n), dtype=np.float64)
            return (raw[0::2] + 1j * raw[1::2]).astype(np.complex128)
        if info.v_realdata == ffi.NULL:
            return None
        return np.frombuffer(ffi.buffer(info.v_realdata, 8 * n), np.float64).copy()

    def _analysis_vector(self, name: str, plots: list[str]) -> np.ndarray | None:
        """``name`` from the plots an analysis made (a noise analysis makes two)."""
        if not name.startswith("@"):
            for plot in plots:
                value = self.vector(f"{plot}.{name}")
                if value is not None:
                    return value
        return self.vector(name)

    def _select(self, job: SimulationJob) -> tuple[list[str], bool]:
        """Make the job's deck current; return messages and whether it was loaded.

        Only one deck is kept loaded: with several circuits, ngspice 39's
        ``reset`` can re-load the wrong one (measured), so a different deck
        replaces the current one (``remcirc`` + load).
        """
        key = job.deck_key
        if key == self._current:
            return [], False
        if self._current is not None:
            self.command("remcirc")
            self._current = None
        start = len(self._ng.messages)
        body = job.deck.splitlines()[1:]  # the first line is a title
        lines = [f"* deck {key}"] + [line for line in body if line.strip()] + [""]
        keep = [self._ffi.new("char[]", line.encode("utf8")) for line in lines]
        array = self._ffi.new("char *[]", keep + [self._ffi.NULL])
        rc = self._lib.ngSpice_Circ(array)
        messages = self._ng.messages[start:]
        if any(_FATAL.search(m) for m in messages):
            self.fatal = True
        status, _ = classify_messages(messages)
        if rc == 0 and status is Status.OK:
            self._current = key
        else:
            messages = messages + ["Error: the deck could not be loaded"]
        return messages, True

    # -- one job ---------------------------------------------------------------
    def run(self, job: SimulationJob) -> RawResult:
        """Simulate one job; failures come back as a status, never raised."""
        t0 = time.perf_counter()
        messages, loaded = self._select(job)
        status, why = classify_messages(messages)
        if status is not Status.OK:
            return RawResult(Status.ERROR, why, {}, time.perf_counter() - t0)
        if not (loaded and job.params == job.deck_params):
            for name, value in job.params:
                messages += self.command(f"alterparam {name.lower()}={float(value)!r}")
            messages += self.command("reset")
        status, why = classify_messages(messages)
        vectors: dict[str, np.ndarray] = {}
        if status is Status.OK:
            for analysis in job.analyses:
                before = set(self._ng.plot_names)
                out = self.command(analysis.command)
                status, why = classify_messages(out)
                if status is not Status.OK:
                    break
                plots = [p for p in self._ng.plot_names if p not in before]
                for name in analysis.vectors:
                    value = self._analysis_vector(name, plots)
                    if value is None or not np.all(np.isfinite(value)):
                        status = Status.MEASUREMENT_MISSING
                        why = f"vector {name} missing after '{analysis.command}'"
                        break
                    vectors[f"{analysis.name}:{name}"] = value
                if status is not Status.OK:
                    break
        self.command("destroy all")
        if self.fatal and status is Status.OK:
            status, why = Status.ERROR, "ngspice reported a fatal error"
        return RawResult(status, why, vectors, time.perf_counter() - t0)
