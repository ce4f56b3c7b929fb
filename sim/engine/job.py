"""A simulation request as sent to a worker: a deck, its sizing, what to read."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Analysis:
    """One ngspice analysis command and the vectors to read after it.

    ``command`` is an ngspice interactive command such as ``"op"`` or
    ``"ac dec 20 1 1e10"``; ``vectors`` are names valid in the plot it makes
    (``"v(out)"``, ``"i(vdd)"``, ``"frequency"``) or device quantities
    (``"@m1[gm]"``).
    """

    name: str
    command: str
    vectors: tuple[str, ...]


@dataclass(frozen=True)
class SimulationJob:
    """Everything a worker needs to run one testbench for one sizing.

    ``deck`` is a complete netlist without a ``.control`` block; ``params``
    maps top-level ``.param`` names to numbers, applied with ``alterparam``.
    """

    deck: str
    params: tuple[tuple[str, float], ...]
    analyses: tuple[Analysis, ...]
    # The parameter values written in ``deck``: when they equal ``params`` a
    # freshly loaded deck needs no ``alterparam`` + ``reset``.
    deck_params: tuple[tuple[str, float], ...] = ()

    @property
    def deck_key(self) -> str:
        return hashlib.sha256(self.deck.encode()).hexdigest()[:16]
