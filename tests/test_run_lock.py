"""One writer per run directory; resume re-uses what a killed run simulated
and does nothing more for a finished run (issue 24, item 3)."""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import subprocess
import sys
import time

import pytest

from sim.errors import UserInputError
from surrogate.circuit.dataset import designs_from_actions, sobol_actions
from tests.conftest import REPO
from train.config import TrainConfig, config_to_dict
from train.loop import BoxLoop
from train.run_dir import RunDir

TINY = [
    "--env",
    "jaxsizer/twostage-generic-v1",
    "--sim-budget",
    "60",
    "--initial-samples",
    "24",
    "--round-targets",
    "8",
    "--round-sims",
    "4",
    "--held-out",
    "6",
    "--eval-every",
    "1",
    "--max-rounds",
    "2",
    "--policy-updates",
    "0",
    "--surrogate-max-epochs",
    "30",
    "--surrogate-members",
    "1",
    "--surrogate-hidden",
    "16",
    "--workers",
    "1",
]


def _train(*args, **kwargs):
    return subprocess.run(
        [sys.executable, "-m", "train", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
        **kwargs,
    )


def test_second_writer_is_refused_naming_the_holder(tmp_path):
    holder = RunDir(tmp_path / "run")
    holder.lock()
    with pytest.raises(UserInputError) as info:
        RunDir(tmp_path / "run").lock()
    message = str(info.value)
    assert f"pid {os.getpid()} on {socket.gethostname()} since " in message
    assert "\n" not in message
    holder.unlock()
    RunDir(tmp_path / "run").lock()  # free again


def test_resume_while_another_writer_holds_the_run_is_one_line_and_touches_nothing(
    tmp_path, capsys
):
    """The holder here is this test (a separate open of the lock file
    conflicts like another process; the slow test below uses two)."""
    from train.__main__ import main

    run = tmp_path / "run"
    holder = RunDir(run)
    holder.lock()
    (run / "verified.jsonl").write_text('{"round": 0}\n')
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    assert main(["--run", str(run), "--resume", *TINY[:2]]) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err
    assert f"pid {os.getpid()} on {socket.gethostname()}" in lines[0]
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before
    holder.unlock()


def _tiny_config(run) -> TrainConfig:
    from train.__main__ import parse

    config, _, _ = parse(["--run", str(run), *TINY])
    return dataclasses.replace(config, sim_budget=10, initial_samples=10)


def test_resume_of_a_killed_initial_batch_reuses_the_stored_designs(tmp_path):
    """A kill during the initial batch leaves its finished designs in the
    run's store (and some records written): resume draws the same Sobol
    designs, simulates only the missing ones, records each once."""
    config = _tiny_config(tmp_path / "run")
    loop = BoxLoop(config)
    loop.dir.write_config(config_to_dict(config))
    names = loop.problem.scale.names
    designs = designs_from_actions(loop.problem, sobol_actions(len(names), 10, 0))
    done = loop.session.simulator.simulate(designs[:6])  # stored, then "killed"
    loop.record(done[:3], "initial")  # three records made it to verified.jsonl
    loop.close()
    resumed = BoxLoop(config, resume=True)
    try:
        summary = resumed.run()
        stored = resumed.store.count()
    finally:
        resumed.close()
    records = RunDir(config.run).verified()
    params = [json.dumps(r["params"], sort_keys=True) for r in records]
    assert len(records) == 10 == summary["spice_sims"]
    assert len(set(params)) == 10  # nothing verified twice
    assert params == [json.dumps(d, sort_keys=True) for d in designs]
    assert stored == 10  # the 6 killed-batch designs were not simulated again


@pytest.mark.slow
def test_concurrent_resumes_one_writer_and_a_finished_run_does_nothing(tmp_path):
    run = tmp_path / "run"
    first = subprocess.Popen(
        [sys.executable, "-m", "train", "--run", str(run), *TINY],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 300
    lock = run / ".lock"
    while time.time() < deadline and not (lock.is_file() and lock.read_text()):
        time.sleep(0.2)
    second = _train("--run", str(run), "--resume")
    out, err = first.communicate(timeout=900)
    assert first.returncode == 0, err
    assert second.returncode == 2, second.stderr
    assert f"pid {first.pid} on" in second.stderr
    assert len(second.stderr.strip().splitlines()) == 1
    records = (run / "verified.jsonl").read_text().splitlines()
    metrics = (run / "metrics.jsonl").read_text()
    document = json.loads((run / "held_out.json").read_text())
    assert f"{len(records)} SPICE simulations in total" in out  # one writer's
    assert document["total_spice_sims"] == len(records)
    again = _train("--run", str(run), "--resume")
    assert again.returncode == 0, again.stderr
    assert (run / "verified.jsonl").read_text().splitlines() == records
    assert (run / "metrics.jsonl").read_text() == metrics
    assert "held-out success None" not in again.stdout
    assert "held-out success " in again.stdout and "nothing new run" in again.stdout
    # A damaged surrogate: sizing names it in one line, --resume refits it
    # from the verified designs without a new simulation.
    (run / "surrogate" / "surrogate.json").write_text('{"mean": [1, ')
    size = [sys.executable, "-m", "train.size", "--run", str(run)]
    size += ["--target", "a_0>=40dB", "--max-sims", "1"]
    broken = subprocess.run(size, cwd=REPO, capture_output=True, text=True)
    assert broken.returncode == 2 and "--resume" in broken.stderr
    assert len(broken.stderr.strip().splitlines()) == 1
    repaired = _train("--run", str(run), "--resume")
    assert repaired.returncode == 0, repaired.stderr
    assert (run / "verified.jsonl").read_text().splitlines() == records
    assert RunDir.existing(run).surrogate_problem() is None
