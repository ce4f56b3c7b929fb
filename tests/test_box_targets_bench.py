"""benchmarks/box_targets.py at tiny size: the baselines run on box targets."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from sim.sizing.session import ProblemOptions

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "box_targets.py"


def _load_script():
    spec = importlib.util.spec_from_file_location("box_targets_bench", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_box_targets_tiny(tmp_path: Path) -> None:
    """Six twostage/generic targets, B = 3: every baseline's row is consistent
    with its budget and the shared pool gets exactly our total sims."""
    run = tmp_path / "run"
    run.mkdir()
    problem = ProblemOptions("twostage", "generic").to_json()
    (run / "config.json").write_text(json.dumps({"problem": problem}))
    report = {
        "targets_from": "6 targets uniform over the declared box (seed 1)",
        "targets": 6,
        "success_rate": 0.5,
        "median_sims_per_target": 1.0,
        "p90_sims_per_target": 2.0,
        "sizing_sims": 4,
        "training_sims": 7,
    }
    eval_json = tmp_path / "eval.json"
    eval_json.write_text(json.dumps(report))
    out = tmp_path / "bench.json"
    module = _load_script()
    args = ["--eval-json", str(eval_json), "--run", str(run), "--json", str(out)]
    assert module.main([*args, "--baseline-sims", "3", "--ceiling", "0.9"]) == 0
    result = json.loads(out.read_text())
    assert result["targets"] == 6 and result["targets_seed"] == 1
    rows = {row["method"]: row for row in result["rows"]}
    assert rows["random (shared pool)"]["total_sims"] == 11
    for name in ("random per target", "CMA-ES per target"):
        row = rows[name]
        sims, met = row["per_target_sims"], row["per_target_met"]
        assert len(sims) == 6 and all(1 <= s <= 3 for s in sims)
        assert all(s == 3 for s, m in zip(sims, met, strict=True) if not m)
        assert row["met"] == sum(met)
    assert rows["CMA-ES per target"]["popsize"] == 3
    assert rows["CMA-ES per target"]["total_sims"] <= 18
