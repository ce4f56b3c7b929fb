"""Closed loop through SPICE: size requests with the helper, simulate, compare.

Requests are drawn from held-out sweep points (so each (gm/Id, fug, Vds, Vbs)
is one a real device reaches) with a drain current for a width drawn
log-uniformly from ``widths``. Each accepted request is sized by
``DeviceModel.sizing`` and simulated (``op``) as a single device with the
returned W, L (nf = 1) and the applied Vgs, Vds, Vbs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.engine.backend import SimulationBackend
from sim.format.technology import load_technology
from surrogate.device.dataset import INVERSE_REGION, inverse_arrays, region_mask
from surrogate.device.sizing import DeviceModel
from surrogate.device.sweep import op_jobs
from surrogate.device.table import SweepTable


@dataclass
class ClosedLoopResult:
    """Per-request arrays (accepted requests only) and counts."""

    requested: int
    refused: int
    failed: int  # simulations that did not finish
    gmoverid_error: np.ndarray  # relative, |achieved/requested - 1|
    current_error: np.ndarray  # relative

    def summary(self) -> dict:
        def stats(v):
            if len(v) == 0:
                return {"median": float("nan"), "p95": float("nan")}
            return {"median": float(np.median(v)), "p95": float(np.percentile(v, 95))}

        return {
            "requested": self.requested,
            "refused": self.refused,
            "failed": self.failed,
            "gmoverid_rel_error": stats(self.gmoverid_error),
            "current_rel_error": stats(self.current_error),
        }


def sample_requests(
    held_out: SweepTable,
    n: int,
    widths: tuple[float, float],
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """``n`` requests: gm/Id (1/V), fug (Hz), Vds, Vbs (V) from held-out points
    in the characterised region, and Id (A) = their Id/W times a width drawn
    log-uniformly in ``widths`` (m)."""
    rng = np.random.default_rng(seed)
    cols = held_out.columns()
    x, y = inverse_arrays(cols, region_mask(cols, INVERSE_REGION))
    pick = rng.choice(len(x), size=n, replace=len(x) < n)
    width = np.exp(rng.uniform(np.log(widths[0]), np.log(widths[1]), size=n))
    return {
        "gmoverid": x[pick, 0],
        "fug": 10 ** x[pick, 1],
        "vds": x[pick, 2],
        "vbs": x[pick, 3],
        "i_d": 10 ** y[pick, 0] * width,
    }


def run_closed_loop(
    model: DeviceModel,
    requests: dict[str, np.ndarray],
    pool: SimulationBackend,
    corner: str = "tt",
    temperature: float = 27.0,
) -> ClosedLoopResult:
    """Size ``requests`` (see ``sample_requests``) and check them in ngspice."""
    tech = load_technology(model.tech)
    sized = model.sizing(
        requests["gmoverid"],
        requests["fug"],
        requests["i_d"],
        requests["vds"],
        requests["vbs"],
    )
    ok = np.flatnonzero(sized.valid)
    jobs = op_jobs(
        tech,
        model.device,
        {
            "w": sized.w[ok],
            "l": sized.l[ok],
            "vgs": sized.vgs[ok],
            "vds": requests["vds"][ok],
            "vbs": requests["vbs"][ok],
        },
        corner,
        temperature,
    )
    kind = tech.device(model.meta["polarity"])
    results = pool.map(jobs)
    gm_err, id_err, failed = [], [], 0
    for index, result in zip(ok, results, strict=True):
        if not result.ok:
            failed += 1
            continue
        i_d = abs(float(result.vectors[f"op:{kind.op_vector('M1', 'id')}"][0]))
        gm = abs(float(result.vectors[f"op:{kind.op_vector('M1', 'gm')}"][0]))
        gm_err.append(abs(gm / i_d / requests["gmoverid"][index] - 1))
        id_err.append(abs(i_d / requests["i_d"][index] - 1))
    return ClosedLoopResult(
        requested=len(sized.valid),
        refused=int((~sized.valid).sum()),
        failed=failed,
        gmoverid_error=np.asarray(gm_err),
        current_error=np.asarray(id_err),
    )
