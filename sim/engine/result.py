"""What one simulation returns: a status value, never an exception inside loops."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import numpy as np


class Status(enum.StrEnum):
    """Outcome of one simulation."""

    OK = "ok"
    NONCONVERGENCE = "nonconvergence"
    TIMEOUT = "timeout"
    CRASH = "crash"  # the simulator process died (segfault, kill -9)
    MEASUREMENT_MISSING = "measurement_missing"
    ERROR = "error"  # ngspice rejected the netlist or a command


@dataclass
class RawResult:
    """Raw vectors of one simulation as read from ngspice.

    ``vectors`` maps ``"<analysis>:<vector>"`` (e.g. ``"ac:v(out)"``,
    ``"op:@m1[gm]"``, ``"ac:frequency"``) to float64 or complex128 arrays
    ``[n_points]`` (op results have one point).
    """

    status: Status
    message: str = ""
    vectors: dict[str, np.ndarray] = field(default_factory=dict)
    elapsed: float = 0.0  # seconds spent in ngspice (or waiting for it)

    @property
    def ok(self) -> bool:
        return self.status is Status.OK
