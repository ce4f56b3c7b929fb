"""``python -m sim corners``: one sizing over process corners, temperatures
and supply voltages (every combination, or the ``--pvt`` declaration's)."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Sequence

import numpy as np
from rich.console import Console
from rich.table import Table

from sim.cli_conventions import write_json
from sim.engine.backend import BackendConfig, SimulationBackend, make_backend
from sim.errors import UserInputError
from sim.format.circuit import load_circuit
from sim.format.pvt_conditions import Condition, parse_declaration, resolve
from sim.format.pvt_conditions import worst_case as worst_over_conditions
from sim.format.technology import load_technology
from sim.sizing.simulator import Evaluation, Simulator
from sim.storage.store import SimulationStore
from sim.units import engineering


def simulate_conditions(
    circuit,
    technology,
    design: dict,
    conditions: Sequence[Condition],
    backend: SimulationBackend,
    store: SimulationStore,
) -> dict[Condition, Evaluation]:
    """Evaluate ``design`` at every condition (``circuit`` loaded with the
    unscaled ``technology``; a supply scale goes through
    ``Technology.with_supply``)."""
    results = {}
    for condition in conditions:
        simulator = Simulator(
            circuit,
            technology.with_supply(condition.supply),
            condition.corner,
            condition.temperature,
            backend=backend,
            store=store,
        )
        results[condition] = simulator.simulate_one(design)
    return results


def simulate_corners(
    circuit: str,
    technology: str,
    design: dict,
    corners: list[str],
    temperatures: list[float],
    backend: SimulationBackend,
    store: SimulationStore,
) -> dict[tuple[str, float], Evaluation]:
    """Evaluate ``design`` at every (corner, temperature °C), nominal supply."""
    results = {}
    for corner in corners:
        for temperature in temperatures:
            simulator = Simulator(
                circuit, technology, corner, temperature, backend=backend, store=store
            )
            results[(corner, temperature)] = simulator.simulate_one(design)
    return results


def worst_case(values: list[float], bound: str | None) -> tuple[float, float]:
    """(worst, best) of a figure over conditions: lower bound -> min is worst
    (missing values left out; ``sim.format.pvt_conditions.worst_case`` counts them
    as the worst, as verification does)."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return math.nan, math.nan
    if bound == "upper":
        return max(finite), min(finite)
    return min(finite), max(finite)


def report_conditions(args, tech) -> list[Condition]:
    """The conditions of ``sim corners``'s flags: ``--pvt``, else every
    combination of ``--corners`` (default: all), ``--temperatures`` and
    ``--supplies``."""
    pvt = getattr(args, "pvt", None)
    if pvt is not None:
        return list(
            resolve(parse_declaration(pvt), tech, args.corner, args.temperature)
        )
    corners = args.corners or list(tech.corners)
    for corner in corners:
        tech.includes(corner)  # unknown corner -> one clear error
    if not args.temperatures:
        raise UserInputError("give at least one temperature")
    supplies = getattr(args, "supplies", None) or [1.0]
    for supply in supplies:
        if not 0.1 <= supply <= 3.0:
            raise UserInputError(
                f"--supplies are scales of VDD (0.1 to 3), got {supply:g}"
            )
    return [
        Condition(c, float(t), float(s))
        for c in corners
        for t in args.temperatures
        for s in supplies
    ]


def corner_report(args, design: dict) -> dict:
    """Print (and optionally write) the figures of ``design`` at each condition."""
    tech = load_technology(args.tech)
    conditions = report_conditions(args, tech)
    circuit = load_circuit(args.circuit, tech)
    store = SimulationStore(args.store) if args.store else SimulationStore()
    config = BackendConfig(workers=args.workers, timeout=args.timeout)
    with contextlib.closing(make_backend(config)) as backend:
        results = simulate_conditions(circuit, tech, design, conditions, backend, store)
    bounds = {s.name: s.bound for s in circuit.box.specs}
    supplies = {c.supply for c in conditions} != {1.0}
    title = "corners × temperatures" + (" × supplies" if supplies else "")
    table = Table(title=f"{circuit.name} on {tech.name}: {title}")
    table.add_column("figure")
    keys = list(results)
    for c in keys:
        table.add_column(
            c.label if supplies else f"{c.corner} {c.temperature:g}°C", justify="right"
        )
    table.add_column("worst", justify="right", style="bold")
    table.add_column("at", justify="right")
    table.add_row("status", *[results[k].status.value for k in keys], "", "")
    report = {
        "circuit": circuit.name,
        "technology": tech.name,
        "design": design,
        "conditions": [],
        "worst": {},
        "worst_at": {},
    }
    for m in circuit.measures:
        values = [results[k].performance.get(m.name, math.nan) for k in keys]
        values = [math.nan if v is None else float(v) for v in values]
        if m.name in bounds:
            worst, at = worst_over_conditions(
                np.asarray(values)[:, None], [bounds[m.name] == "lower"]
            )
            worst, where = float(worst[0]), keys[int(at[0])]
        else:
            worst, where = math.nan, None
        label = m.name + (
            f" ({'≥' if bounds[m.name] == 'lower' else '≤'})"
            if m.name in bounds
            else ""
        )
        table.add_row(
            label,
            *[engineering(v, m.unit, 3) for v in values],
            engineering(worst, m.unit, 3) if m.name in bounds else "",
            where.label if where is not None else "",
        )
        if m.name in bounds:
            report["worst_at"][m.name] = where.to_json()
        else:  # no direction: the smallest value, as before supplies existed
            worst, _ = worst_case(values, None)
        report["worst"][m.name] = None if math.isnan(worst) else worst
    for condition, result in results.items():
        report["conditions"].append(
            {
                **condition.to_json(),
                "status": result.status.value,
                "performance": {
                    k: (None if isinstance(v, float) and math.isnan(v) else v)
                    for k, v in result.performance.items()
                    if ":" not in k
                },
            }
        )
    Console(width=240).print(table)
    if args.json:
        print(f"wrote {write_json(args.json, report)}")
    return report
