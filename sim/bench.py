"""``python -m sim bench``: simulation throughput of the pool vs fresh processes."""

from __future__ import annotations

import datetime
import os
import platform
import tempfile
import time
from pathlib import Path

from sim.pool import SimulationPool
from sim.reference import run_batch
from sim.sampling import random_designs
from sim.simulator import Simulator
from sim.store import SimulationStore


def _pool_rate(
    circuit: str,
    tech: str,
    corner: str | None,
    designs,
    warmup,
    workers: int,
    store_path: Path,
) -> tuple[float, int]:
    with SimulationPool(workers) as pool, SimulationStore(store_path) as store:
        simulator = Simulator(circuit, tech, corner, pool=pool, store=store)
        simulator.simulate(warmup, force=True)
        start = time.perf_counter()
        results = simulator.simulate(designs, force=True, progress=True)
        elapsed = time.perf_counter() - start
    return len(designs) / elapsed, sum(not r.ok for r in results)


def _cold_rate(
    circuit: str, tech: str, corner: str | None, designs, store_path: Path
) -> float:
    with SimulationStore(store_path) as store:
        simulator = Simulator(circuit, tech, corner, store=store)
        checked = [simulator.circuit.check_design(d) for d in designs]
        start = time.perf_counter()
        for design in checked:
            for tb in simulator.circuit.testbenches:
                analyses = simulator.jobs(design)[0].analyses
                run_batch(simulator.deck(tb.name, design), analyses)
        elapsed = time.perf_counter() - start
    return len(designs) / elapsed


def run_bench(
    circuit: str,
    tech: str,
    corner: str | None = None,
    n: int = 300,
    n_cold: int = 40,
    seed: int = 0,
) -> dict:
    """Simulate the same random designs with 1 and 2 workers and cold processes.

    Returns the figures written by ``python -m sim bench --json``.
    """
    with tempfile.TemporaryDirectory(prefix="jaxsizer-bench-") as tmp:
        store_path = Path(tmp) / "bench.sqlite"
        with SimulationStore(store_path) as store:
            probe = Simulator(circuit, tech, corner, store=store)
            designs = random_designs(probe.circuit, n, seed)
            warmup = random_designs(probe.circuit, 8, seed + 1)
            corner = probe.corner
        rate_1, failed_1 = _pool_rate(
            circuit, tech, corner, designs, warmup, 1, store_path
        )
        rate_2, failed_2 = _pool_rate(
            circuit, tech, corner, designs, warmup, 2, store_path
        )
        rate_cold = _cold_rate(circuit, tech, corner, designs[:n_cold], store_path)
    return {
        "circuit": circuit,
        "technology": tech,
        "corner": corner,
        "analyses": "per testbench, as in the circuit definition (op2: op + ac)",
        "designs": n,
        "cold_designs": min(n_cold, n),
        "per_worker_sims_per_s": rate_1,
        "two_worker_sims_per_s": rate_2,
        "scaling_2_workers": rate_2 / rate_1,
        "cold_process_sims_per_s": rate_cold,
        "speedup_vs_cold_process": rate_1 / rate_cold,
        "failures_1_worker": failed_1,
        "failures_2_workers": failed_2,
        "machine": {
            "cores": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "date": datetime.date.today().isoformat(),
    }
