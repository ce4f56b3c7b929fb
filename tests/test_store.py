"""The simulation store: every simulation kept, repeats served, kill-safe."""

from __future__ import annotations

import json
import math
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from sim.engine.result import Status
from sim.sizing.sampling import random_designs
from sim.sizing.simulator import Simulator
from sim.storage.store import SimulationStore
from tests.conftest import REPO, write_circuit


def _row(**changes) -> dict:
    row = {
        "circuit": "op2",
        "circuit_fingerprint": "f" * 16,
        "technology": "generic",
        "corner": "tt",
        "temperature": 27.0,
        "params": {"W": 1e-6, "M": 2.0},
        "performance": {"a_0": 40.0},
        "status": "ok",
        "message": "",
        "elapsed": 0.01,
    }
    return {**row, **changes}


# -- SimulationStore on its own --------------------------------------------------
def test_add_latest_query_count(tmp_path):
    with SimulationStore(tmp_path / "s.sqlite") as store:
        assert store.count() == 0 and store.latest("k1") is None
        before = time.time()
        store.add("k1", **_row())
        store.add("k1", **_row(performance={"a_0": 41.0}))
        store.add("k2", **_row(corner="ss", status="nonconvergence", message="gmin"))
        assert store.count() == 2  # one row per key
        newest = store.latest("k1")
        assert newest.performance == {"a_0": 41.0}  # the newer result replaces it
        assert newest.params == {"W": 1e-6, "M": 2.0}
        assert newest.technology == "generic" and newest.corner == "tt"
        assert newest.temperature == 27.0 and newest.elapsed == 0.01
        assert before <= newest.created <= time.time()
        assert store.latest("k2", ("ok",)) is None
        failed = store.latest("k2", ("nonconvergence", "error"))
        assert failed.status == "nonconvergence" and failed.message == "gmin"
        assert [r.key for r in store.query(corner="ss")] == ["k2"]
        assert len(store.query(circuit="op2", status="ok")) == 1
    with SimulationStore(tmp_path / "s.sqlite") as reopened:
        assert reopened.count() == 2


def test_nan_and_inf_round_trip(store):
    values = {"ugbw": math.nan, "gain": math.inf, "loss": -math.inf, "pm": 61.5}
    store.add("k", **_row(performance=values))
    back = store.latest("k").performance
    assert math.isnan(back["ugbw"])
    assert back["gain"] == math.inf and back["loss"] == -math.inf
    assert back["pm"] == 61.5


def test_stored_text_is_sorted_json_with_null_and_inf_strings():
    """The finite fast path and the NaN/inf path write the same text as the
    plain rule (sorted keys; NaN -> null, +-inf -> "inf"/"-inf")."""
    from sim.storage.store import _dumps

    finite = {"b": 2.5, "a": -1e-300, "c": 3}
    assert _dumps(finite) == json.dumps(finite, sort_keys=True)
    mixed = {"z": math.inf, "y": math.nan, "x": 1.0, "w": -math.inf, "v": True}
    assert _dumps(mixed) == json.dumps(
        {"z": "inf", "y": None, "x": 1.0, "w": "-inf", "v": True}, sort_keys=True
    )


# -- through the Simulator -------------------------------------------------------
def test_every_simulation_is_stored_and_repeats_are_served(pool, store):
    simulator = Simulator("op2", "generic", backend=pool, store=store)
    designs = random_designs(simulator.circuit, 3, seed=3)
    start = time.time()
    first = simulator.simulate(designs)
    assert store.count() == 3
    assert not any(r.cached for r in first)
    rows = {row.key: row for row in store.query()}  # stored as they finish
    for result in first:
        row = rows[simulator.key(result.params)]
        assert row.params == result.params
        assert row.status == result.status.value
        assert row.circuit == "op2" and row.technology == "generic"
        assert row.corner == "tt" and row.temperature == 27.0
        assert row.elapsed > 0 and start <= row.created <= time.time()
        assert row.performance == result.performance

    again = simulator.simulate(designs)
    assert store.count() == 3  # nothing new ran
    assert all(r.cached for r in again)
    for a, b in zip(first, again, strict=True):
        assert a.params == b.params and a.status is b.status
        assert a.performance == b.performance

    forced = simulator.simulate(designs[:1], force=True)
    assert store.count() == 3 and not forced[0].cached  # replaced, one row a key
    assert forced[0].performance["a_0"] == pytest.approx(first[0].performance["a_0"])


def test_store_keys_distinguish_corner_and_temperature(pool, store):
    design = {"Wdp1": 7e-6}
    for corner, temperature in (("tt", 27.0), ("ss", 27.0), ("tt", 85.0)):
        sim = Simulator(
            "op2", "generic", corner, temperature, backend=pool, store=store
        )
        assert not sim.simulate_one(design).cached
    assert store.count() == 3
    assert {(r.corner, r.temperature) for r in store.query()} == {
        ("tt", 27.0),
        ("ss", 27.0),
        ("tt", 85.0),
    }


