"""``python -m surrogate.fit circuit``: simulate designs, fit, report accuracy.

Designs come from a scrambled Sobol sequence over the v1 space; repeats are
served by the simulation store. The surrogate models every figure of the
circuit and the devices' operating points, and is saved to
``models/<tech>/<circuit>/`` (see ``surrogate.circuit.store``).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from envs.problem import build_definition
from sim.simulator import Simulator
from sim.specs import load_feasible
from surrogate.circuit.accuracy import accuracy
from surrogate.circuit.dataset import build_dataset, designs_from_actions, sobol_actions
from surrogate.circuit.store import save_surrogate, surrogate_dir
from surrogate.circuit.train import FitConfig, fit_surrogate

# The figures issue 6's acceptance names, with the unit each error is read in.
HEADLINE = {"a_0": "dB", "ugbw": "%", "power": "%", "pm": "deg"}


def fit_circuit(
    circuit: str,
    tech: str,
    samples: int,
    seed: int = 0,
    workers: int | None = None,
    out: Path | None = None,
    config: FitConfig | None = None,
) -> dict:
    """Simulate ``samples`` designs, fit the ensemble, save it; return a report."""
    config = config or FitConfig(seed=seed)
    with Simulator(circuit, tech, n_workers=workers) as simulator:
        feasible = load_feasible(simulator.circuit, simulator.technology.name)
        definition = build_definition(
            simulator.circuit, simulator.technology.name, simulator.corner, feasible
        )
        actions = sobol_actions(len(definition.scale.names), samples, seed)
        start = time.perf_counter()
        evaluations = simulator.simulate(
            designs_from_actions(definition, actions), progress=True
        )
        simulate_seconds = time.perf_counter() - start
        fingerprint = simulator.circuit.fingerprint
    data = build_dataset(definition, evaluations)
    fitted = fit_surrogate(data, config, figure_count=len(definition.figures))
    report = accuracy(fitted, data, fitted.test_index)
    directory = out or surrogate_dir(tech, circuit)
    meta = {
        "circuit": circuit,
        "technology": tech,
        "corner": definition.corner,
        "circuit_fingerprint": fingerprint,
        "hidden": config.hidden,
        "members": config.members,
        "accuracy": report,
    }
    save_surrogate(directory, fitted, data, meta)
    summary = {
        "circuit": circuit,
        "technology": tech,
        "samples": samples,
        "valid_fraction": float(data.valid.mean()),
        "held_out_designs": int(len(fitted.test_index)),
        "simulate_seconds": simulate_seconds,
        "fit_seconds": fitted.seconds,
        "epochs": fitted.epochs,
        "saved_to": str(directory),
        "figures": {},
        "within_2_sigma_median": None,
    }
    shares = []
    for name, unit in HEADLINE.items():
        if name not in report:
            continue
        entry = report[name]
        scale = 100.0 if unit == "%" else 1.0
        key = "rel" if unit == "%" else "abs"
        summary["figures"][name] = {
            "unit": unit,
            "median_error": scale * entry[f"median_{key}"],
            "p95_error": scale * entry[f"p95_{key}"],
            "within_2_sigma": entry["within_2_sigma"],
        }
    for name, entry in report.items():
        if not name.startswith("_") and ":" not in name:
            shares.append(entry["within_2_sigma"])
    if shares:
        summary["within_2_sigma_median"] = float(sorted(shares)[len(shares) // 2])
    summary["validity_accuracy"] = report["_validity"]["accuracy"]
    summary["all_outputs"] = report
    return summary


def print_summary(summary: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"surrogate of {summary['circuit']} on {summary['technology']}"
        f" ({summary['samples']} designs, "
        f"{summary['held_out_designs']} held out)"
    )
    for column in ("figure", "median error", "p95 error", "within 2σ"):
        table.add_column(column, justify="right")
    for name, f in summary["figures"].items():
        table.add_row(
            name,
            f"{f['median_error']:.3g} {f['unit']}",
            f"{f['p95_error']:.3g} {f['unit']}",
            f"{100 * f['within_2_sigma']:.0f} %",
        )
    Console().print(table)
    print(
        f"validity head accuracy {100 * summary['validity_accuracy']:.1f} %; "
        f"fit {summary['fit_seconds']:.0f} s, "
        f"simulation {summary['simulate_seconds']:.0f} s; "
        f"saved to {summary['saved_to']}"
    )


def write_report(summary: dict, path: Path) -> None:
    path.write_text(json.dumps(summary, indent=1) + "\n")
