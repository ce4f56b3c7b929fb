"""A user's own circuit and technology, kept in a directory outside the
repository, through every command by path: targets (envs.specs) → train →
size → eval, with and without an operating-point section."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml

from tests.conftest import PTM45, REPO

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not PTM45.is_file(), reason=f"missing {PTM45}"),
]

TINY = [
    "--sim-budget",
    "220",
    "--initial-samples",
    "150",
    "--round-targets",
    "16",
    "--round-sims",
    "8",
    "--held-out",
    "10",
    "--eval-every",
    "1",
    "--max-rounds",
    "1",
    "--policy-updates",
    "1",
    "--table-size",
    "32",
    "--surrogate-hidden",
    "32",
    "--surrogate-members",
    "2",
    "--surrogate-max-epochs",
    "20",
    "--ppo-n-envs",
    "8",
    "--ppo-n-steps",
    "2",
    "--ppo-hidden",
    "16",
    "--ppo-minibatches",
    "1",
    "--ppo-epochs",
    "1",
    "--workers",
    "2",
]


def _run(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "HOME": str(cwd)},
    )


@pytest.mark.parametrize("operating_point", [True, False])
def test_user_files_through_every_command(
    tmp_path, ptm45_tech, cs_amp, operating_point
):
    circuit = cs_amp  # write_circuit returns the YAML path
    folder = cs_amp.parent
    data = yaml.safe_load(circuit.read_text())
    data["specs"] = {
        "gain": {"bound": "lower", "range": [5, 15]},
        "power": {"bound": "upper", "range": [5.0e-5, 2.0e-4], "scale": "log"},
    }
    if not operating_point:
        del data["operating_point"]
    circuit.write_text(yaml.safe_dump(data))
    work = tmp_path / "elsewhere"  # not the repository, not the circuit's folder
    work.mkdir()
    where = ["--circuit", str(circuit), "--tech", str(ptm45_tech)]

    targets = work / "targets.json"
    proc = _run("envs.specs", *where, "--n", "20", "--json", str(targets), cwd=work)
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(targets.read_text())["held_out"]) == 4

    run = work / "run"
    proc = _run("train", *where, "--run", str(run), *TINY, cwd=work)
    assert proc.returncode == 0, proc.stderr
    assert "held-out success" in proc.stdout

    proc = _run(
        "train.size",
        *("--run", str(run), "--target", "gain>=8dB", "--max-sims", "2"),
        cwd=work,
    )
    assert proc.returncode in (0, 1), proc.stderr
    assert "performance in ngspice vs target" in proc.stdout

    out = work / "eval.json"
    proc = _run(
        "train.eval",
        *("--run", str(run), "--targets", str(targets), "--max-sims", "2"),
        *("--json", str(out)),
        cwd=work,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    assert report["targets"] == 4  # a targets document stands for its held_out list
    assert 0.0 <= report["success_rate"] <= 1.0

    # a run refuses to size once its circuit files or its declared box changed
    netlist = folder / "dut.sp"
    original = netlist.read_text()
    netlist.write_text(original.replace("W={Wp}", "W={Wp*1.01}"))
    proc = _run("train.size", "--run", str(run), "--target", "gain>=8dB", cwd=work)
    assert proc.returncode == 2
    assert "changed since this run was trained" in proc.stderr
    netlist.write_text(original)
    data["specs"]["gain"]["range"] = [5, 18]
    circuit.write_text(yaml.safe_dump(data))
    proc = _run("train.size", "--run", str(run), "--target", "gain>=8dB", cwd=work)
    assert proc.returncode == 2
    assert "changed since this run was trained" in proc.stderr
