"""A run's directory: config, logs, checkpoints and verification data.

``runs/<name>/`` holds ``config.json``, ``metrics.jsonl`` and TensorBoard
event files (``tb/``), ``checkpoint.msgpack`` (loop state, and the policy,
optimiser and rollout state as named nested leaves such as
``policy/actor/l1/kernel``, see ``train.checkpoint``; written atomically;
``train.sizing.load_policy(run)`` restores the policy from the run directory
alone), ``verified.jsonl`` (every design the run
simulated, with its purpose, appended as each simulation batch returns; a
torn last line from a kill is skipped and cut before the next append), the
run's own simulation store ``simulations.sqlite`` (each design stored as it
finishes, so a resumed run is served from it and simulates nothing twice)
and the run's surrogate under ``surrogate/``.

One process writes a run at a time: ``RunDir.lock`` takes an advisory
``fcntl.flock`` on ``.lock`` (released when the process ends, even by
``kill -9``) and writes who holds it there; a second writer is refused in
one line naming the holder's pid, host and start time.
"""

from __future__ import annotations

import datetime
import fcntl
import json
import math
import os
import socket
import tempfile
import time
import zipfile
import zlib
from pathlib import Path
from typing import Any

from flax import serialization

from sim.errors import UserInputError


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def _drop_torn_line(path: Path) -> None:
    """Cut a last line a kill left without its newline, so that the next
    record starts on a line of its own (everything before it is complete)."""
    if not path.is_file():
        return
    with path.open("rb+") as handle:
        size = handle.seek(0, os.SEEK_END)
        if size == 0:
            return
        handle.seek(size - 1)
        if handle.read(1) == b"\n":
            return
        data = path.read_bytes()
        handle.truncate(data.rfind(b"\n") + 1)


def refuse_other_space(run: Path | str, trained: str, asked: str | None) -> None:
    """Refuse to go on with ``run`` in another action space (``asked``; None:
    not given) than the one it was trained in (``trained``)."""
    if asked is not None and asked != trained:
        raise UserInputError(
            f"{run} was trained in the {trained} space, not {asked}: drop "
            "--space (and the --env space), or train a new --run"
        )


LOCK_FILE = ".lock"
_LOCK_RECORD = 256  # bytes of the holder record in the lock file


def _type_problem(value: Any, annotation: str) -> str | None:
    """Why ``value`` does not fit a field annotated ``annotation`` (a string
    such as ``"int | None"``), or None."""
    kinds = {word.strip() for word in str(annotation).split("|")}
    if value is None:
        return None if "None" in kinds else "is null"
    checks = {
        "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "str": lambda v: isinstance(v, str),
        "bool": lambda v: isinstance(v, bool),
        "dict": lambda v: isinstance(v, dict),
        "PPOConfig": lambda v: isinstance(v, dict),
    }
    known = [checks[k] for k in kinds if k in checks]
    if not known or any(check(value) for check in known):
        return None
    return f"is {type(value).__name__}, not {annotation}"


def check_config_shape(data: dict) -> str | None:
    """Why a run's ``config.json`` object cannot be a ``TrainConfig``, or None:
    every known field of the type it is declared with (the PPO settings
    too), the problem and backend settings objects that build."""
    import dataclasses

    from sim.engine.backend import BackendConfig
    from sim.sizing.session import ProblemOptions
    from train.config import TrainConfig
    from train.ppo import PPOConfig

    for cls, values, prefix in (
        (TrainConfig, data, ""),
        (PPOConfig, data.get("ppo", {}), "ppo."),
        (ProblemOptions, data.get("problem", {}), "problem."),
        (BackendConfig, data.get("backend", {}), "backend."),
    ):
        if not isinstance(values, dict):
            return f"{prefix.rstrip('.')} is not an object"
        for f in dataclasses.fields(cls):
            if f.name in values:
                why = _type_problem(values[f.name], f.type)
                if why:
                    return f"{prefix}{f.name} {why}"
    for name, build in (
        ("problem", ProblemOptions.from_json),
        ("backend", lambda v: BackendConfig(**v)),
        ("ppo", lambda v: PPOConfig(**v)),
    ):
        try:
            build(data.get(name, {}))
        except (TypeError, ValueError) as error:  # UserInputError included
            return f"{name}: {' '.join(str(error).split())}"
    return None


