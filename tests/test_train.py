"""The surrogate-in-the-loop trainer at small size, on real ngspice (generic)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import REPO

SMALL = [
    "--env",
    "jaxsizer/op2-generic-v1",
    "--sim-budget",
    "140",
    "--initial-samples",
    "100",
    "--max-rounds",
    "2",
    "--updates-per-round",
    "3",
    "--verify-targets",
    "8",
    "--uncertain-designs",
    "4",
    "--walk-steps",
    "3",
    "--episode-steps",
    "3",
    "--surrogate-hidden",
    "32",
    "--surrogate-members",
    "2",
    "--surrogate-max-epochs",
    "20",
    "--ppo-n-envs",
    "16",
    "--ppo-n-steps",
    "4",
    "--ppo-hidden",
    "32",
    "--ppo-minibatches",
    "2",
    "--ppo-epochs",
    "1",
    "--workers",
    "2",
]


def _train(tmp_path, *extra, check=True, **kwargs):
    env = {**os.environ, "JAXSIZER_STORE": str(tmp_path / "store.sqlite")}
    return subprocess.run(
        [sys.executable, "-m", "train", *extra],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=check,
        **kwargs,
    )


def _lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """One short surrogate run shared by the tests that only read it."""
    tmp_path = tmp_path_factory.mktemp("train")
    run = tmp_path / "run"
    _train(tmp_path, "--surrogate", "--run", str(run), *SMALL)
    return run


def test_short_surrogate_run_verifies_and_checkpoints(trained_run):
    run = trained_run
    verified = _lines(run / "verified.jsonl")
    assert 100 < len(verified) <= 140
    assert {r["source"] for r in verified} >= {"initial", "verify"}
    assert all(r["status"] for r in verified)
    assert (run / "checkpoint.msgpack").stat().st_size > 0
    assert (run / "surrogate" / "weights.npz").is_file()
    metrics = _lines(run / "metrics.jsonl")
    assert [m["round"] for m in metrics] == [0, 1]
    assert 0.0 <= metrics[-1]["verified_success"] <= 1.0
    assert any(p.name.startswith("events") for p in (run / "tb").iterdir())


def test_size_a_target_writes_netlist_and_plot(trained_run, tmp_path):
    out = tmp_path / "sized"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "train.size",
            "--run",
            str(trained_run),
            "--target",
            "a_0>=25dB ugbw>=5MHz pm>=40deg power<=600uW",
            "--max-sims",
            "3",
            "--out",
            str(out),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "JAXSIZER_STORE": str(tmp_path / "s.sqlite")},
    )
    assert proc.returncode in (0, 1), proc.stderr  # 1: not met, said plainly
    assert "performance in ngspice vs target" in proc.stdout
    assert (out / "sized.sp").read_text().count(".param") >= 12
    assert (out / "bode.png").stat().st_size > 0


def test_kill_and_resume_keeps_every_verified_design(tmp_path):
    run = tmp_path / "run"
    env = {**os.environ, "JAXSIZER_STORE": str(tmp_path / "store.sqlite")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "train", "--surrogate", "--run", str(run), *SMALL],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    log = run / "verified.jsonl"
    deadline = time.time() + 300
    while time.time() < deadline and (
        not log.is_file() or len(log.read_text().splitlines()) < 30
    ):
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = log.read_text().splitlines()
    assert len(before) >= 30
    _train(tmp_path, "--surrogate", "--run", str(run), "--resume")
    after = log.read_text().splitlines()
    assert after[: len(before)] == before  # nothing verified was lost or rewritten
    assert len(after) > len(before)


@pytest.mark.parametrize(
    "target, message",
    [
        ("a_0>>60dB", "cannot read target term"),
        ("gain>=60dB ugbw>=1MHz pm>=60deg power<=1mW", "not a spec"),
        ("a_0<=60dB ugbw>=1MHz pm>=60deg power<=1mW", "bounded with >="),
        ("a_0>=60dB", "target misses"),
        ("a_0>=60Hz ugbw>=1MHz pm>=60deg power<=1mW", "unit"),
        ('{"a_0": "high"}', "must be a number"),
    ],
)
def test_bad_targets_give_one_clear_line(tmp_path, target, message):
    run = tmp_path / "run"
    _train(tmp_path, "--surrogate", "--run", str(run), *SMALL)
    proc = subprocess.run(
        [sys.executable, "-m", "train.size", "--run", str(run), "--target", target],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "JAXSIZER_STORE": str(tmp_path / "s.sqlite")},
    )
    assert proc.returncode == 2
    assert message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr
