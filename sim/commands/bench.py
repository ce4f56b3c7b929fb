"""``python -m sim bench``: simulation throughput of the pool vs fresh processes.

Two benchmarks:

- ``run_bench``: one testbench's analyses (op2: ``op`` + ``ac`` of the
  open-loop bench) for the same random designs (a) with 1 worker, (b) with 2
  workers, (c) with a fresh ``ngspice -b`` process per simulation.
- ``run_full_bench``: seconds per design for a circuit's whole figure set
  (every testbench, measures, store), with 1 and 2 workers.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import os
import platform
import tempfile
import time
from pathlib import Path

from sim.engine.backend import BackendConfig, make_backend
from sim.engine.job import SimulationJob
from sim.engine.reference import run_batch
from sim.errors import UserInputError
from sim.sizing.sampling import random_designs
from sim.sizing.simulator import Simulator
from sim.storage.store import SimulationStore


def _machine() -> dict:
    return {
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "date": datetime.date.today().isoformat(),
    }


def _bench_jobs(
    simulator: Simulator, designs, testbench: str | None, analyses: list[str] | None
) -> tuple[list[SimulationJob], list[str]]:
    """One job per design: the chosen testbench, restricted to ``analyses``."""
    names = [tb.name for tb in simulator.circuit.testbenches]
    testbench = testbench or names[0]
    if testbench not in names:
        raise UserInputError(f"no testbench {testbench!r}; choose from {names}")
    index = names.index(testbench)
    jobs, decks = [], []
    for design in designs:
        checked = simulator.circuit.check_design(design)
        job = simulator.jobs(checked)[index]
        wanted = [a for a in job.analyses if analyses is None or a.name in analyses]
        if not wanted:
            raise UserInputError(f"testbench {testbench} has none of {analyses}")
        jobs.append(dataclasses.replace(job, analyses=tuple(wanted)))
        decks.append(simulator.deck(testbench, checked))
    return jobs, decks


def _pool_rate(
    jobs: list[SimulationJob], warmup: list[SimulationJob], workers: int
) -> tuple[float, int]:
    with contextlib.closing(make_backend(BackendConfig(workers=workers))) as pool:
        pool.map(warmup)
        start = time.perf_counter()
        results = pool.map(jobs)
        elapsed = time.perf_counter() - start
    return len(jobs) / elapsed, sum(not r.ok for r in results)


def run_bench(
    circuit: str,
    tech: str,
    corner: str | None = None,
    n: int = 300,
    n_cold: int = 40,
    seed: int = 0,
    testbench: str | None = None,
    analyses: list[str] | None = None,
) -> dict:
    """Simulations per second: 1 and 2 persistent workers vs ``ngspice -b``."""
    analyses = analyses or ["op", "ac"]
    with (
        tempfile.TemporaryDirectory(prefix="jaxsizer-bench-") as tmp,
        SimulationStore(Path(tmp) / "bench.sqlite") as store,
    ):
        simulator = Simulator(circuit, tech, corner, store=store)
        designs = random_designs(simulator.circuit, n, seed)
        jobs, decks = _bench_jobs(simulator, designs, testbench, analyses)
        extra = random_designs(simulator.circuit, 8, seed + 1)
        warmup, _ = _bench_jobs(simulator, extra, testbench, analyses)
    rate_1, failed_1 = _pool_rate(jobs, warmup, 1)
    rate_2, failed_2 = _pool_rate(jobs, warmup, 2)
    start = time.perf_counter()
    for job, deck in list(zip(jobs, decks, strict=True))[:n_cold]:
        run_batch(deck, job.analyses)
    rate_cold = min(n_cold, n) / (time.perf_counter() - start)
    return {
        "circuit": circuit,
        "technology": tech,
        "corner": simulator.corner,
        "testbench": testbench or simulator.circuit.testbenches[0].name,
        "analyses": [a.name for a in jobs[0].analyses],
        "designs": n,
        "cold_designs": min(n_cold, n),
        "per_worker_sims_per_s": rate_1,
        "two_worker_sims_per_s": rate_2,
        "scaling_2_workers": rate_2 / rate_1,
        "cold_process_sims_per_s": rate_cold,
        "speedup_vs_cold_process": rate_1 / rate_cold,
        "failures_1_worker": failed_1,
        "failures_2_workers": failed_2,
        "machine": _machine(),
    }


def run_full_bench(circuit: str, tech: str, n: int = 40, seed: int = 0) -> dict:
    """Seconds per design for the whole figure set, with 1 and 2 workers."""
    result = {
        "circuit": circuit,
        "technology": tech,
        "designs": n,
        "machine": _machine(),
    }
    for workers in (1, 2):
        with (
            tempfile.TemporaryDirectory(prefix="jaxsizer-bench-") as tmp,
            SimulationStore(Path(tmp) / "s.sqlite") as store,
            contextlib.closing(make_backend(BackendConfig(workers=workers))) as pool,
        ):
            simulator = Simulator(circuit, tech, backend=pool, store=store)
            simulator.simulate(random_designs(simulator.circuit, 4, seed + 1))
            designs = random_designs(simulator.circuit, n, seed)
            start = time.perf_counter()
            results = simulator.simulate(designs, force=True)
            elapsed = time.perf_counter() - start
        result[f"seconds_per_design_{workers}_worker"] = elapsed / n
        result[f"failures_{workers}_worker"] = sum(not r.ok for r in results)
        result["testbenches"] = len(simulator.circuit.testbenches)
    return result
