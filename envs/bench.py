"""``python -m envs.bench``: batched env steps/s vs ``python -m sim bench``.

For one circuit and technology (default op2 on sky130, as ``python -m sim
bench``; ``--env`` is a shorthand) in one action space (``--space``:
geometric by default, electrical sizes through the device networks, autockt
steps on AutoCkt's grid), with the same number of pool workers:

- ``figures=specs``: ``SpiceVectorEnv`` stepping only the analyses its specs
  need (op2: ``open_loop`` op + ac) against ``python -m sim bench``'s
  measurement (the same op + ac on the raw pool: no figures, no store);
- ``figures=all``: the env with GAC²E's whole figure set against ``python -m
  sim bench --full`` (every testbench, figures and store).

The two are timed alternately ``--repeats`` times on the same number of
designs (on a shared machine the load drifts) and the median ratio is
reported. Actions are uniform in ``[-1, 1]`` (designs uniform on each
parameter's scale, as the bench's random designs) and results go to a fresh
store, so nothing is served from earlier runs. Prints a table, writes JSON::

    python -m envs.bench --circuit op2 --tech sky130 --num-envs 16 --steps 10
"""

from __future__ import annotations

import contextlib
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from envs.sizing_space import space_variant
from envs.vector_env import SpiceVectorEnv
from sim.cli_conventions import (
    add_json_option,
    keeps_stdout_for_json,
    write_json,
)
from sim.commands.bench import _bench_jobs, _machine, _pool_rate
from sim.engine.backend import BackendConfig, make_backend
from sim.errors import OneLineArgumentParser, UserInputError, positive_int
from sim.sizing.sampling import random_designs
from sim.sizing.session import (
    DEFAULT_SPACE,
    add_space_option,
    env_id_parts,
    given_space,
)
from sim.sizing.simulator import Simulator
from sim.storage.store import SimulationStore


def sim_bench_rate(circuit: str, tech: str, n: int, workers: int, seed: int) -> float:
    """``python -m sim bench``'s op + ac throughput (sims/s) on ``n`` designs."""
    with tempfile.TemporaryDirectory(prefix="jaxsizer-envbench-") as tmp:
        store = SimulationStore(Path(tmp) / "s.sqlite")
        simulator = Simulator(circuit, tech, store=store)
        jobs, _ = _bench_jobs(
            simulator, random_designs(simulator.circuit, n, seed), None, ["op", "ac"]
        )
        warmup, _ = _bench_jobs(
            simulator,
            random_designs(simulator.circuit, 8, seed + 1),
            None,
            ["op", "ac"],
        )
        store.close()
    rate, _ = _pool_rate(jobs, warmup, workers)
    return rate


def sim_full_rate(circuit: str, tech: str, n: int, pool, seed: int) -> float:
    """``python -m sim bench --full``'s designs/s (every testbench, stored)."""
    with tempfile.TemporaryDirectory(prefix="jaxsizer-envbench-") as tmp:
        store = SimulationStore(Path(tmp) / "s.sqlite")
        simulator = Simulator(circuit, tech, store=store, backend=pool)
        simulator.simulate(random_designs(simulator.circuit, 4, seed + 1))
        designs = random_designs(simulator.circuit, n, seed)
        start = time.perf_counter()
        simulator.simulate(designs, force=True)
        elapsed = time.perf_counter() - start
        store.close()
    return n / elapsed


