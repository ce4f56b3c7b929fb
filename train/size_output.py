"""What ``train.size`` shows and writes for one sized design: the parameter
and performance tables (rich), ``result.json``'s document, and the sized
circuit's files (``.subckt``, testbench, Bode plot). Shared by the single
condition path (``train.size``) and the PVT report (``train.pvt_report``)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from sim.errors import UserInputError
from sim.units import engineering


def report(sizer, result, title: str = "") -> None:
    console = Console()
    definition = sizer.problem
    circuit = sizer.session.simulator.circuit
    heading = f"{circuit.name} on {definition.technology}"
    params = Table(title=f"{heading}: {title}" if title else heading)
    params.add_column("parameter")
    params.add_column("value", justify="right")
    for p in circuit.parameters:
        params.add_row(p.name, engineering(result.params[p.name], p.unit))
    perf = Table(title="performance in ngspice vs target")
    for column in ("figure", "target", "ngspice", "met", "margin"):
        perf.add_column(column, justify="right")
    units = dict(zip(definition.figures, definition.figure_units, strict=True))
    for k, name in enumerate(definition.specs):
        value = result.performance.get(name, float("nan"))
        wanted = float(result.target[k])
        if np.isnan(wanted):
            perf.add_row(name, "(none)", engineering(value, units[name]), "", "")
            continue
        sign = ">=" if definition.lower[k] else "<="
        margin = float(result.margins[k])
        perf.add_row(
            name,
            f"{sign} {engineering(wanted, units[name])}",
            engineering(value, units[name]),
            "yes" if margin >= 0 else "NO",
            f"{margin:+.3f}",
        )
    for name in definition.figures:
        if name not in definition.specs and name in result.performance:
            value = result.performance[name]
            perf.add_row(name, "(not a spec)", engineering(value, units[name]), "", "")
    console.print(params, perf)
    first = result.first_met
    if title == "best design" and first is not None:
        found = (
            "by a design the run had verified"
            if first.sims == 0
            else f"after {first.sims} new SPICE simulation(s)"
        )
        console.print(
            f"[bold green]target met[/] {found}; this is the best of "
            f"{result.sims} new simulation(s) spent in all"
        )
    elif result.met and result.sims == 0:
        console.print("[bold green]target met[/] by a design the run had verified")
    elif result.met:
        console.print(
            f"[bold green]target met[/] after {result.sims} SPICE simulation(s)"
        )
    else:
        console.print(
            f"[bold red]no design met the target[/] in {result.sims} SPICE "
            "simulations; the closest verified one is shown above (margin: "
            "by how much each spec is met, < 0 missed, in units of the box's width)"
        )


def result_json(sizer, result) -> dict:
    """The sizing as JSON: target (SI, specs left out carry no requirement),
    whether it was met, new SPICE sims, parameters (SI), every verified figure
    and per-spec margins (>= 0 met, in units of the box's width)."""
    from sim.sizing.target_text import targets_json

    def number(value: float) -> float | None:
        return float(value) if math.isfinite(value) else None

    box = sizer.problem.box

    def one(r) -> dict:
        return {
            "met": bool(r.met),
            "sims": int(r.sims),
            "source": r.source,
            "params": r.params,
            "figures": {k: number(float(v)) for k, v in r.performance.items()},
            "margins": {
                n: number(float(m)) for n, m in zip(box.names, r.margins, strict=True)
            },
        }

    document = {
        "circuit": sizer.problem.circuit,
        "technology": sizer.problem.technology,
        "corner": sizer.problem.corner,
        "temperature": sizer.problem.temperature,
        "target": targets_json(result.target[None], box)[0],
        **one(result),
    }
    if result.first_met is not None and result.first_met is not result:
        document["first_met"] = one(result.first_met)
    return document


def write_files(sizer, result, out: Path) -> None:
    from sim.commands.export import export_design
    from sim.commands.plot import plot_design
    from sim.sizing.simulator import Simulator

    out.mkdir(parents=True, exist_ok=True)
    (out / "result.json").write_text(json.dumps(result_json(sizer, result), indent=1))
    print(f"wrote {out / 'result.json'}")
    simulator = sizer.session.simulator
    try:  # the sized circuit as a .subckt and testbenches for plain ngspice
        exported = export_design(
            simulator.circuit,
            simulator.technology,
            result.params,
            out,
            simulator.corner,
            simulator.temperature,
        )
    except UserInputError as error:  # e.g. the models live on a remote server
        print(f"no subckt: {error}")
    else:
        print(f"wrote {exported.subckt} (ports: {' '.join(exported.ports)})")
        for path in exported.testbenches:
            print(f"wrote {path} (run: cd {out} && ngspice -b {path.name})")
    tech = simulator.technology
    with Simulator(
        sizer.session.options.circuit,
        tech,
        simulator.corner,
        simulator.temperature,
        backend=simulator.backend,
        store=simulator.store,
    ) as full:
        try:
            for path in plot_design(full, result.params, out / "bode.png"):
                print(f"wrote {path}")
        except UserInputError as error:
            print(f"no plot: {error}")
