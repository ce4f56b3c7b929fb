"""Characterise one transistor with nested ngspice DC sweeps.

One ``SimulationJob`` per (W, L, Vbs) runs ``dc vg ... vd ...`` (Vgs inner,
Vds outer), so a single ngspice run gives ``n_vds * n_vgs`` operating points.
Device quantities are read at every sweep point from ``.save``d vectors
(``@m1[gm]`` for a plain model, ``@m.xm1.m<subckt>[gm]`` for a subcircuit).

Voltages are polarity-normalised: for a pmos the sweep applies negative Vgs
and Vds and the table stores their magnitudes (|Vgs|, |Vds|, |Id|, |vth|,
|vdsat|); Vbs is stored as |Vbs| for a pmos (reverse bias, Vb above Vs, so the
magnitude equals the applied value) and as the applied, non-positive Vbs for an
nmos. Table voltages are the *applied* terminal voltages, not the internal ones
sky130 reports after its series resistances.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sim.engine.backend import SimulationBackend
from sim.engine.job import Analysis, SimulationJob
from sim.errors import UserInputError
from sim.format.netlist import format_value
from sim.format.technology import Technology
from surrogate.device.table import QUANTITIES, SweepTable

DEVICES = {
    "sky130": {"nfet_01v8": "nmos", "pfet_01v8": "pmos"},
    "generic": {"nmos": "nmos", "pmos": "pmos"},
}
"""Characterisable devices per built-in technology: device name -> polarity."""


@dataclass(frozen=True)
class Ramp:
    """An arithmetic voltage ramp ``start + k * step`` for k < n (volts)."""

    start: float
    step: float
    n: int

    @property
    def values(self) -> np.ndarray:
        return self.start + self.step * np.arange(self.n)

    @property
    def stop(self) -> float:
        return self.start + self.step * (self.n - 1)

    def shifted(self, fraction: float) -> Ramp:
        """The ramp moved by ``fraction`` of a step, one point shorter."""
        return Ramp(self.start + fraction * self.step, self.step, self.n - 1)


@dataclass(frozen=True)
class SweepGrid:
    """Where a device is characterised. Lengths/widths in metres, volts.

    ``vbs`` values are in the table's convention (nmos <= 0, pmos >= 0).
    """

    widths: tuple[float, ...]
    lengths: tuple[float, ...]
    vbs: tuple[float, ...]
    vgs: Ramp
    vds: Ramp

    @property
    def n_points(self) -> int:
        return (
            len(self.widths)
            * len(self.lengths)
            * len(self.vbs)
            * self.vgs.n
            * self.vds.n
        )


def polarity_of(tech: Technology, device: str) -> str:
    """``"nmos"``/``"pmos"`` for a device name of a built-in technology."""
    devices = DEVICES.get(tech.name)
    if devices is None:
        raise UserInputError(
            f"no device characterisation defined for technology {tech.name!r}; "
            f"use one of {', '.join(DEVICES)}"
        )
    if device not in devices:
        raise UserInputError(
            f"unknown device {device!r} for {tech.name}; "
            f"choose one of {', '.join(devices)}"
        )
    return devices[device]


def _log_lengths(l_min: float, ratio: float, n: int) -> tuple[float, ...]:
    # Rounded to 1 nm so the netlist value is exactly the table's.
    return tuple(round(v * 1e9) * 1e-9 for v in np.geomspace(l_min, l_min * ratio, n))


def reference_grid(tech: Technology, device: str, w_ref: float) -> SweepGrid:
    """The fine grid at the reference width: what the inverse network learns."""
    polarity = polarity_of(tech, device)
    vmax = tech.vdd
    sign = 1.0 if polarity == "pmos" else -1.0
    n_vgs = int(round(vmax / 0.025)) + 1 if tech.vdd > 1.5 else 61
    n_vds = int(round(vmax / 0.05)) + 1 if tech.vdd > 1.5 else 49
    vbs_max = 0.75 if tech.vdd > 1.5 else 0.6
    return SweepGrid(
        widths=(w_ref,),
        lengths=_log_lengths(tech.length_limits[0], 20.0, 12),
        vbs=tuple(sign * float(v) for v in np.linspace(0.0, vbs_max, 4)),
        vgs=Ramp(0.0, vmax / (n_vgs - 1), n_vgs),
        vds=Ramp(0.0, vmax / (n_vds - 1), n_vds),
    )


def width_grid(tech: Technology, device: str, widths: tuple[float, ...]) -> SweepGrid:
    """A coarser grid over many widths: what the forward network learns."""
    fine = reference_grid(tech, device, widths[0])
    n_vgs = (fine.vgs.n - 1) // 2 + 1
    n_vds = (fine.vds.n - 1) // 2 + 1
    return SweepGrid(
        widths=widths,
        lengths=fine.lengths,
        vbs=(fine.vbs[0], fine.vbs[len(fine.vbs) // 2], fine.vbs[-1]),
        vgs=Ramp(0.0, fine.vgs.step * 2, n_vgs),
        vds=Ramp(0.0, fine.vds.step * 2, n_vds),
    )


def held_out_grid(grid: SweepGrid) -> SweepGrid:
    """Points between the grid's: geometric-mean lengths, mid Vbs/Vgs/Vds."""
    lengths = np.sqrt(np.array(grid.lengths[:-1]) * np.array(grid.lengths[1:]))
    vbs = (np.array(grid.vbs[:-1]) + np.array(grid.vbs[1:])) / 2
    return SweepGrid(
        widths=grid.widths,
        lengths=tuple(round(v * 1e9) * 1e-9 for v in lengths),
        vbs=tuple(float(v) for v in vbs),
        vgs=grid.vgs.shifted(0.5),
        vds=grid.vds.shifted(0.5),
    )


