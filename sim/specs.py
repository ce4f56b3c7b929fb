"""Feasible target specs: ranges derived from simulated designs, and sampling.

Like AutoCkt's and OpenFASOC's ``gen_specs``: simulate random designs, keep the
"anchors" (designs whose spec figures all exist), and set each spec's range
between an easy and a hard percentile of the anchors' values. Environments draw a
target by picking an anchor and, for each spec, a value from the range that
the anchor still meets (``envs.definition.sample_target``), so every sampled
target is met by at least one known design. The result is stored beside the
circuit as ``feasible_<tech>.json``.
"""

from __future__ import annotations

import datetime
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.circuit import Circuit, Spec

EASY_HARD_PERCENTILES = {"lower": (10.0, 70.0), "upper": (90.0, 30.0)}
MAX_ANCHORS = 512


@dataclass(frozen=True)
class FeasibleSpecs:
    """Spec ranges and the anchor designs that make every target feasible.

    ``anchors`` is ``[n_anchors, n_specs]`` (spec order of ``specs``),
    ``anchor_params`` the matching designs.
    """

    circuit: str
    technology: str
    corner: str
    specs: tuple[Spec, ...]
    anchors: np.ndarray
    anchor_params: tuple[dict[str, float], ...]
    designs: int

    def to_json(self) -> dict:
        return {
            "circuit": self.circuit,
            "technology": self.technology,
            "corner": self.corner,
            "created": datetime.date.today().isoformat(),
            "designs_simulated": self.designs,
            "specs": {
                s.measure: {
                    "bound": s.bound,
                    "range": [s.low, s.high],
                    "scale": s.scale,
                }
                for s in self.specs
            },
            "anchors": {
                "performance": self.anchors.tolist(),
                "params": list(self.anchor_params),
            },
        }

    @classmethod
    def from_json(cls, data: dict, circuit: Circuit) -> FeasibleSpecs:
        by_name = {s.measure: s for s in circuit.specs}
        specs = tuple(
            Spec(
                name,
                v["bound"],
                float(v["range"][0]),
                float(v["range"][1]),
                v.get("scale", by_name[name].scale if name in by_name else "linear"),
            )
            for name, v in data["specs"].items()
        )
        return cls(
            data["circuit"],
            data["technology"],
            data.get("corner", "tt"),
            specs,
            np.asarray(data["anchors"]["performance"], np.float64),
            tuple(data["anchors"]["params"]),
            int(data["designs_simulated"]),
        )


def feasible_file(circuit: Circuit, technology: str) -> Path:
    return circuit.directory / f"feasible_{technology}.json"


def derive_feasible_specs(
    circuit: Circuit, technology: str, corner: str, evaluations: Sequence
) -> FeasibleSpecs:
    """Spec ranges from simulated ``evaluations`` (``sim.simulator.Evaluation``).

    Usable designs are the successful ones whose spec figures are all finite
    (and phase margin positive when it is a spec). Lower-bound specs span their
    10th to 70th percentile, upper-bound specs the 90th to 30th; the anchors
    are the usable designs that meet every spec at its easy end.
    """
    names = [s.measure for s in circuit.specs]
    rows, params = [], []
    for e in evaluations:
        if not e.ok:
            continue
        values = [e.performance.get(n, math.nan) for n in names]
        if not all(math.isfinite(v) for v in values):
            continue
        if "pm" in names and e.performance["pm"] <= 0:
            continue
        rows.append(values)
        params.append(dict(e.params))
    if len(rows) < 10:
        raise ValueError(f"only {len(rows)} usable designs: simulate more")
    anchors = np.asarray(rows)
    specs = []
    for k, spec in enumerate(circuit.specs):
        easy_q, hard_q = EASY_HARD_PERCENTILES[spec.bound]
        easy, hard = np.percentile(anchors[:, k], [easy_q, hard_q])
        low, high = (easy, hard) if spec.bound == "lower" else (hard, easy)
        scale = spec.scale if low > 0 else "linear"
        specs.append(Spec(spec.measure, spec.bound, float(low), float(high), scale))
    # Only designs that meet every spec at its easy end can anchor targets.
    meets = np.ones(len(anchors), bool)
    for k, spec in enumerate(specs):
        if spec.bound == "lower":
            meets &= anchors[:, k] >= spec.low
        else:
            meets &= anchors[:, k] <= spec.high
    anchors = anchors[meets]
    params = [p for p, keep in zip(params, meets, strict=True) if keep]
    if len(anchors) == 0:
        raise ValueError("no design meets every spec at its easy end")
    if len(anchors) > MAX_ANCHORS:
        keep = np.random.default_rng(0).choice(len(anchors), MAX_ANCHORS, replace=False)
        anchors = anchors[np.sort(keep)]
        params = [params[i] for i in np.sort(keep)]
    return FeasibleSpecs(
        circuit.name,
        technology,
        corner,
        tuple(specs),
        anchors,
        tuple(params),
        len(evaluations),
    )


def write_feasible(feasible: FeasibleSpecs, path: Path) -> None:
    path.write_text(json.dumps(feasible.to_json(), indent=1) + "\n")


def load_feasible(circuit: Circuit, technology: str) -> FeasibleSpecs | None:
    """The stored feasible specs of a circuit on a technology, if any."""
    path = feasible_file(circuit, technology)
    if not path.is_file():
        return None
    return FeasibleSpecs.from_json(json.loads(path.read_text()), circuit)
