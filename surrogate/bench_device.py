"""Benchmark of the device models: ``python -m surrogate.bench_device``.

For each device: held-out median/p95 errors of the network vs linear
interpolation on the swept table (from the fit, stored in ``model.json``, or
re-fitted with ``--fit``), the closed loop through ngspice over ``--n``
random requests, and the fit time. Prints a table and writes JSON.
"""

from __future__ import annotations

import contextlib
import sys

from sim.cli_conventions import (
    add_count_option,
    add_json_option,
    keeps_stdout_for_json,
    write_json,
)
from sim.errors import OneLineArgumentParser as _Parser

ALL = ("sky130/nfet_01v8", "sky130/pfet_01v8", "generic/nmos", "generic/pmos")
WIDTHS = (1e-6, 40e-6)  # m: request currents are Id/W times a width in this range


def bench_device(tech_name: str, device: str, n: int, fit: bool, pool) -> dict:
    from sim.format.technology import load_technology
    from surrogate.device.closed_loop import run_closed_loop, sample_requests
    from surrogate.device.fit_device import DeviceFitConfig, cached_sweep
    from surrogate.device.sizing import DeviceModel
    from surrogate.device.sweep import held_out_grid, reference_grid

    config = DeviceFitConfig(tech_name, device, progress=False)
    if fit:
        from surrogate.device.fit_device import fit_device_model

        fit_device_model(config)
    model = DeviceModel.load(tech_name, device)
    tech = load_technology(tech_name)
    grid = held_out_grid(reference_grid(tech, device, model.reference_width))
    held_out, _, _ = cached_sweep(tech, config, grid, "held_out", {"pool": pool})
    requests = sample_requests(held_out, n, WIDTHS, seed=2024)
    loop = run_closed_loop(model, requests, pool)
    meta = model.meta
    return {
        "tech": tech_name,
        "device": device,
        "accuracy": meta.get("accuracy", {}),
        "closed_loop": loop.summary(),
        "fit_seconds": meta.get("fit_seconds"),
        "train_seconds": {k: v["seconds"] for k, v in meta["training"].items()},
        "model_bytes": {
            p.name: p.stat().st_size
            for p in sorted(model.directory.iterdir())
            if p.is_file()
        },
    }


def table(rows: list[dict]) -> str:
    head = (
        f"{'device':<18} {'log10(Id/W) net | interp':>27} {'L % net | interp':>23} "
        f"{'Vgs mV net | interp':>23} {'loop gm/Id %':>12} {'loop Id %':>9} "
        f"{'refused':>8} {'fit s':>6}"
    )
    lines = [head, "  (each cell: median/p95)"]
    for r in rows:
        acc = r["accuracy"]

        def cell(name, scale, acc=acc):
            net, base = acc["network"][name], acc["baseline"][name]
            return (
                f"{net['median'] * scale:.3g}/{net['p95'] * scale:.3g} | "
                f"{base['median'] * scale:.3g}/{base['p95'] * scale:.3g}"
            )

        loop = r["closed_loop"]
        refused = f"{loop['refused']}/{loop['requested']}"
        lines.append(
            f"{r['tech'] + '/' + r['device']:<18} {cell('log10(idoverw)', 1):>27} "
            f"{cell('l', 100):>23} {cell('vgs', 1000):>23} "
            f"{loop['gmoverid_rel_error']['median'] * 100:>12.2f} "
            f"{loop['current_rel_error']['median'] * 100:>9.2f} "
            f"{refused:>8} {(r['fit_seconds'] or float('nan')):>6.0f}"
        )
    return "\n".join(lines)


@keeps_stdout_for_json
def main(argv: list[str] | None = None) -> int:
    parser = _Parser(prog="python -m surrogate.bench_device", description=__doc__)
    parser.add_argument("--devices", default=",".join(ALL), help="tech/device,...")
    add_count_option(parser, 200, "closed-loop requests per device")
    parser.add_argument("--fit", action="store_true", help="re-fit before measuring")
    add_json_option(parser, "the results", default="bench_device.json")
    args = parser.parse_args(argv)
    from sim.engine.backend import BackendConfig, make_backend
    from sim.errors import UserInputError

    rows = []
    try:
        with contextlib.closing(make_backend(BackendConfig(workers=2))) as pool:
            for item in args.devices.split(","):
                tech_name, _, device = item.strip().partition("/")
                rows.append(bench_device(tech_name, device, args.n, args.fit, pool))
    except UserInputError as error:
        sys.stderr.write(f"error: {error}\n")
        return 2
    print(table(rows))
    print(f"wrote {write_json(args.json, rows)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
