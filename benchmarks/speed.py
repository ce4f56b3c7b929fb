"""``python -m benchmarks speed``: one table, ratios first.

    python -m benchmarks speed [--circuit op2 --tech sky130] [--json PATH] [--quick]

- simulation throughput: the same random designs with 1 and 2 persistent
  ngspice workers and a fresh ``ngspice -b`` process per design
  (``sim.commands.bench.run_bench``, what ``python -m sim bench`` measures);
- surrogate env steps/s (jitted, vmapped, ``lax.scan``) against SPICE env
  steps/s on the same circuit (``envs.surrogate_bench``), when the circuit has
  a fitted surrogate (``surrogate.circuit.store.surrogate_dir``: the user's
  or the shipped one);
- device-network and circuit-surrogate accuracy as recorded in that
  directory's metadata (``model.json``, ``surrogate.json``; nothing refitted).

Absolute rates vary from machine to machine (3x between two 2-core machines
measured); the ratios held, so they come first.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from benchmarks.sizing_report import environment
from sim.cli_conventions import (
    add_count_option,
    add_deprecated_alias,
    add_json_option,
    write_json,
)
from sim.errors import positive_int


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``python -m benchmarks speed`` (one help each)."""
    parser.add_argument("--circuit", default="op2", help="circuit name")
    parser.add_argument("--tech", default="sky130", help="technology name")
    add_count_option(
        parser,
        None,
        "designs timed per pool (default 300; quick 40)",
        old=["--designs"],
    )
    parser.add_argument(
        "--cold-n",
        type=positive_int,
        default=None,
        metavar="N",
        help="designs timed with a fresh ngspice -b each (default 40; quick 10)",
    )
    add_deprecated_alias(parser, "--cold-designs", "--cold-n", type=positive_int)
    parser.add_argument(
        "--batch",
        type=positive_int,
        default=None,
        help="surrogate envs vmapped (default 4096; quick 256)",
    )
    parser.add_argument(
        "--steps",
        type=positive_int,
        default=None,
        help="surrogate env steps timed (default 100; quick 20)",
    )
    parser.add_argument(
        "--spice-steps",
        type=positive_int,
        default=None,
        help="SPICE env steps timed (default 100; quick 20)",
    )
    add_json_option(parser, "the results")
    parser.add_argument("--quick", action="store_true", help="small sizes for CI")


def _sizes(args) -> dict:
    quick = {"designs": 40, "cold_designs": 10, "batch": 256, "steps": 20}
    full = {"designs": 300, "cold_designs": 40, "batch": 4096, "steps": 100}
    base = {**(quick if args.quick else full), "spice_steps": 20 if args.quick else 100}
    given = {
        "designs": args.n,
        "cold_designs": args.cold_n,
        "batch": args.batch,
        "steps": args.steps,
        "spice_steps": args.spice_steps,
    }
    return {k: given[k] or v for k, v in base.items()}


def simulation_rates(circuit: str, tech: str, sizes: dict) -> dict:
    """``sim.commands.bench.run_bench``: 1 and 2 workers and fresh ``ngspice -b``."""
    from sim.commands.bench import run_bench

    return run_bench(circuit, tech, n=sizes["designs"], n_cold=sizes["cold_designs"])


def env_rates(circuit: str, tech: str, sizes: dict) -> dict | None:
    """Surrogate env and SPICE env steps/s (None without a fitted surrogate)."""
    from surrogate.circuit.store import surrogate_dir

    directory = surrogate_dir(tech, circuit)
    if not (directory / "surrogate.json").is_file():
        return None
    from envs.surrogate_bench import spice_rate, surrogate_rate
    from envs.surrogate_env import EnvParams, SurrogateEnv, surrogate_params
    from sim.sizing.session import ProblemOptions, open_session
    from sim.storage.store import SimulationStore
    from surrogate.circuit.store import load_surrogate

    loaded = load_surrogate(directory)
    with tempfile.TemporaryDirectory(prefix="jaxsizer-speed-") as tmp:
        store = SimulationStore(Path(tmp) / "speed.sqlite")
        session = open_session(
            ProblemOptions(circuit, tech, all_figures=True), store=store
        )
        try:
            env = SurrogateEnv(session.problem, session.default_sizing)
            params = EnvParams(surrogate_params(loaded, "distilled"), 200)
            fast = surrogate_rate(env, params, sizes["batch"], sizes["steps"])
            slow = spice_rate(session, sizes["spice_steps"])
        finally:
            session.close()
            store.close()
    return {
        "surrogate_steps_per_s": fast,
        "spice_env_steps_per_s": slow,
        "surrogate_vs_spice_env": fast / slow,
        "model": "distilled" if loaded.fast_weights is not None else "ensemble",
        "batch": sizes["batch"],
        "steps": sizes["steps"],
    }


