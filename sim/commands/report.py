"""Human-readable tables of simulation results (rich)."""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from sim.format.circuit import Circuit
from sim.sizing.simulator import Evaluation
from sim.units import engineering


def design_table(circuit: Circuit, evaluation: Evaluation) -> Table:
    """Parameters of one design."""
    table = Table(title=f"{circuit.name} design", show_lines=False)
    table.add_column("parameter")
    table.add_column("value", justify="right")
    for p in circuit.parameters:
        table.add_row(p.name, engineering(evaluation.params[p.name], p.unit))
    return table


def performance_table(circuit: Circuit, evaluation: Evaluation) -> Table:
    """Figures of one design, with spec bounds beside them."""
    specs = {s.name: s for s in circuit.box.specs}
    table = Table(title=f"{circuit.name} performance ({evaluation.status.value})")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("target range", justify="right")
    for m in circuit.measures:
        spec = specs.get(m.name)
        rng = ""
        if spec is not None:
            sign = ">=" if spec.bound == "lower" else "<="
            low, high = engineering(spec.low, m.unit), engineering(spec.high, m.unit)
            rng = f"{sign} {low} … {high}"
        table.add_row(
            m.name,
            engineering(evaluation.performance.get(m.name, math.nan), m.unit),
            rng,
        )
    return table


_OP_COLUMNS = [
    ("id", "A"),
    ("gm", "S"),
    ("gds", "S"),
    ("vth", "V"),
    ("vdsat", "V"),
    ("gmoverid", "1/V"),
    ("fug", "Hz"),
    ("region", ""),
]


def operating_point_table(circuit: Circuit, evaluation: Evaluation) -> Table:
    """Per-device operating point (region 2 = saturation, 1 = triode, 0 = off)."""
    table = Table(title="operating point")
    table.add_column("device")
    for name, _ in _OP_COLUMNS:
        table.add_column(name, justify="right")
    for device in circuit.devices:
        row = [device]
        for name, unit in _OP_COLUMNS:
            value = evaluation.performance.get(f"{device}:{name}", math.nan)
            row.append(
                str(int(value))
                if name == "region" and not math.isnan(value)
                else engineering(value, unit, 3)
            )
        table.add_row(*row)
    return table


def batch_table(
    circuit: Circuit, evaluations: Sequence[Evaluation], limit: int = 40
) -> Table:
    """One row per design: status and measures."""
    table = Table(title=f"{circuit.name}: {len(evaluations)} designs")
    table.add_column("#", justify="right")
    table.add_column("status")
    for m in circuit.measures:
        table.add_column(m.name, justify="right")
    for i, e in enumerate(evaluations[:limit]):
        table.add_row(
            str(i),
            e.status.value + (" (stored)" if e.cached else ""),
            *[
                engineering(e.performance.get(m.name, math.nan), m.unit, 3)
                for m in circuit.measures
            ],
        )
    if len(evaluations) > limit:
        table.caption = f"first {limit} of {len(evaluations)} shown"
    return table


def print_tables(*tables: Table) -> None:
    """Print tables; wide enough for the operating-point table when piped."""
    console = Console(width=None if sys.stdout.isatty() else 140)
    for table in tables:
        console.print(table)
