"""One persistent ngspice shared-library session (lives inside a worker process).

PySpice's ``NgSpiceShared`` raises on any stderr line that is not a warning, so
ngspice's harmless notes ("Starting dynamic gmin stepping") make converged runs
fail. ``NgspiceSession`` keeps every message and classifies them itself; the
return code of ``ngSpice_Command`` is useless (0 even after a fatal error).
"""

from __future__ import annotations

import ctypes.util
import functools
import hashlib
import logging
import os
import re
import time
from pathlib import Path

import numpy as np

from sim.engine.deck_check import check_analysis_command, expand_deck
from sim.engine.job import SimulationJob
from sim.engine.result import RawResult, Status
from sim.errors import UserInputError

# Only final failures: "singular matrix" or "gmin stepping failed" are often
# followed by a successful source stepping or transient op.
_NONCONVERGENCE = re.compile(
    r"DC solution failed|timestep too small"
    r"|iteration limit reached|transient op failed|no convergence",
    re.IGNORECASE,
)
# Failed steppings count as non-convergence only when the analysis aborted.
_STEPPING_FAILED = re.compile(
    r"stepping failed|singular matrix|gmin stepping", re.IGNORECASE
)
_ABORTED = re.compile(r"simulation\(s\) aborted", re.IGNORECASE)
_ERROR = re.compile(
    r"\berror\b|not in the circuit|no such command|undefined parameter"
    r"|cannot compute|unknown (?:parameter|model|subckt)|could not find"
    r"|unable to find|no such vector|can't find|is not available|is invalid",
    re.IGNORECASE,
)
_FATAL = re.compile(r"cannot recover|awaits to be detached", re.IGNORECASE)
# Lines that start another report, ending the context of an error message.
_NEW_REPORT = re.compile(
    r"^(circuit:|note:|warning|reset re-loads|doing analysis|no\. of data rows)",
    re.IGNORECASE,
)
_PARAM_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\Z")
_CONTEXT_LINES = 4  # lines after an error line that belong to its message
# Commands that run programs or read scripts: made harmless aliases for the
# session's life (a second fence behind the deck check). "alias" and
# "unalias" come last so a deck cannot undo them.
_DISABLED_COMMANDS = (
    "shell",
    "source",
    "codemodel",
    "aspice",
    "rspice",
    "edit",
    "gnuplot",
    "bug",
    "cd",
    "unalias",
    "alias",
)
# Environment variables that point ngspice at other init scripts, script and
# input folders or programs: a worker starts without them (``private_env``).
_NGSPICE_ENV = (
    "SPICE_SCRIPTS",
    "SPICE_LIB_DIR",
    "SPICE_EXEC_DIR",
    "SPICE_PATH",
    "SPICE_EDITOR",
    "SPICE_HOST",
    "SPICE_NEWS",
    "SPICE_HELP_DIR",
    "SPICE_BUGADDR",
    "NGSPICE_INPUT_DIR",
)
INIT_FILE = ".spiceinit"


def init_script() -> str:
    """The ``.spiceinit`` a worker's private working folder holds.

    ngspice sources ``./.spiceinit`` instead of the account's
    ``~/.spiceinit`` (which it finds through the password database, not
    ``$HOME``), so this file is all the user-side init there is: one
    thread, and the alias block in force before any deck is read.
    """
    lines = ["* jaxsizer worker init", "set num_threads=1"]
    lines += [
        f"alias {n} echo {n} is disabled in jaxsizer:" for n in _DISABLED_COMMANDS
    ]
    return "\n".join(lines) + "\n"


def private_env(environ: dict[str, str], home: Path) -> dict[str, str]:
    """``environ`` for a worker: its own ``HOME``, no ngspice folder variables."""
    env = {k: v for k, v in environ.items() if k not in _NGSPICE_ENV}
    env["HOME"] = str(home)
    return env


def _with_context(lines: list[str], index: int) -> str:
    """Line ``index`` and the lines that explain it, as one line of text.

    ngspice spreads one error over several messages ("Error on line 26 or
    its substitute:", the line itself, the reason): keep them all.
    """
    parts = [lines[index].strip()]
    for line in lines[index + 1 : index + 1 + _CONTEXT_LINES]:
        text = line.strip()
        if not text or _NEW_REPORT.match(text) or _ABORTED.search(text):
            break
        parts.append(text)
    return " ".join(p.rstrip(":") + ":" for p in parts[:-1]) + " " + parts[-1]