def sweep_deck(tech: Technology, device: str, corner: str, temperature: float) -> str:
    """The characterisation deck; ``wsweep``/``lsweep`` (netlist units) and
    ``vbsweep``, ``vgsweep``, ``vdsweep`` (applied volts) are ``.param``s
    changed per job (a DC sweep overrides the swept sources' values)."""
    polarity = polarity_of(tech, device)
    kind = tech.device(polarity)
    name = kind.instance("M1")
    vectors = [kind.op_vector("M1", q) for q in QUANTITIES]
    extra = " nf=1" if kind.kind == "subcircuit" else ""
    return "\n".join(
        [
            f"* jaxsizer device sweep: {tech.name} {device} ({corner}, "
            f"{temperature:g} C)",
            *tech.includes(corner),
            ".param wsweep=1 lsweep=1 vbsweep=0 vgsweep=0 vdsweep=0",
            f"{name} d g 0 b {kind.name} w={{wsweep}} l={{lsweep}}{extra}",
            "vd d 0 {vdsweep}",
            "vg g 0 {vgsweep}",
            "vb b 0 {vbsweep}",
            f".temp {format_value(temperature)}",
            ".save v(g) v(d) " + " ".join(vectors),
            ".end",
        ]
    )


def sweep_jobs(
    tech: Technology, device: str, grid: SweepGrid, corner: str, temperature: float
) -> tuple[list[SimulationJob], list[tuple[int, int, int]]]:
    """One job per (W, L, Vbs) and the table index of each."""
    polarity = polarity_of(tech, device)
    sign = -1.0 if polarity == "pmos" else 1.0
    kind = tech.device(polarity)
    deck = sweep_deck(tech, device, corner, temperature)
    g, d = grid.vgs, grid.vds
    command = (
        f"dc vg {sign * g.start!r} {sign * g.stop!r} {sign * g.step!r} "
        f"vd {sign * d.start!r} {sign * d.stop!r} {sign * d.step!r}"
    )
    vectors = ("v(g)", "v(d)") + tuple(kind.op_vector("M1", q) for q in QUANTITIES)
    analysis = (Analysis("dc", command, vectors),)
    unit = tech.length_unit
    jobs, index = [], []
    for iw, w in enumerate(grid.widths):
        for il, length in enumerate(grid.lengths):
            for ib, vbs in enumerate(grid.vbs):
                params = (
                    ("wsweep", float(format_value(w / unit))),
                    ("lsweep", float(format_value(length / unit))),
                    ("vbsweep", float(vbs)),
                )
                jobs.append(SimulationJob(deck, params, analysis))
                index.append((iw, il, ib))
    return jobs, index


