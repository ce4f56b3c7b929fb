"""The sizing benchmark's outputs: machine and versions, markdown table, plot."""

from __future__ import annotations

import platform
import re
import subprocess
import time
from importlib import metadata
from pathlib import Path

from benchmarks import box_targets as bt

PACKAGES = ("jax", "numpy", "cma", "optuna", "flax", "optax")


def ngspice_version() -> str:
    """``39`` from ``ngspice -v`` ("ngspice-39 : ..."), or "not found"."""
    try:
        text = subprocess.run(
            ["ngspice", "-v"], capture_output=True, text=True, timeout=30
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return "not found"
    match = re.search(r"ngspice-([0-9][0-9.]*)", text)
    return match[1] if match else "unknown"


def git_commit() -> str | None:
    """The working tree's commit (None outside a git checkout)."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            cwd=Path(__file__).resolve().parent,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None


def environment() -> dict:
    """Machine, date and versions (python, jax, ngspice, ...) of a report."""
    versions = {"python": platform.python_version(), "ngspice": ngspice_version()}
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return {
        "machine": bt.machine_info(),
        "date": time.strftime("%Y-%m-%d"),
        "versions": versions,
        "commit": git_commit(),
    }


def _number(value, fmt: str = "{:g}") -> str:
    return "–" if value is None else fmt.format(value)


def summary_line(row: dict) -> str:
    """One line per finished method (printed as it ends)."""
    return (
        f"{row['method']}: {row['met']}/{row['targets']} met "
        f"({row['success_rate']:.1%}), {row['total_sims']} SPICE sims in its store "
        f"({row['training_sims']} training + {row['sizing_sims']} sizing), "
        f"{row['wall_seconds']:.0f} s"
    )


def table(report: dict) -> str:
    """Markdown: the header lines and one row per method."""
    versions = report["versions"]
    machine = report["machine"]
    lines = [
        f"{report['circuit']}/{report['technology']}: {report['targets_from']}; "
        f"total budget {report['total_budget']:,} SPICE sims per method "
        f"(per-target baselines B = {report['baseline_sims_per_target']}, ours "
        f"sizes with at most {report['budget_per_target']} per target)",
        f"{report['date']}, {machine['cpu_model'] or machine['platform']} "
        f"({machine['cpu_count']} cores), python {versions['python']}, jax "
        f"{versions['jax']}, ngspice {versions['ngspice']}",
        "",
        "| method | success | met | total SPICE sims (store rows) | training "
        "| sizing | sims/target cap | median sims/target | p90 | wall s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in report["rows"]:
        lines.append(
            f"| {row['method']} | {row['success_rate']:.1%} "
            f"| {row['met']}/{row['targets']} | {row['total_sims']:,} "
            f"| {row['training_sims']:,} | {row['sizing_sims']:,} "
            f"| {_number(row.get('budget_per_target'))} "
            f"| {_number(row['median_sims_per_target'])} "
            f"| {_number(row['p90_sims_per_target'])} "
            f"| {_number(row['wall_seconds'], '{:.0f}')} |"
        )
    for name, why in report.get("skipped", {}).items():
        lines.append(f"| {name} | skipped: {why} |" + " |" * 8)
    return "\n".join(lines)


def plot_success(report: dict, path: Path) -> None:
    """Success rate vs total SPICE sims: per method, the curve had every
    target stopped after k sims (k = 0..its largest; sizing sims rescaled to
    the store's count) and a marker at the measured total (the store's rows)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4.5))
    for row in report["rows"]:
        curve = row["curve"]
        (line,) = axes.plot(
            curve["total_sims"], curve["success_rate"], drawstyle="steps-post"
        )
        axes.plot(
            [row["total_sims"]],
            [row["success_rate"]],
            "o",
            color=line.get_color(),
            label=f"{row['method']} ({row['success_rate']:.0%}, "
            f"{row['total_sims']:,} sims)",
        )
    axes.set_xlabel("total SPICE simulations (training + verification + sizing)")
    axes.set_ylabel("targets met (strict, in ngspice)")
    axes.set_ylim(-0.02, 1.02)
    axes.set_title(
        f"{report['circuit']}/{report['technology']}: {report['targets']} targets, "
        f"{report['date']}"
    )
    axes.grid(alpha=0.3)
    axes.legend(loc="best", fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