class RunDir:
    """Files of one training run."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if self.path.exists() and not self.path.is_dir():
            raise UserInputError(f"--run {self.path} is a file, not a run directory")
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise UserInputError(
                f"--run {self.path}: cannot create the run directory ({error})"
            ) from None
        self._writer = None
        self._lock: int | None = None  # the lock file descriptor while writing

    # -- one writer ----------------------------------------------------------------
    def lock(self) -> None:
        """Become the run's only writer until ``unlock`` or the process ends.

        Raises ``UserInputError`` naming the holder (pid, host, start time)
        when another process writes the run. The holder's record is written
        in one fixed-size write, never truncated first, so a reader sees a
        whole record.
        """
        if self._lock is not None:
            return
        path = self.path / LOCK_FILE
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:
            raise UserInputError(f"cannot lock {path} ({error.strerror})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = ""
            for _ in range(40):  # a holder that has just locked writes soon
                holder = " ".join(
                    os.pread(fd, _LOCK_RECORD, 0).decode(errors="replace").split()
                )
                if holder:
                    break
                time.sleep(0.025)
            os.close(fd)
            raise UserInputError(
                f"{self.path} is being written by {holder or 'another process'}: "
                "wait for it to finish or stop it (one process per run directory)"
            ) from None
        started = datetime.datetime.now(datetime.UTC)
        record = (
            f"pid {os.getpid()} on {socket.gethostname()} since "
            f"{started.strftime('%Y-%m-%d %H:%M:%S UTC')}"
        )
        os.pwrite(
            fd, record.encode()[: _LOCK_RECORD - 1].ljust(_LOCK_RECORD - 1) + b"\n", 0
        )
        self._lock = fd

    def unlock(self) -> None:
        """Stop being the run's writer (the lock file stays, unlocked)."""
        if self._lock is not None:
            os.close(self._lock)  # closing the last descriptor drops the flock
            self._lock = None

    @classmethod
    def existing(cls, path: str | Path) -> RunDir:
        """A run directory that must already hold a run (creates nothing)."""
        path = Path(path)
        if not path.is_dir():
            raise UserInputError(f"no run directory {path}")
        if not (path / "config.json").is_file():
            raise UserInputError(f"{path} holds no run (config.json missing)")
        directory = cls(path)
        problem = directory.surrogate_problem()
        if problem:
            raise UserInputError(
                f"{path / 'surrogate'} is damaged ({problem}): python -m train "
                f"--run {path} --resume fits it again from the verified designs "
                "(no new simulation)"
            )
        return directory

    def surrogate_problem(self) -> str | None:
        """Why the run's ``surrogate/`` cannot be loaded (a truncated or
        damaged file), or None (also when there is none yet)."""
        folder = self.path / "surrogate"
        if not folder.is_dir():
            return None
        try:
            meta = json.loads((folder / "surrogate.json").read_text())
        except FileNotFoundError:
            return "surrogate.json missing"
        except (OSError, ValueError) as error:  # JSON and UTF-8 errors too
            return f"surrogate.json: {' '.join(str(error).split())}"
        if not isinstance(meta, dict):
            return "surrogate.json is not an object"
        names = ["weights.npz", "fast.npz", "physics.npz"]
        for name in names:
            path = folder / name
            if name != "weights.npz" and not path.exists():
                continue
            try:
                with zipfile.ZipFile(path) as archive:
                    bad = archive.testzip()
            except (  # zipfile's own errors for a damaged or foreign archive
                OSError,
                zipfile.BadZipFile,
                EOFError,
                ValueError,
                NotImplementedError,
                zlib.error,
            ) as error:
                return f"{name}: {' '.join(str(error).split())}"
            if bad is not None:
                return f"{name}: member {bad} is corrupt"
        return None

    # -- config ------------------------------------------------------------------
    def write_config(self, config: dict) -> None:
        (self.path / "config.json").write_text(json.dumps(config, indent=1) + "\n")

    def read_config(self) -> dict:
        """The run's settings; a ``UserInputError`` when missing or corrupt."""
        path = self.path / "config.json"
        try:
            data = json.loads(path.read_text())
        except OSError:
            raise UserInputError(
                f"{self.path} holds no run (config.json missing)"
            ) from None
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise UserInputError(f"{path} is corrupt ({error})") from None
        if not isinstance(data, dict):
            raise UserInputError(f"{path} is corrupt (not an object)")
        problem = check_config_shape(data)
        if problem:
            raise UserInputError(f"{path} is corrupt ({problem})")
        return data

    # -- what the run was trained on ----------------------------------------------
    def check_fingerprint(self, fingerprint: str) -> None:
        """Record the problem's fingerprint (``sim.sizing.session.Session.fingerprint``)
        on the run's first use; refuse later uses whose circuit or technology
        files, target box, parameter space or ngspice changed since."""
        path = self.path / "fingerprint.txt"
        if not path.is_file():
            path.write_text(fingerprint + "\n")
            return
        if path.read_text().strip() != fingerprint:
            raise UserInputError(
                f"{self.path}: the circuit or technology files (netlists, models, "
                "target box or parameter bounds) or ngspice changed since this run "
                "was trained; restore them or train a new run"
            )

    # -- append-only records -----------------------------------------------------
    def _append(self, name: str, record: dict) -> None:
        _drop_torn_line(self.path / name)
        with (self.path / name).open("a") as handle:
            handle.write(json.dumps(_clean(record)) + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def add_verified(self, record: dict) -> None:
        self._append("verified.jsonl", record)

    def _records(self, name: str) -> list[dict]:
        """The JSON objects of an append-only file, one per line.

        A line a kill cut is skipped (every complete one is kept); a line
        that is not UTF-8 or not a JSON object anywhere else means the file
        was damaged: a ``UserInputError`` naming it, and nothing is changed.
        """
        path = self.path / name
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as error:
            raise UserInputError(f"cannot read {path} ({error.strerror})") from None
        lines = data.split(b"\n")
        records = []
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            torn = number == len(lines)  # the last line, without its newline
            try:
                record = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError:
                if torn:
                    continue
                raise UserInputError(
                    f"{path}:{number} is damaged (not UTF-8): repair or delete "
                    "that line"
                ) from None
            except json.JSONDecodeError:
                continue  # a line cut by a kill: every complete one is kept
            if not isinstance(record, dict):
                raise UserInputError(
                    f"{path}:{number} is damaged (not a JSON object): repair or "
                    "delete that line"
                )
            records.append(record)
        return records

    def verified(self) -> list[dict]:
        """Every verified record; a ``UserInputError`` for a damaged file."""
        records = self._records("verified.jsonl")
        for number, record in enumerate(records, start=1):
            if not isinstance(record.get("purpose"), str) or not isinstance(
                record.get("params"), dict
            ):
                raise UserInputError(
                    f"{self.path / 'verified.jsonl'}: record {number} is damaged "
                    "(no purpose or params): repair or delete that line"
                )
        return records

    def last_metrics(self) -> dict:
        """The newest line of metrics.jsonl ({} if none)."""
        records = self._records("metrics.jsonl")
        return records[-1] if records else {}

    def log(self, step: int, metrics: dict[str, float]) -> None:
        """Append to metrics.jsonl and TensorBoard."""
        self._append("metrics.jsonl", {"step": step, **metrics})
        if self._writer is None:
            from tensorboardX import SummaryWriter

            self._writer = SummaryWriter(str(self.path / "tb"))
        for key, value in metrics.items():
            if isinstance(value, (int, float)) and math.isfinite(value):
                self._writer.add_scalar(key, value, step)
        self._writer.flush()

    # -- checkpoints -------------------------------------------------------------
    @property
    def checkpoint_path(self) -> Path:
        return self.path / "checkpoint.msgpack"

    def save_checkpoint(self, state: dict) -> None:
        """Write ``state`` (a nested dict of arrays, numbers and strings) as
        msgpack, replacing the previous checkpoint atomically."""
        data = serialization.msgpack_serialize(state)
        fd, tmp = tempfile.mkstemp(dir=self.path, prefix=".checkpoint.")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, self.checkpoint_path)

    def load_checkpoint(self) -> dict | None:
        """The saved nested dict (None: no checkpoint yet); a
        ``UserInputError`` when the file is corrupt."""
        path = self.checkpoint_path
        if not path.is_file():
            return None
        try:
            return serialization.msgpack_restore(path.read_bytes())
        except Exception as error:  # msgpack raises several kinds
            raise UserInputError(f"{path} is corrupt ({error})") from None

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
