"""``python -m benchmarks``: the sizing benchmark's quick mode (every method on
the same targets, totals read back from each store) and the speed table."""

from __future__ import annotations

import json
import math
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks import sizing
from benchmarks.__main__ import main
from tests.conftest import REPO


def _rows(path: str) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT COUNT(*) FROM simulations").fetchone()[0])


def test_a_bad_flag_or_method_is_one_line_and_exit_2(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["sizing", "--bogus"])
    assert stop.value.code == 2
    assert main(["sizing", "--quick", "--methods", "ours,gradient"]) == 2
    assert main(["sizing", "--n", "3"]) == 2  # no circuit, no --quick
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 3 and all(e.startswith("error: ") for e in errors)


def test_every_flag_has_a_help():
    from benchmarks.__main__ import build_parser

    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # noqa: SLF001
    for name, sub in commands.items():
        for action in sub._actions:  # noqa: SLF001
            assert action.help, f"{name} {action.option_strings} has no help"


def test_the_curve_ends_at_the_store_total():
    curve = sizing.per_target_curve([True, False, True], [1, 4, 0], training=10)
    assert curve["success_rate"] == [1 / 3, 2 / 3, 2 / 3, 2 / 3, 2 / 3]
    assert curve["total_sims"] == [10, 12, 13, 14, 15]
    scaled = sizing.store_scaled(curve, 10, 20)
    assert scaled["total_sims"][0] == 10 and scaled["total_sims"][-1] == 20
    assert np.all(np.diff(scaled["total_sims"]) >= 0)


@pytest.mark.slow
def test_quick_sizing_benchmark(tmp_path: Path) -> None:
    """``--quick``: one row per method with finite numbers; each method's total
    is the row count of its own store file, and no store is shared."""
    out = tmp_path / "bench"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "sizing", "--quick", "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads((out / "sizing.json").read_text())
    methods = [row["method"] for row in report["rows"]]
    expected = ["ours", "random_pool", "random", "cmaes", "tpe", "ppo_spice"]
    if report["skipped"]:
        assert list(report["skipped"]) == ["tpe"]
        expected.remove("tpe")
    assert methods == expected
    stores = [row["store"] for row in report["rows"]]
    assert len(set(stores)) == len(stores)
    for row in report["rows"]:
        assert row["targets"] == 10 and len(row["per_target_met"]) == 10
        for key in ("success_rate", "median_sims_per_target", "p90_sims_per_target"):
            assert math.isfinite(row[key]), (row["method"], key)
        assert 0 < row["total_sims"] == _rows(row["store"])
        assert row["total_sims"] == row["training_sims"] + row["sizing_sims"]
        assert row["curve"]["total_sims"][-1] == pytest.approx(row["total_sims"])
    budget = report["total_budget"]
    assert budget == report["rows"][0]["total_sims"]  # ours' total sets it
    for row in report["rows"][1:]:  # the others stay within it (ppo_spice
        # evaluates with at least 1 sim per target)
        slack = 10 if row["method"] == "ppo_spice" else 0
        assert row["total_sims"] <= budget + slack, row["method"]
    ppo = report["rows"][-1]
    assert ppo["training_sims"] <= report["rows"][0]["training_sims"]
    assert report["versions"]["ngspice"] and report["versions"]["jax"]
    assert (out / "sizing.png").stat().st_size > 0
    table = (out / "sizing.md").read_text()
    assert all(f"| {m} |" in table for m in methods)


@pytest.mark.slow
def test_quick_speed_table(tmp_path: Path) -> None:
    out = tmp_path / "speed.json"
    assert main(["speed", "--quick", "--n", "12", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    simulation = result["simulation"]
    assert simulation["scaling_2_workers"] > 0
    assert simulation["speedup_vs_cold_process"] > 0
    assert result["env"] is None or result["env"]["surrogate_vs_spice_env"] > 0
    lines = result["table"].splitlines()
    assert lines[4].startswith("| 2 workers vs 1")  # ratios first
