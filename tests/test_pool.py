"""The worker pool on real ngspice: equality with ngspice -b, faults, recovery."""

from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np
import pytest

from sim.engine.job import Analysis, SimulationJob
from sim.engine.pool import SimulationPool
from sim.engine.reference import run_batch
from sim.engine.result import Status
from sim.sizing.sampling import random_designs
from sim.sizing.simulator import Simulator
from tests.conftest import write_circuit


@pytest.mark.parametrize("tech", ["generic", "sky130"])
def test_pool_equals_ngspice_batch(tech, pool, store):
    """alterparam + reset in a persistent session == a fresh ngspice -b run.

    Every testbench of op2 (op, ac, noise, dc sweeps, transient) for random
    designs, within 0.1 %.
    """
    simulator = Simulator("op2", tech, backend=pool, store=store)
    designs = random_designs(simulator.circuit, 3, seed=11)
    names = [tb.name for tb in simulator.circuit.testbenches]
    for design in designs:
        jobs = simulator.jobs(simulator.circuit.check_design(design))
        results = pool.map(jobs)
        for name, job, result in zip(names, jobs, results, strict=True):
            assert result.status is Status.OK, result.message
            reference = run_batch(simulator.deck(name, design), job.analyses)
            assert set(reference) == set(result.vectors)
            for key, expected in reference.items():
                got = result.vectors[key]
                assert got.shape == expected.shape, key
                scale = np.maximum(np.abs(expected), 1e-30)
                assert np.all(np.abs(got - expected) <= 1e-3 * scale + 1e-15), key


def _bistable(tmp_path):
    """A circuit whose op fails to converge when k = 1 and converges at k = 0."""
    return write_circuit(
        tmp_path / "bistable",
        """\
        * a behavioural current with a jump: no DC solution when k = 1
        R1 in a 1k
        B1 a 0 I={k}*(v(a) > 0.5 ? 1 : -1)
        """,
        """\
        V1 in 0 1
        """,
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


def _slow_job(seconds_of_work: float = 1e-3) -> SimulationJob:
    """A transient that takes far longer than the timeouts used below."""
    deck = "* slow\nV1 a 0 sin(0 1 1meg)\nR1 a b 1k\nC1 b 0 1n\n.end\n"
    return SimulationJob(deck, (), (Analysis("tran", "tran 1p 10m", ("v(b)",)),))


def test_nonconvergence_is_a_status(tmp_path, pool, store):
    path = _bistable(tmp_path)
    simulator = Simulator(path, "generic", backend=pool, store=store)
    bad, good = simulator.simulate([{"k": 1}, {"k": 0}])
    assert bad.status is Status.NONCONVERGENCE, bad.message
    assert good.status is Status.OK and good.performance["va"] == pytest.approx(1.0)


def test_timeout_kills_and_replaces_worker(store):
    with SimulationPool(1, timeout=1.0) as pool:
        pid = pool.worker_pids[0]
        quick = SimulationJob(
            "* q\nV1 a 0 1\nR1 a 0 1k\n.end\n", (), (Analysis("op", "op", ("i(v1)",)),)
        )
        results = pool.map([quick, _slow_job(), quick])
        assert [r.status for r in results] == [Status.OK, Status.TIMEOUT, Status.OK]
        assert results[2].vectors["op:i(v1)"][0] == pytest.approx(-1e-3)
        assert pool.worker_pids[0] != pid
        assert pool.restarts == 1


def test_sigkill_worker_is_replaced_and_others_survive(tmp_path):
    """A worker killed mid-simulation: its job is a CRASH, the rest finish."""
    quick = SimulationJob(
        "* q\nV1 a 0 2\nR1 a 0 1k\n.end\n", (), (Analysis("op", "op", ("i(v1)",)),)
    )
    with SimulationPool(2, timeout=120) as pool:
        victims = list(pool.worker_pids)

        def kill_busy_worker():
            time.sleep(1.0)
            os.kill(victims[0], signal.SIGKILL)

        killer = threading.Thread(target=kill_busy_worker)
        killer.start()
        # Worker 0 takes the slow job first; worker 1 serves the quick ones.
        results = pool.map([_slow_job(), *[quick] * 20])
        killer.join()
        assert results[0].status is Status.CRASH
        assert all(r.status is Status.OK for r in results[1:])
        assert victims[0] not in pool.worker_pids
        assert pool.map([quick])[0].ok


def test_fatal_deck_error_is_reported_and_pool_continues(pool):
    broken = SimulationJob(
        "* broken\nV1 a 0 1\nR1 a 0 {undefined_param}\n.end\n",
        (),
        (Analysis("op", "op", ("v(a)",)),),
    )
    fine = SimulationJob(
        "* fine\nV1 a 0 1\nR1 a 0 1k\n.end\n", (), (Analysis("op", "op", ("v(a)",)),)
    )
    results = pool.map([broken, fine, fine])
    assert results[0].status is Status.ERROR and results[0].message
    assert all(r.ok for r in results[1:])


def test_missing_vector_is_measurement_missing(pool):
    job = SimulationJob(
        "* m\nV1 a 0 1\nR1 a 0 1k\n.end\n", (), (Analysis("op", "op", ("v(nowhere)",)),)
    )
    result = pool.map([job])[0]
    assert result.status is Status.MEASUREMENT_MISSING
    assert "v(nowhere)" in result.message


def test_decks_interleave_correctly(pool):
    """Several decks alive in one worker: each job sees its own deck and sizing."""
    deck_a = "* a\n.param r=1k\nV1 a 0 1\nR1 a 0 {r}\n.end\n"
    deck_b = "* b\n.param r=1k\nV1 a 0 2\nR1 a 0 {r}\n.end\n"
    analyses = (Analysis("op", "op", ("i(v1)",)),)
    jobs = []
    for i in range(12):
        deck = deck_a if i % 3 else deck_b
        jobs.append(SimulationJob(deck, (("r", 1e3 * (i + 1)),), analyses))
    for i, result in enumerate(pool.map(jobs)):
        volts = 1.0 if i % 3 else 2.0
        assert result.vectors["op:i(v1)"][0] == pytest.approx(-volts / (1e3 * (i + 1)))