def process_cpu(pids: list[int]) -> float:
    """CPU seconds (user + system) used so far by processes ``pids`` (Linux)."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return float("nan")
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


class EnvTimer:
    """A ``SpiceVectorEnv`` on a fresh store, timed over batches of steps."""

    def __init__(self, args, figures: str, pool) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="jaxsizer-envbench-")
        self.store = SimulationStore(Path(self._tmp.name) / "store.sqlite")
        self.env = SpiceVectorEnv(
            args.circuit,
            args.tech,
            space_variant(args.space),
            num_envs=args.num_envs,
            pool=pool,
            figures=figures,
            store=self.store,
            max_steps=10**6,
        )
        self.pool = pool
        self.discrete = args.space == "autockt"
        self.rng = np.random.default_rng(args.seed)
        self.env.reset(seed=args.seed)
        self.step()  # warm-up
        self.worker_cpu = self.main_cpu = 0.0

    def step(self) -> int:
        shape = self.env.action_space.shape
        if self.discrete:  # autockt: 0 down, 1 keep, 2 up per parameter
            action = self.rng.integers(0, 3, shape)
        else:
            action = self.rng.uniform(-1, 1, shape).astype(np.float32)
        info = self.env.step(action)[4]
        return int(np.sum(info["status"] != "ok"))

    def rate(self, steps: int) -> tuple[float, int]:
        """Env steps per second over ``steps`` batched steps, and failures;
        adds up the CPU time of the workers and of this process."""
        workers = self.pool.worker_pids
        cpu_workers, cpu_main = process_cpu(workers), time.process_time()
        start = time.perf_counter()
        failures = sum(self.step() for _ in range(steps))
        elapsed = time.perf_counter() - start
        self.worker_cpu += process_cpu(workers) - cpu_workers
        self.main_cpu += time.process_time() - cpu_main
        return self.env.num_envs * steps / elapsed, failures

    def close(self) -> None:
        self.env.close()
        self.store.close()
        self._tmp.cleanup()


def compare(args, figures: str) -> dict:
    """Alternate the reference and the env ``args.repeats`` times."""
    steps = args.steps if figures == "specs" else max(1, args.steps // 4)
    n = args.num_envs * steps
    sims, envs, failures = [], [], 0
    with contextlib.closing(make_backend(BackendConfig(workers=args.workers))) as pool:
        timer = EnvTimer(args, figures, pool)
        try:
            for repeat in range(args.repeats):
                seed = args.seed + 100 * repeat
                if figures == "specs":
                    sims.append(
                        sim_bench_rate(args.circuit, args.tech, n, args.workers, seed)
                    )
                else:
                    sims.append(sim_full_rate(args.circuit, args.tech, n, pool, seed))
                rate, failed = timer.rate(steps)
                envs.append(rate)
                failures += failed
            worker_cpu, main_cpu = timer.worker_cpu, timer.main_cpu
        finally:
            timer.close()
    ratios = [e / s for e, s in zip(envs, sims, strict=True)]
    return {
        "reference": "python -m sim bench (op + ac)"
        if figures == "specs"
        else "python -m sim bench --full",
        "designs_per_repeat": n,
        "sim_bench_per_s": sims,
        "env_steps_per_s": envs,
        "ratios": ratios,
        "median_ratio": statistics.median(ratios),
        "env_failures": failures,
        # load-independent: CPU per env step in ngspice vs in this process;
        # with as many cores as workers, ngspice's share bounds the ratio
        "ngspice_cpu_ms_per_step": 1e3 * worker_cpu / (n * args.repeats),
        "main_cpu_ms_per_step": 1e3 * main_cpu / (n * args.repeats),
        "ngspice_cpu_share": worker_cpu / (worker_cpu + main_cpu),
    }


def _print(results: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"python -m envs.bench: {results['circuit']} on {results['technology']}"
        f" ({results['space']} space), {results['num_envs']} envs, "
        f"{results['workers']} workers, "
        f"{results['repeats']} alternating repeats (medians)"
    )
    columns = ("figures", "sim bench /s", "batched env steps/s", "ratio")
    for column in (*columns, "ngspice CPU share"):
        table.add_column(column, justify="right")
    for figures in ("specs", "all"):
        if figures in results:
            row = results[figures]
            table.add_row(
                figures,
                f"{statistics.median(row['sim_bench_per_s']):.1f}",
                f"{statistics.median(row['env_steps_per_s']):.1f}",
                f"{row['median_ratio']:.2f}",
                f"{row['ngspice_cpu_share']:.2f}",
            )
    Console().print(table)


def _problem_args(args) -> None:
    """Fill ``args.circuit``, ``args.tech`` and ``args.space`` from the flags,
    the ``--env`` id, and the defaults (op2 on sky130, geometric)."""
    circuit = tech = None
    if args.env is not None:
        circuit, tech, _ = env_id_parts(args.env)
    args.space = given_space(args) or DEFAULT_SPACE
    args.circuit = args.circuit or circuit or "op2"
    args.tech = args.tech or tech or "sky130"


@keeps_stdout_for_json
def main(argv: list[str] | None = None) -> int:
    parser = OneLineArgumentParser(prog="python -m envs.bench", description=__doc__)
    parser.add_argument(
        "--env", default=None, help="jaxsizer/<circuit>-<tech>-<space>-v0 (shorthand)"
    )
    parser.add_argument(
        "--circuit", default=None, help="circuit name or YAML path (default op2)"
    )
    parser.add_argument(  # as python -m sim bench
        "--tech", default=None, help="technology name or YAML path (default sky130)"
    )
    add_space_option(parser)
    parser.add_argument(
        "--num-envs", type=positive_int, default=16, help="envs stepped per batch"
    )
    parser.add_argument(
        "--steps", type=positive_int, default=10, help="batched steps timed"
    )
    parser.add_argument(
        "--workers", type=int, choices=(1, 2), default=2, help="ngspice workers"
    )
    parser.add_argument(
        "--repeats", type=positive_int, default=3, help="alternating timings"
    )
    parser.add_argument(
        "--figures",
        nargs="+",
        choices=("specs", "all"),
        default=["specs"],
        help="figure sets timed: the specs' analyses, or every figure",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the actions")
    add_json_option(parser, "the results")
    args = parser.parse_args(argv)
    try:
        _problem_args(args)
    except UserInputError as error:
        parser.error(str(error))
    results: dict = {
        "circuit": args.circuit,
        "technology": args.tech,
        "space": args.space,
        "workers": args.workers,
        "num_envs": args.num_envs,
        "repeats": args.repeats,
        "machine": _machine(),
    }
    for figures in args.figures:
        results[figures] = compare(args, figures)
    _print(results)
    if args.json:
        print(f"wrote {write_json(args.json, results, indent=2)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
