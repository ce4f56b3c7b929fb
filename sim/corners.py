"""``python -m sim corners``: one sizing over process corners and temperatures."""

from __future__ import annotations

import contextlib
import math

from rich.console import Console
from rich.table import Table

from sim.backend import BackendConfig, SimulationBackend, make_backend
from sim.cli_conventions import write_json
from sim.errors import UserInputError
from sim.simulator import Evaluation, Simulator
from sim.store import SimulationStore
from sim.technology import load_technology
from sim.units import engineering


def simulate_corners(
    circuit: str,
    technology: str,
    design: dict,
    corners: list[str],
    temperatures: list[float],
    backend: SimulationBackend,
    store: SimulationStore,
) -> dict[tuple[str, float], Evaluation]:
    """Evaluate ``design`` at every (corner, temperature °C)."""
    results = {}
    for corner in corners:
        for temperature in temperatures:
            simulator = Simulator(
                circuit, technology, corner, temperature, backend=backend, store=store
            )
            results[(corner, temperature)] = simulator.simulate_one(design)
    return results


def worst_case(values: list[float], bound: str | None) -> tuple[float, float]:
    """(worst, best) of a figure over conditions: lower bound -> min is worst."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return math.nan, math.nan
    if bound == "upper":
        return max(finite), min(finite)
    return min(finite), max(finite)


def corner_report(args, design: dict) -> dict:
    """Print (and optionally write) the figures of ``design`` at each condition."""
    tech = load_technology(args.tech)
    corners = args.corners or list(tech.corners)
    for corner in corners:
        tech.includes(corner)  # unknown corner -> one clear error
    if not args.temperatures:
        raise UserInputError("give at least one temperature")
    store = SimulationStore(args.store) if args.store else SimulationStore()
    config = BackendConfig(workers=args.workers, timeout=args.timeout)
    with contextlib.closing(make_backend(config)) as backend:
        results = simulate_corners(
            args.circuit, args.tech, design, corners, args.temperatures, backend, store
        )
        circuit = Simulator(
            args.circuit, args.tech, backend=backend, store=store
        ).circuit
    bounds = {s.name: s.bound for s in circuit.box.specs}
    table = Table(title=f"{circuit.name} on {tech.name}: corners × temperatures")
    table.add_column("figure")
    keys = list(results)
    for corner, temperature in keys:
        table.add_column(f"{corner} {temperature:g}°C", justify="right")
    table.add_column("worst", justify="right", style="bold")
    table.add_row("status", *[results[k].status.value for k in keys], "")
    report = {
        "circuit": circuit.name,
        "technology": tech.name,
        "design": design,
        "conditions": [],
        "worst": {},
    }
    for m in circuit.measures:
        values = [results[k].performance.get(m.name, math.nan) for k in keys]
        worst, _ = worst_case(values, bounds.get(m.name))
        label = m.name + (
            f" ({'≥' if bounds[m.name] == 'lower' else '≤'})"
            if m.name in bounds
            else ""
        )
        table.add_row(
            label,
            *[engineering(v, m.unit, 3) for v in values],
            engineering(worst, m.unit, 3) if m.name in bounds else "",
        )
        report["worst"][m.name] = None if math.isnan(worst) else worst
    for (corner, temperature), result in results.items():
        report["conditions"].append(
            {
                "corner": corner,
                "temperature": temperature,
                "status": result.status.value,
                "performance": {
                    k: (None if isinstance(v, float) and math.isnan(v) else v)
                    for k, v in result.performance.items()
                    if ":" not in k
                },
            }
        )
    Console(width=200).print(table)
    if args.json:
        print(f"wrote {write_json(args.json, report)}")
    return report
