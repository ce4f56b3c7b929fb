"""A run's directory: config, logs, checkpoints and verification data.

``runs/<name>/`` holds ``config.json``, ``metrics.jsonl`` and TensorBoard
event files (``tb/``), ``checkpoint.msgpack`` (policy, optimiser, surrogate
and loop state, written atomically), ``verified.jsonl`` (every design the run
simulated, appended as each one finishes, so a killed run loses none) and the
run's surrogate under ``surrogate/``.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

from flax import serialization


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


class RunDir:
    """Files of one training run."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self._writer = None

    # -- config ------------------------------------------------------------------
    def write_config(self, config: dict) -> None:
        (self.path / "config.json").write_text(json.dumps(config, indent=1) + "\n")

    def read_config(self) -> dict:
        return json.loads((self.path / "config.json").read_text())

    # -- append-only records -----------------------------------------------------
    def _append(self, name: str, record: dict) -> None:
        with (self.path / name).open("a") as handle:
            handle.write(json.dumps(_clean(record)) + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def add_verified(self, record: dict) -> None:
        self._append("verified.jsonl", record)

    def verified(self) -> list[dict]:
        path = self.path / "verified.jsonl"
        if not path.is_file():
            return []
        records = []
        for line in path.read_text().splitlines():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                break  # a line cut by a kill: everything before it is complete
        return records

    def last_metrics(self) -> dict:
        """The newest line of metrics.jsonl ({} if none)."""
        path = self.path / "metrics.jsonl"
        if not path.is_file():
            return {}
        lines = path.read_text().splitlines()
        return json.loads(lines[-1]) if lines else {}

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
    def save_checkpoint(self, state: dict) -> None:
        data = serialization.msgpack_serialize(state)
        fd, tmp = tempfile.mkstemp(dir=self.path, prefix=".checkpoint.")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, self.path / "checkpoint.msgpack")

    def load_checkpoint(self) -> dict | None:
        path = self.path / "checkpoint.msgpack"
        if not path.is_file():
            return None
        return serialization.msgpack_restore(path.read_bytes())

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
