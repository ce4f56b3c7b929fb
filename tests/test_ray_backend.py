"""The Ray backend on a local Ray instance: same results as the local pool,
an actor killed mid-batch costs nothing, the store is written on the driver."""

from __future__ import annotations

import math
import os
import signal

import numpy as np
import pytest

pytest.importorskip("ray")

from sim.engine.backend import BackendConfig, make_backend  # noqa: E402
from sim.sizing.sampling import random_designs  # noqa: E402
from sim.sizing.simulator import Simulator  # noqa: E402
from sim.storage.store import SimulationStore  # noqa: E402


@pytest.fixture(scope="module")
def ray_backend():
    backend = make_backend(BackendConfig(kind="ray", workers=2, timeout=60))
    yield backend
    backend.close()


def _same_figures(a: dict[str, float], b: dict[str, float]) -> bool:
    return a.keys() == b.keys() and all(
        a[k] == b[k] or (math.isnan(a[k]) and math.isnan(b[k])) for k in a
    )


def test_ray_results_equal_local_pool(ray_backend, pool, tmp_path):
    """Every figure of op2 (all testbenches) equal to the local pool's, exactly."""
    local = Simulator(
        "op2", "generic", backend=pool, store=SimulationStore(tmp_path / "a.sqlite")
    )
    designs = random_designs(local.circuit, 8, seed=5)
    expected = local.simulate(designs)
    store = SimulationStore(tmp_path / "b.sqlite")
    remote = Simulator("op2", "generic", backend=ray_backend, store=store)
    got = remote.simulate(designs)
    assert [r.status for r in got] == [r.status for r in expected]
    for mine, theirs in zip(got, expected, strict=True):
        assert _same_figures(mine.performance, theirs.performance)
    # The driver wrote the store: one row per design.
    assert store.count() == len(designs)


@pytest.mark.slow
def test_ray_actor_killed_mid_batch_delivers_every_result_once(ray_backend, pool):
    simulator = Simulator("op2", "generic", backend=pool)
    designs = random_designs(simulator.circuit, 6, seed=9)
    jobs = [job for d in designs for job in simulator.jobs(d)]
    expected = pool.map(jobs)
    victim = ray_backend.actor_pids[0]
    restarts = ray_backend.restarts
    delivered: list[int] = []

    def on_result(index: int, result) -> None:
        delivered.append(index)
        if len(delivered) == 3:  # both actors still hold queued jobs
            os.kill(victim, signal.SIGKILL)

    results = ray_backend.map(jobs, on_result)
    assert sorted(delivered) == list(range(len(jobs)))  # each exactly once
    assert ray_backend.restarts == restarts + 1
    assert victim not in ray_backend.actor_pids
    assert len(results) == len(jobs)
    for got, want in zip(results, expected, strict=True):
        assert got.status is want.status and got.ok, got.message
        assert got.vectors.keys() == want.vectors.keys()
        for key, vector in want.vectors.items():
            np.testing.assert_array_equal(got.vectors[key], vector)