def recorded_accuracy(circuit: str, tech: str) -> dict:
    """Accuracy stored beside the models (held-out errors; nothing refitted):
    per device network the median and p95 error of each output, and the
    circuit surrogate's median relative error and within-2-sigma share."""
    from surrogate.circuit.store import surrogate_dir
    from surrogate.device.model_file import model_dir
    from surrogate.model_paths import model_roots

    out: dict = {"devices": {}, "surrogate": None}
    for root in model_roots():
        for meta in sorted((root / tech).glob("*/model.json")):
            if model_dir(tech, meta.parent.name) != meta.parent:
                continue  # shadowed: the user's fitted model is the one read
            network = json.loads(meta.read_text()).get("accuracy", {}).get("network")
            if network:
                out["devices"][meta.parent.name] = network
    surrogate = surrogate_dir(tech, circuit) / "surrogate.json"
    if surrogate.is_file():
        accuracy = json.loads(surrogate.read_text()).get("accuracy") or {}
        out["surrogate"] = accuracy
    return out


def _accuracy_rows(accuracy: dict) -> list[tuple[str, str]]:
    rows = []
    for device, outputs in accuracy["devices"].items():
        text = ", ".join(
            f"{name} {v['median']:.3g}/{v['p95']:.3g}" for name, v in outputs.items()
        )
        rows.append((f"device network {device}: error median/p95", text))
    figures = accuracy["surrogate"] or {}
    relative = [v["median_rel"] for v in figures.values() if "median_rel" in v]
    within = [v["within_2_sigma"] for v in figures.values() if "within_2_sigma" in v]
    if relative:
        rows.append(
            (
                "circuit surrogate: median relative error (median over figures)",
                f"{np.median(relative):.1%} over {len(relative)} figures",
            )
        )
    if within:
        rows.append(
            (
                "circuit surrogate: SPICE within its 2-sigma band (mean over figures)",
                f"{np.mean(within):.1%}",
            )
        )
    return rows


def table(result: dict) -> str:
    """Markdown: ratios first, then absolute rates, then accuracy."""
    sims, env = result["simulation"], result["env"]
    ratios = [
        ("2 workers vs 1 (simulation throughput)", f"{sims['scaling_2_workers']:.2f}x"),
        (
            "persistent worker vs fresh ngspice -b",
            f"{sims['speedup_vs_cold_process']:.1f}x",
        ),
    ]
    absolute = [
        ("1 worker (sims/s)", f"{sims['per_worker_sims_per_s']:.1f}"),
        ("2 workers (sims/s)", f"{sims['two_worker_sims_per_s']:.1f}"),
        ("fresh ngspice -b (sims/s)", f"{sims['cold_process_sims_per_s']:.1f}"),
    ]
    if env is None:
        ratios.append(("surrogate env vs SPICE env", "no fitted surrogate"))
    else:
        ratios.append(
            (
                "surrogate env vs SPICE env (steps/s)",
                f"{env['surrogate_vs_spice_env']:.3g}x",
            )
        )
        absolute += [
            (
                f"surrogate env steps/s ({env['model']}, batch {env['batch']})",
                f"{env['surrogate_steps_per_s']:.3g}",
            ),
            ("SPICE env steps/s", f"{env['spice_env_steps_per_s']:.3g}"),
        ]
    rows = ratios + absolute + _accuracy_rows(result["accuracy"])
    versions = result["versions"]
    head = (
        f"{result['circuit']}/{result['technology']}, {result['date']}, "
        f"{result['machine']['cpu_model']} ({result['machine']['cpu_count']} cores), "
        f"python {versions['python']}, jax {versions['jax']}, ngspice "
        f"{versions['ngspice']}"
    )
    load = "/".join(f"{x:.1f}" for x in result["load_average_start"])
    head += f"; load average at start {load} (1/5/15 min)"
    lines = [head, "", "| measure | value |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in rows]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> dict:
    """Measure, print the table, write ``--json``; the result dict."""
    sizes = _sizes(args)
    load_start = os.getloadavg()
    result = {
        "circuit": args.circuit,
        "technology": args.tech,
        "sizes": sizes,
        "simulation": simulation_rates(args.circuit, args.tech, sizes),
        "env": env_rates(args.circuit, args.tech, sizes),
        "accuracy": recorded_accuracy(args.circuit, args.tech),
        **environment(),
        "load_average_start": load_start,
        "load_average_end": os.getloadavg(),
    }
    text = table(result)
    result["table"] = text
    print(text)
    if args.json:
        print(f"wrote {write_json(args.json, result)}")
    return result
