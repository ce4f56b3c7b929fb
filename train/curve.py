"""The held-out curve of a run: ``held_out.json`` and ``held_out.png``
(held-out success vs total SPICE simulations)."""

from __future__ import annotations

import json
from pathlib import Path

from train.rounds import LoopState, probe_met
from train.run import Run


def write_curve(run: Run, state: LoopState) -> None:
    """``held_out.json`` (the box, the held-out set, simulations per purpose,
    the ceiling, the strategies' yield, the curve) and ``held_out.png``."""
    problem, progress = run.problem, state.progress
    document = {
        "circuit": problem.circuit,
        "technology": problem.technology,
        "box": problem.box.to_json(),
        "held_out_targets": int(len(state.held_out)),
        "held_out_seed": run.config.held_out_seed,
        "total_spice_sims": run.sims_used,
        "sims_by_purpose": dict(run.sims),
        "ceiling": progress.ceiling,
        "strategies": state.explorer.summary(),
        "probe_met": probe_met(run, state) / len(state.probe),
        "curve": progress.curve,
    }
    path = run.dir.path / "held_out.json"
    path.write_text(json.dumps(document, indent=1) + "\n")
    plot_curve(progress.curve, run.dir.path / "held_out.png", problem.circuit)


def plot_curve(curve: list[dict], path: Path, title: str) -> None:
    """Held-out success (%) vs total SPICE simulations, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.2), dpi=120)
    ax.plot(
        [p["spice_sims"] for p in curve],
        [100 * p["held_out_success"] for p in curve],
        marker="o",
    )
    ax.set_xlabel("total SPICE simulations")
    ax.set_ylabel("held-out success (%)")
    ax.set_ylim(0, 100)
    ax.grid(alpha=0.3)
    ax.set_title(f"{title}: held-out box targets, 1 sim each")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
