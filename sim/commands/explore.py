"""``python -m sim explore``: sample a sizing space and summarise what it offers."""

from __future__ import annotations

import math

import numpy as np
from rich.console import Console
from rich.table import Table

from sim.sizing.sampling import random_designs
from sim.units import engineering


def meets(performance: dict[str, float], spec, target: float) -> bool:
    """Whether ``performance`` satisfies ``spec`` at ``target``."""
    value = performance.get(spec.name, math.nan)
    if math.isnan(value):
        return False
    return value >= target if spec.bound == "lower" else value <= target


def explore(simulator, n: int, seed: int) -> None:
    """Simulate ``n`` random designs (``seed``) with ``simulator`` (a
    ``sim.sizing.simulator.Simulator``) and print distribution and spec tables."""
    console = Console()
    circuit = simulator.circuit
    designs = random_designs(circuit, n, seed)
    console.print(
        f"[bold]{circuit.name}[/] on {simulator.technology.name} "
        f"({simulator.corner}, {simulator.temperature:g} °C): "
        f"{len(designs)} random designs, {simulator.backend.n_workers} workers"
    )
    results = simulator.simulate(designs, progress=True)
    ok = [r for r in results if r.ok]
    statuses: dict[str, int] = {}
    for r in results:
        statuses[r.status.value] = statuses.get(r.status.value, 0) + 1
    console.print(
        "status: " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items()))
    )
    table = Table(title="performance over the sampled designs (status ok)")
    for column in ("figure", "p10", "median", "p90"):
        table.add_column(column, justify="right")
    for m in circuit.measures:
        values = np.array([r.performance.get(m.name, math.nan) for r in ok])
        values = values[np.isfinite(values)]
        if values.size == 0:
            table.add_row(m.name, "—", "—", "—")
            continue
        p10, p50, p90 = np.percentile(values, [10, 50, 90])
        table.add_row(m.name, *(engineering(v, m.unit, 3) for v in (p10, p50, p90)))
    console.print(table)
    units = {m.name: m.unit for m in circuit.measures}
    specs = Table(title="share of designs meeting each spec at its easy / hard end")
    for column in ("spec", "easy target", "met", "hard target", "met"):
        specs.add_column(column, justify="right")
    for spec in circuit.box.specs:
        easy, hard = spec.easy, spec.hard
        sign = ">=" if spec.bound == "lower" else "<="
        share = [
            sum(meets(r.performance, spec, t) for r in ok) / max(len(results), 1)
            for t in (easy, hard)
        ]
        specs.add_row(
            spec.name,
            f"{sign} {engineering(easy, units[spec.name], 3)}",
            f"{100 * share[0]:.0f} %",
            f"{sign} {engineering(hard, units[spec.name], 3)}",
            f"{100 * share[1]:.0f} %",
        )
    console.print(specs)
    all_easy = [
        r for r in ok if all(meets(r.performance, s, s.easy) for s in circuit.box.specs)
    ]
    console.print(
        f"{len(all_easy)} of {len(results)} designs meet every spec at its "
        "easy end: the RL trainer's job is to find the hard ones."
    )
