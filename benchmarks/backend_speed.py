"""Throughput of the simulation backends: local pool, Ray, remote server.

    python benchmarks/backend_speed.py [--n 300] [--workers 2] \\
        [--circuit op2] [--tech generic] [--json backend_speed.json]

Each backend simulates the same random designs (every testbench of the
circuit, nothing served from a store) with ``--workers`` ngspice processes:
the local pool, Ray with that many actors on a local instance, and a
``sim.commands.server`` on loopback with that many workers reached through the remote
client. Prints designs/s and the ratio to the local pool; writes JSON.
"""

from __future__ import annotations

import os
import platform
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.cli_conventions import (  # noqa: E402
    add_count_option,
    add_json_option,
    keeps_stdout_for_json,
    write_json,
)
from sim.engine.backend import BACKENDS, BackendConfig, make_backend  # noqa: E402
from sim.errors import OneLineArgumentParser, positive_int  # noqa: E402
from sim.sizing.sampling import random_designs  # noqa: E402
from sim.sizing.simulator import Simulator  # noqa: E402
from sim.storage.store import SimulationStore  # noqa: E402


def _rate(simulator: Simulator, designs: list[dict]) -> dict:
    """Designs per second of one ``simulate`` call (after a warm-up design)."""
    simulator.simulate(designs[:1])
    start = time.perf_counter()
    results = simulator.simulate(designs[1:])
    seconds = time.perf_counter() - start
    return {
        "designs": len(results),
        "seconds": seconds,
        "designs_per_s": len(results) / seconds,
        "failures": sum(not r.ok for r in results),
        "first_failure": next((r.message for r in results if not r.ok), ""),
    }


def _local(args, designs, workdir: Path) -> dict:
    backend = make_backend(BackendConfig(workers=args.workers))
    try:
        store = SimulationStore(workdir / "local.sqlite")
        sim = Simulator(args.circuit, args.tech, backend=backend, store=store)
        return _rate(sim, designs)
    finally:
        backend.close()


def _ray(args, designs, workdir: Path) -> dict:
    config = BackendConfig(kind="ray", workers=args.workers)
    backend = make_backend(config)
    try:
        store = SimulationStore(workdir / "ray.sqlite")
        sim = Simulator(args.circuit, args.tech, backend=backend, store=store)
        return {**_rate(sim, designs), "actor_restarts": backend.restarts}
    finally:
        backend.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _remote(args, designs, workdir: Path) -> dict:
    token = secrets.token_hex(16)
    (workdir / "token").write_text(token)
    (workdir / "token").chmod(0o600)  # the server refuses a token others can read
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        sys.executable,
        "-m",
        "sim.commands.server",
        "--port",
        str(port),
        "--token-file",
        str(workdir / "token"),
        "--store",
        str(workdir / "server.sqlite"),
        "--workers",
        str(args.workers),
        "--circuits",
        f"{args.circuit}:{args.tech}",
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "JAXSIZER_BENCH_TOKEN": token}
    server = subprocess.Popen(command, cwd=workdir, env=env)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the simulation server did not start") from None
                time.sleep(0.2)
        os.environ["JAXSIZER_BENCH_TOKEN"] = token
        config = BackendConfig(
            kind="remote", server=url, token_env="JAXSIZER_BENCH_TOKEN"
        )
        store = SimulationStore(workdir / "client.sqlite")
        with Simulator(args.circuit, args.tech, backend=config, store=store) as sim:
            return _rate(sim, designs)
    finally:
        server.terminate()
        server.wait(timeout=60)


def _backends(text: str) -> list[str]:
    """argparse type: a comma-separated subset of ``sim.engine.backend.BACKENDS``."""
    names = text.split(",")
    if not names or any(name not in BACKENDS for name in names):
        raise ValueError(text)
    return names


_backends.__name__ = f"subset of {','.join(BACKENDS)}"


@keeps_stdout_for_json
def main(argv: list[str] | None = None) -> None:
    parser = OneLineArgumentParser(
        prog="python benchmarks/backend_speed.py",
        description=__doc__.splitlines()[0],
    )
    add_count_option(parser, 300, "random designs timed", old=["--designs"])
    parser.add_argument(
        "--workers", type=positive_int, default=2, help="ngspice processes per backend"
    )
    parser.add_argument(
        "--circuit", default="op2", help="circuit name or YAML path (default op2)"
    )
    parser.add_argument(
        "--tech", default="generic", help="technology name or YAML path"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the designs")
    add_json_option(parser, "the report", default="backend_speed.json")
    parser.add_argument(
        "--backends",
        type=_backends,
        default="local,ray,remote",
        help="comma-separated subset of local,ray,remote",
    )
    args = parser.parse_args(argv)
    probe = Simulator(args.circuit, args.tech, store=SimulationStore(":memory:"))
    designs = random_designs(probe.circuit, args.n + 1, seed=args.seed)
    runs = {"local": _local, "ray": _ray, "remote": _remote}
    rows: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="jaxsizer-bench-") as tmp:
        for name in args.backends:
            rows[name] = runs[name](args, designs, Path(tmp))
    base = rows.get("local", {}).get("designs_per_s")
    print(f"{args.circuit}/{args.tech}, {args.n} designs, {args.workers} workers")
    print(f"{'backend':8} {'designs/s':>10} {'vs local':>9} {'failures':>9}")
    for name, row in rows.items():
        if base:
            row["vs_local"] = row["designs_per_s"] / base
        ratio = f"{row['vs_local']:.2f}x" if base else "-"
        print(f"{name:8} {row['designs_per_s']:10.1f} {ratio:>9} {row['failures']:>9}")
    report = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": {
            "cpu": platform.processor() or platform.machine(),
            "cores": os.cpu_count(),
            "python": platform.python_version(),
        },
        "circuit": args.circuit,
        "technology": args.tech,
        "workers": args.workers,
        "backends": rows,
    }
    print(f"wrote {write_json(args.json, report, indent=2)}")


if __name__ == "__main__":
    main()