def classify_messages(lines: list[str]) -> tuple[Status, str]:
    """Status implied by ngspice's messages, with the full offending message.

    An analysis that aborts on a bad argument ("TSTOP is invalid") is an
    error, not a non-convergence; only the solver's own failures are.
    """
    aborted = any(_ABORTED.search(line) for line in lines)
    for line in lines:
        if _NONCONVERGENCE.search(line) or (aborted and _STEPPING_FAILED.search(line)):
            return Status.NONCONVERGENCE, line.strip()
    errors = [i for i, line in enumerate(lines) if _ERROR.search(line)]
    # Prefer ngspice's "Error..." lines over warnings that mention a problem.
    errors.sort(key=lambda i: not lines[i].strip().lower().startswith("error"))
    for i in errors:
        return Status.ERROR, _with_context(lines, i).strip()
    for i, line in enumerate(lines):
        if _FATAL.search(line):
            return Status.ERROR, line.strip()
        if _ABORTED.search(line):
            return Status.ERROR, _with_context(lines, max(i - 1, 0)).strip()
    return Status.OK, ""


def _library_path() -> Path | None:
    """The ngspice shared library a session would load (as PySpice finds it)."""
    configured = os.environ.get("NGSPICE_LIBRARY_PATH")
    if configured:
        return Path(configured.format(""))
    name = ctypes.util.find_library("ngspice")
    if not name:
        return None
    if os.path.isabs(name):
        return Path(name)
    dirs = [d for d in os.environ.get("LD_LIBRARY_PATH", "").split(":") if d]
    dirs += ["/usr/local/lib", "/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib"]
    dirs += ["/usr/lib/aarch64-linux-gnu", "/lib/x86_64-linux-gnu", "/lib"]
    for directory in dirs:
        for candidate in (name, "libngspice.so"):
            path = Path(directory) / candidate
            if path.is_file():
                return path
    return None


@functools.cache
def _file_sha256(path: Path, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def simulator_identity() -> str:
    """Which ngspice runs the simulations: the SHA-256 of its shared library
    (part of every store key, so an upgraded simulator re-simulates).

    Found without loading ngspice; "ngspice (library not found)" when the
    library cannot be located (the pool then fails to start anyway).
    """
    path = _library_path()
    try:
        info = path.resolve().stat() if path is not None else None
    except OSError:
        info = None
    if path is None or info is None:
        return "ngspice (library not found)"
    resolved = path.resolve()
    sha = _file_sha256(resolved, info.st_size, info.st_mtime_ns)
    return f"ngspice {resolved.name} sha256:{sha}"


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
        for name in _DISABLED_COMMANDS:
            self.command(f"alias {name} echo {name} is disabled in jaxsizer:")
        self.search_dirs = self._search_dirs()

    def _search_dirs(self) -> tuple[Path, ...]:
        """Folders ngspice tries before an including file's folder for a
        relative include: the working folder, ``sourcepath``, ``inputdir``."""
        dirs = [Path.cwd()]
        for variable in ("sourcepath", "inputdir"):
            for line in self.command(f"echo ${variable}"):
                for word in line.replace("(", " ").replace(")", " ").split():
                    if not word.startswith("$"):
                        dirs.append(Path.cwd() / word)
        return tuple(dict.fromkeys(dirs))

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
        body = job.deck.splitlines()[1:]  # the first line is a title
        lines = [f"* deck {key}"] + [line for line in body if line.strip()] + [""]
        try:  # the assembled deck exactly as ngspice gets it, includes too
            expand_deck("\n".join(lines), f"deck {key}", search_dirs=self.search_dirs)
        except UserInputError as error:
            return [f"Error: deck refused: {error}"], True
        messages, rc = self._load(lines)
        if any(_FATAL.search(m) for m in messages):
            self.fatal = True
        status, _ = classify_messages(messages)
        if rc == 0 and status is Status.OK:
            self._current = key
        else:
            messages = messages + ["Error: the deck could not be loaded"]
        return messages, True

    def _load(self, lines: list[str]) -> tuple[list[str], int]:
        """Hand ``lines`` to ngspice as a circuit (no checks: see ``_select``)."""
        start = len(self._ng.messages)
        keep = [self._ffi.new("char[]", line.encode("utf8")) for line in lines]
        array = self._ffi.new("char *[]", keep + [self._ffi.NULL])
        rc = self._lib.ngSpice_Circ(array)
        return self._ng.messages[start:], rc

    # -- one job ---------------------------------------------------------------
    def run(self, job: SimulationJob) -> RawResult:
        """Simulate one job; failures come back as a status, never raised."""
        t0 = time.perf_counter()
        messages, loaded = self._select(job)
        status, why = classify_messages(messages)
        if status is not Status.OK:
            return RawResult(Status.ERROR, why, {}, time.perf_counter() - t0)
        try:  # only plain analyses reach ngspice's command line
            for analysis in job.analyses:
                check_analysis_command(analysis.command)
        except UserInputError as error:
            return RawResult(Status.ERROR, str(error), {}, time.perf_counter() - t0)
        if not (loaded and job.params == job.deck_params):
            for name, value in job.params:
                if not _PARAM_NAME.match(name):
                    why = f"bad parameter name {name!r}"
                    return RawResult(Status.ERROR, why, {}, time.perf_counter() - t0)
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
