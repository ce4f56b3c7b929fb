"""``python -m sim specs``'s output: the searched box as a table, YAML and JSON,
and its ceiling over the declared PVT conditions.

The search itself is ``sim.search.specs``; ``pvt_ceiling_of`` verifies its
archive over the conditions (``sim.pvt``), which sit above the search.
"""

from __future__ import annotations

import dataclasses
import datetime
import math

import numpy as np

from sim.commands.bench import _machine
from sim.format.pvt_conditions import resolve
from sim.pvt.ceiling import pvt_ceiling
from sim.pvt.verify import ConditionalVerifier
from sim.search.specs import SpecSearchReport, box_yaml
from sim.units import engineering


def print_report(report: SpecSearchReport, simulator) -> None:
    """The box as a table, its ceiling, and the YAML to paste."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    ceiling, box = report.ceiling, report.box
    kind = "proposed" if report.config.propose else "declared"
    table = Table(
        title=f"{kind} target box: {simulator.circuit.name} on "
        f"{simulator.technology.name} ({simulator.corner}, "
        f"{simulator.temperature:g} °C)"
    )
    for column in ("spec", "bound", "easy end", "hard end", "best reached"):
        table.add_column(column, justify="right")
    for spec, best in zip(box.specs, report.reach, strict=True):
        # A fixed spec asks the same at both ends of the box.
        table.add_row(
            spec.name,
            ("≥ " if spec.bound == "lower" else "≤ ")
            + ("fixed" if spec.fixed else spec.scale),
            engineering(spec.easy, spec.unit, 4),
            engineering(spec.hard, spec.unit, 4),
            engineering(float(best), spec.unit, 4) if math.isfinite(best) else "—",
        )
    console.print(table)
    targeted = int(ceiling.met.sum()) - ceiling.met_by_archive
    console.print(
        f"front search: {report.front.sims} sims, {report.front.generations} "
        f"generations, {len(report.archive)} designs in the archive"
    )
    if report.fraction is not None:
        console.print(
            f"hard ends {report.fraction:.3f} of the way from each easy end to the "
            f"best reached (estimated ceiling {report.config.target_ceiling:g})"
        )
    console.print(
        f"feasibility ceiling: [bold]{ceiling.value:.3f}[/] "
        f"({int(ceiling.met.sum())}/{len(ceiling.met)} targets drawn uniformly "
        f"from the box with seed {ceiling.seed}: {ceiling.met_by_archive} met by "
        f"the archive, {targeted} by the targeted search in {ceiling.sims} sims); "
        f"archive-only estimate {report.estimate:.3f}"
    )
    console.print(
        f"total: {report.sims} SPICE sims ({report.from_store} from the store), "
        f"{report.seconds:.0f} s"
    )
    print(
        f"\n# {kind} box, ceiling {ceiling.value:.3f} on {len(ceiling.met)} "
        f"targets (seed {ceiling.seed}), {report.sims} sims\n{box_yaml(box)}"
    )


def report_json(report: SpecSearchReport, simulator) -> dict:
    """The JSON of a run: what, where, the box, its ceiling per target, the
    archive's non-dominated designs."""
    archive, ceiling = report.archive, report.ceiling
    front_rows = archive.front(report.box.easy)
    names = report.box.names
    return {
        "circuit": simulator.circuit.name,
        "technology": simulator.technology.name,
        "corner": simulator.corner,
        "temperature": simulator.temperature,
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "machine": _machine(),
        "versions": _versions(),
        "config": dataclasses.asdict(report.config),
        "budget": report.config.budget,
        "sims": {
            "front": report.front.sims,
            "targeted": ceiling.sims,
            "total": report.sims,
            "from_store": report.from_store,
        },
        "seconds": round(report.seconds, 1),
        "generations": report.front.generations,
        "archive_designs": len(archive),
        "declared_box": report.declared.to_json(),
        "box": report.box.to_json(),
        "units": dict(zip(names, report.box.units, strict=True)),
        "reach": dict(zip(names, map(_finite, report.reach), strict=True)),
        "estimated_ceiling": report.estimate,
        "hard_end_fraction": report.fraction,
        "ceiling": ceiling.value,
        "ceiling_seed": ceiling.seed,
        "ceiling_met_by_archive": ceiling.met_by_archive,
        "targets": {
            "specs": list(names),
            "values": ceiling.targets.tolist(),
            "met": ceiling.met.tolist(),
            "sims": ceiling.sims_per_target.tolist(),
        },
        "front": [
            {
                "params": archive.params(int(row)),
                "figures": dict(
                    zip(names, map(_finite, archive.figures[row]), strict=True)
                ),
            }
            for row in front_rows
        ],
    }


def _finite(value) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def _versions() -> dict[str, str]:
    import platform
    from importlib import metadata

    out = {"python": platform.python_version()}
    for package in ("jaxsizer", "numpy", "scipy", "cma"):
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            out[package] = "not installed"
    return out


def pvt_ceiling_of(simulator, report: SpecSearchReport, declaration, candidates=20):
    """The all-condition ceiling (``sim.pvt.ceiling``) of ``report``'s box
    and targets under ``declaration`` (``sim.format.pvt_conditions``), verified
    conditionally on ``simulator``'s circuit, backend and store. Returns
    (ceiling, verifier), or None when the declaration is the nominal alone."""
    conditions = resolve(
        declaration, simulator.technology, simulator.corner, simulator.temperature
    )
    if conditions.single:
        return None
    verifier = ConditionalVerifier(
        simulator.circuit,
        simulator.technology,
        conditions,
        report.box,
        backend=simulator.backend,
        store=simulator.store,
        simulators={conditions.nominal: simulator},
    )
    try:
        ceiling = pvt_ceiling(
            verifier, report.archive, report.ceiling.targets, candidates
        )
    finally:
        verifier.close()
    return ceiling, verifier


def print_pvt(ceiling, verifier, report: SpecSearchReport) -> None:
    """The nominal and all-condition ceilings side by side, and the spend."""
    from rich.console import Console

    k = len(verifier.conditions)
    worst = np.argsort(-verifier.failures.sum(axis=1), kind="stable")[:3]
    Console().print(
        f"over {k} conditions: all-condition ceiling [bold]{ceiling.value:.3f}[/] "
        f"vs nominal {report.ceiling.value:.3f} ({int(ceiling.met.sum())}/"
        f"{len(ceiling.met)} targets; the archive met "
        f"{int(ceiling.met_nominal.sum())} at the nominal); "
        f"{ceiling.sims} condition sims ({ceiling.from_store} from the store) "
        f"where every condition of every candidate tried would be "
        f"{ceiling.full_sims}; {ceiling.seconds:.0f} s; most failed: "
        + ", ".join(
            f"{verifier.conditions.conditions[i].label} "
            f"({int(verifier.failures[i].sum())})"
            for i in worst
        )
    )