def _rc_lowpass(tmp_path):
    """An RC low-pass: gain < 0 dB, so it has no unity-gain frequency (NaN)."""
    return write_circuit(
        tmp_path / "rc",
        "R1 in out {R}\nC1 out 0 1n\n",
        "V1 in 0 dc 0 ac 1\n",
        """\
        netlist: dut.sp
        parameters:
          R: {bounds: [100, 1.0e+4], default: 1000}
        testbenches:
          tb: {netlist: tb.sp, analyses: {ac: ac dec 10 1 1G}}
        measures:
          gain: {measure: dc_gain, analysis: tb.ac, output: v(out), unit: dB}
          ugbw: {measure: unity_gain_bandwidth, analysis: tb.ac, output: v(out)}
        """,
    )


def test_nan_figure_round_trips_through_simulator(tmp_path, pool, store):
    simulator = Simulator(_rc_lowpass(tmp_path), "generic", backend=pool, store=store)
    fresh = simulator.simulate_one()
    assert fresh.ok and math.isnan(fresh.performance["ugbw"])
    assert fresh.performance["gain"] == pytest.approx(0.0, abs=1e-6)
    cached = simulator.simulate_one()
    assert cached.cached and cached.ok
    assert math.isnan(cached.performance["ugbw"])
    assert cached.performance["gain"] == pytest.approx(0.0, abs=1e-6)


def _bistable(tmp_path):
    """No DC solution when k = 1 (a current that jumps), fine at k = 0."""
    return write_circuit(
        tmp_path / "bistable",
        "R1 in a 1k\nB1 a 0 I={k}*(v(a) > 0.5 ? 1 : -1)\n",
        "V1 in 0 1\n",
        """\
        netlist: dut.sp
        parameters:
          k: {bounds: [0, 1], default: 0}
        testbenches:
          tb: {netlist: tb.sp, analyses: {op: op}}
        measures:
          va: {measure: node_voltage, analysis: tb.op, node: v(a)}
        """,
    )


def test_failed_simulation_is_stored_with_status(tmp_path, pool, store):
    simulator = Simulator(_bistable(tmp_path), "generic", backend=pool, store=store)
    bad = simulator.simulate_one({"k": 1})
    assert bad.status is Status.NONCONVERGENCE and bad.message
    [row] = store.query(status="nonconvergence")
    assert row.params == {"k": 1.0} and row.message == bad.message
    assert row.performance == {}
    # Non-convergence is deterministic: asking again does not re-simulate.
    again = simulator.simulate_one({"k": 1})
    assert again.cached and again.status is Status.NONCONVERGENCE
    assert store.count() == 1


# -- kill safety -----------------------------------------------------------------
_KILLED_RUN = """\
import sys

from sim.sizing.sampling import random_designs
from sim.sizing.simulator import Simulator
from sim.storage.store import SimulationStore

if __name__ == "__main__":
    store = SimulationStore(sys.argv[1])
    with Simulator("op2", "generic", store=store, n_workers=1) as simulator:
        designs = random_designs(simulator.circuit, int(sys.argv[2]), seed=7)
        for i, design in enumerate(designs):
            simulator.simulate([design])
            print(f"done {i + 1}", flush=True)
"""


def test_sigkilled_run_loses_no_finished_simulation(tmp_path, pool):
    path = tmp_path / "killed.sqlite"
    script = tmp_path / "run.py"
    script.write_text(_KILLED_RUN)
    n = 400
    errors = (tmp_path / "stderr.txt").open("w")
    proc = subprocess.Popen(
        [sys.executable, str(script), str(path), str(n)],
        stdout=subprocess.PIPE,
        stderr=errors,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        start_new_session=True,  # its workers share its process group
    )
    reported = 0
    try:
        for line in proc.stdout:
            reported = int(line.split()[1])
            if reported >= 20:
                break
        os.killpg(proc.pid, signal.SIGKILL)  # the run and its ngspice worker
    finally:
        proc.wait(timeout=60)
        errors.close()
    assert proc.returncode == -signal.SIGKILL, (tmp_path / "stderr.txt").read_text()
    assert 20 <= reported < n, "the run finished before it could be killed"

    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    rows = raw.execute(
        "SELECT key, params, performance, status, elapsed, created"
        " FROM simulations ORDER BY id"
    ).fetchall()
    raw.close()
    assert len(rows) >= reported
    for key, params, performance, status, elapsed, created in rows:
        assert key and status in {s.value for s in Status}
        assert len(json.loads(params)) == 12
        assert isinstance(json.loads(performance), dict)
        assert elapsed >= 0 and created > 0

    with SimulationStore(path) as store:
        simulator = Simulator("op2", "generic", backend=pool, store=store)
        designs = random_designs(simulator.circuit, n, seed=7)
        stored = len(rows)
        resumed = simulator.simulate(designs[: stored + 5])
        assert all(r.cached for r in resumed[:stored])
        assert not any(r.cached for r in resumed[stored:])
        assert store.count() == stored + 5


@pytest.fixture(autouse=True)
def _no_stray_store(tmp_path):
    """Tests here write only where they say (the default store stays unused)."""
    yield
    assert not (tmp_path / "default-store.sqlite").exists()


def test_default_store_path_follows_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("JAXSIZER_STORE", str(tmp_path / "env" / "x.sqlite"))
    with SimulationStore() as store:
        assert store.path == tmp_path / "env" / "x.sqlite"
        assert store.path.is_file()