def run_sweep(
    tech: Technology,
    device: str,
    grid: SweepGrid,
    pool: SimulationBackend,
    corner: str = "tt",
    temperature: float = 27.0,
    progress: Callable[[int], None] | None = None,
) -> SweepTable:
    """Simulate ``grid``; failed jobs leave NaN in the table (counted in meta)."""
    polarity = polarity_of(tech, device)
    jobs, index = sweep_jobs(tech, device, grid, corner, temperature)
    shape = (len(grid.widths), len(grid.lengths), len(grid.vbs), grid.vds.n, grid.vgs.n)
    data = {q: np.full(shape, np.nan, np.float32) for q in QUANTITIES}
    kind = tech.device(polarity)
    failures: list[str] = []
    want_g = np.tile(grid.vgs.values, grid.vds.n)
    want_d = np.repeat(grid.vds.values, grid.vgs.n)
    sign = -1.0 if polarity == "pmos" else 1.0

    def store(i: int, result) -> None:
        if progress is not None:
            progress(1)
        iw, il, ib = index[i]
        if not result.ok:
            failures.append(f"{jobs[i].params}: {result.status} {result.message}")
            return
        vg = result.vectors["dc:v(g)"] * sign
        vd = result.vectors["dc:v(d)"] * sign
        if vg.shape != want_g.shape or not (
            np.allclose(vg, want_g, atol=1e-6) and np.allclose(vd, want_d, atol=1e-6)
        ):
            failures.append(f"{jobs[i].params}: sweep points differ from the grid")
            return
        for q in QUANTITIES:
            values = np.abs(result.vectors[f"dc:{kind.op_vector('M1', q)}"])
            data[q][iw, il, ib] = values.reshape(grid.vds.n, grid.vgs.n)

    pool.map(jobs, on_result=store)
    return SweepTable(
        tech=tech.name,
        device=device,
        polarity=polarity,
        corner=corner,
        temperature=temperature,
        w=np.array(grid.widths),
        l=np.array(grid.lengths),
        vbs=np.array(grid.vbs),
        vds=grid.vds.values,
        vgs=grid.vgs.values,
        data=data,
        failures=tuple(failures),
    )


def op_jobs(
    tech: Technology,
    device: str,
    sizes: dict[str, np.ndarray],
    corner: str = "tt",
    temperature: float = 27.0,
) -> list[SimulationJob]:
    """One ``op`` job per device: ``sizes`` maps ``w, l`` (m) and ``vgs, vds,
    vbs`` (table convention: magnitudes for a pmos) to equal-length arrays.

    Each result holds ``op:<vector>`` for id, gm, gds, cgg of the device
    (magnitudes are the caller's to take).
    """
    polarity = polarity_of(tech, device)
    sign = -1.0 if polarity == "pmos" else 1.0
    kind = tech.device(polarity)
    deck = sweep_deck(tech, device, corner, temperature)
    vectors = tuple(kind.op_vector("M1", q) for q in ("id", "gm", "gds", "cgg"))
    analysis = (Analysis("op", "op", vectors),)
    unit = tech.length_unit
    jobs = []
    for w, length, vgs, vds, vbs in zip(
        *(np.asarray(sizes[k], np.float64) for k in ("w", "l", "vgs", "vds", "vbs")),
        strict=True,
    ):
        params = (
            ("wsweep", float(format_value(w / unit))),
            ("lsweep", float(format_value(length / unit))),
            ("vbsweep", float(vbs)),
            ("vgsweep", sign * float(vgs)),
            ("vdsweep", sign * float(vds)),
        )
        jobs.append(SimulationJob(deck, params, analysis))
    return jobs


def grid_key(
    tech: Technology, device: str, grid: SweepGrid, corner: str, temperature: float
) -> str:
    """A short hash of everything a sweep's result depends on."""
    jobs, _ = sweep_jobs(tech, device, grid, corner, temperature)
    text = repr((jobs[0].deck, jobs[0].analyses, [j.params for j in jobs]))
    return hashlib.sha256(text.encode()).hexdigest()[:12]
