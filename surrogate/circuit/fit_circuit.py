"""``python -m surrogate.fit circuit``: simulate designs, fit, report accuracy.

Designs come from a scrambled Sobol sequence over the v1 space; repeats are
served by the simulation store. The surrogate models every figure of the
circuit and the devices' operating points, and is saved to
``$JAXSIZER_HOME/models/<tech>/<circuit>/`` (see ``surrogate.model_paths``
and ``surrogate.circuit.store``) with the
one-member network distilled from it for the environment's inner loop
(``surrogate.circuit.distill``). Accuracy is measured on the test split,
which neither the fit nor the distillation saw.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from sim.sizing.parameter_space import scale_action
from sim.sizing.problem_opening import open_circuit_problem
from sim.sizing.session import ProblemOptions
from sim.sizing.simulator import Simulator
from surrogate.circuit.accuracy import accuracy
from surrogate.circuit.dataset import (
    build_dataset,
    designs_from_actions,
    sobol_actions,
    surrogate_features,
)
from surrogate.circuit.distill import DistillConfig, distill
from surrogate.circuit.physics import (
    fine_tune,
    fit_scaling,
    physics_for,
    with_physics,
)
from surrogate.circuit.store import save_surrogate
from surrogate.circuit.train import (
    FitConfig,
    fit_surrogate,
    output_weights,
    split_indices,
)
from surrogate.model_paths import output_dir

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
    distill_config: DistillConfig | None = None,
    physics: bool = True,
    corner: str | None = None,
    temperature: float = 27.0,
) -> dict:
    """Simulate ``samples`` designs, fit the ensemble, distil it, save both;
    return a report. ``physics``: give the ensemble the device-physics inputs
    of ``surrogate.circuit.physics`` where the circuit has an estimator;
    ``corner`` (default: the technology's) and ``temperature`` (°C): where the
    designs are simulated."""
    config = config or FitConfig(seed=seed)
    distill_config = distill_config or DistillConfig(seed=seed)
    # every figure of the circuit (the surrogate models them all)
    options = ProblemOptions(circuit, tech, corner, temperature, all_figures=True)
    opened = open_circuit_problem(options)
    definition = opened.problem
    with Simulator(
        opened.circuit,
        opened.technology,
        opened.corner,
        opened.temperature,
        n_workers=workers,
    ) as simulator:
        actions = sobol_actions(len(definition.scale.names), samples, seed)
        start = time.perf_counter()
        evaluations = simulator.simulate(
            designs_from_actions(definition, actions), progress=True
        )
        simulate_seconds = time.perf_counter() - start
        fingerprint = simulator.circuit.fingerprint
        estimator = (
            physics_for(simulator.circuit, simulator.technology, definition.scale)
            if physics
            else None
        )
    data = build_dataset(definition, evaluations)
    n_features = data.inputs.shape[1]
    tuning = None
    if estimator is not None:
        # the device networks are fine-tuned on the training designs only
        fit_index, check_index, _ = split_indices(len(data.inputs), config)
        estimator, tuning = fine_tune(estimator, data, fit_index, check_index)
        estimator = fit_scaling(estimator, data.params)
        data = with_physics(data, estimator)
    fitted = fit_surrogate(data, config, figure_count=len(definition.figures))
    report = accuracy(fitted, data, fitted.test_index)
    # the student learns the ensemble on random designs and the training designs
    rng = np.random.default_rng(distill_config.seed + 1)
    actions = rng.uniform(-1, 1, (distill_config.designs, len(definition.scale.names)))
    inputs = np.concatenate(
        [
            surrogate_features(
                scale_action(actions, definition.scale), definition.scale
            ),
            data.inputs[fitted.train_index, :n_features],
        ]
    )
    output_weight = output_weights(
        config, len(data.output_names), len(definition.figures)
    )
    student = distill(
        fitted.weights, inputs, output_weight, distill_config, physics=estimator
    )
    student_report = accuracy(
        replace(fitted, weights=student.weights, spread_scale=None),
        replace(data, inputs=data.inputs[:, :n_features]),
        fitted.test_index,
    )
    for entry in student_report.values():  # one member: no spread to judge
        entry.pop("within_2_sigma", None)
    directory = out or output_dir(tech, circuit)
    meta = {
        "circuit": circuit,
        "technology": tech,
        "corner": definition.corner,
        "circuit_fingerprint": fingerprint,
        "hidden": config.hidden,
        "members": config.members,
        "loss": config.loss,
        "physics_inputs": None if estimator is None else len(estimator.feature_names),
        "physics_tuning": tuning,
        "accuracy": report,
        "distilled": {
            "hidden": distill_config.hidden,
            "designs": student.designs,
            "seconds": student.seconds,
            "accuracy": student_report,
        },
    }
    save_surrogate(
        directory, fitted, data, meta, distilled=student.weights, physics=estimator
    )
    summary = {
        "circuit": circuit,
        "technology": tech,
        "samples": samples,
        "valid_fraction": float(data.valid.mean()),
        "held_out_designs": int(len(fitted.test_index)),
        "simulate_seconds": simulate_seconds,
        "fit_seconds": fitted.seconds,
        "distill_seconds": student.seconds,
        "epochs": fitted.epochs,
        "physics_inputs": meta["physics_inputs"],
        "physics_tuning": tuning,
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
        fast = student_report[name]
        summary["figures"][name] = {
            "unit": unit,
            "median_error": scale * entry[f"median_{key}"],
            "p95_error": scale * entry[f"p95_{key}"],
            "within_2_sigma": entry["within_2_sigma"],
            "distilled_median_error": scale * fast[f"median_{key}"],
            "distilled_p95_error": scale * fast[f"p95_{key}"],
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
    columns = (
        "figure",
        "median error",
        "p95 error",
        "within 2σ",
        "distilled median",
        "distilled p95",
    )
    for column in columns:
        table.add_column(column, justify="right")
    for name, f in summary["figures"].items():
        unit = f["unit"]
        table.add_row(
            name,
            f"{f['median_error']:.3g} {unit}",
            f"{f['p95_error']:.3g} {unit}",
            f"{100 * f['within_2_sigma']:.0f} %",
            f"{f['distilled_median_error']:.3g} {unit}",
            f"{f['distilled_p95_error']:.3g} {unit}",
        )
    Console().print(table)
    print(
        f"validity head accuracy {100 * summary['validity_accuracy']:.1f} %; "
        f"fit {summary['fit_seconds']:.0f} s, "
        f"distillation {summary['distill_seconds']:.0f} s, "
        f"simulation {summary['simulate_seconds']:.0f} s; "
        f"saved to {summary['saved_to']}"
    )
