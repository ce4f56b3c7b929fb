"""``jaxsizer``: one command for everything the ``python -m`` modules do.

    jaxsizer sim run --circuit op2 --tech generic --n 10 --json -
    jaxsizer fit circuit --circuit op2 --tech sky130 --n 3000
    jaxsizer train --env jaxsizer/twostage-generic-v1 --run runs/twostage
    jaxsizer size --run runs/twostage --target "a_0>=60dB ugbw>=10MHz"

Each subcommand runs a module's ``main(argv)`` with the rest of the command
line, so its options are that module's (``python -m <module>`` stays the
same command). Modules are imported only when their subcommand runs, and
always this installation's (``jaxsizer.layers.pin``: a user's own ``train.py``
or ``envs/`` in the current folder is not picked up). ``python -m jaxsizer``
is the same command. Option conventions: docs/cli.md.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import sys
from dataclasses import dataclass

from jaxsizer.layers import ShadowedError, layers_of, pin

PROG = "jaxsizer"
EXIT_USAGE = 2  # sim.errors.EXIT_USAGE (not imported: see run)


@dataclass(frozen=True)
class Command:
    """A subcommand: the module whose ``main(argv)`` runs it, the words put
    before the user's arguments (a subcommand of that module), one line of
    help."""

    module: str
    help: str
    forward: tuple[str, ...] = ()


# (words the user types) -> command; "sim" and "fit" hand their own
# subcommands (run, bench, ...; device, circuit) to their module.
COMMANDS: dict[tuple[str, ...], Command] = {
    ("sim",): Command(
        "sim.cli", "simulate designs: run, bench, specs, plot, corners, explore"
    ),
    ("fit",): Command(
        "surrogate.fit", "fit device models or a circuit surrogate: device, circuit"
    ),
    ("targets",): Command(
        "envs.specs", "draw train and held-out targets from a circuit's box"
    ),
    ("train",): Command("train.__main__", "train a sizer on a circuit's target box"),
    ("size",): Command("train.size", "size one target with a trained run"),
    ("eval",): Command("train.eval", "success of a trained run on box targets"),
    ("bench", "sizing"): Command(
        "benchmarks.__main__",
        "every method at equal total SPICE budget",
        ("sizing",),
    ),
    ("bench", "speed"): Command(
        "benchmarks.__main__",
        "throughput ratios and recorded accuracy",
        ("speed",),
    ),
    ("bench", "box-targets"): Command(
        "benchmarks.box_targets", "a trained run against baselines on box targets"
    ),
    ("bench", "boxes"): Command(
        "benchmarks.__main__",
        "a method on every foreign box (benchmarks/boxes/), per seed",
        ("boxes",),
    ),
    ("bench", "pvt"): Command(
        "benchmarks.pvt_sizing",
        "PVT sizing against nominal-then-check and all-conditions baselines",
    ),
    ("bench", "backends"): Command(
        "benchmarks.backend_speed", "local vs Ray vs remote simulation throughput"
    ),
    ("bench", "device"): Command(
        "surrogate.bench_device", "device model accuracy in closed loop"
    ),
    ("bench", "env"): Command("envs.bench", "SPICE env steps vs plain simulation"),
    ("bench", "surrogate-env"): Command(
        "envs.surrogate_bench", "surrogate env steps vs SPICE env steps"
    ),
    ("bench", "consistency"): Command(
        "envs.consistency", "gm/Id sizing vs simulated gm/Id (v0 spaces)"
    ),
    ("server",): Command("sim.commands.server", "serve simulations over HTTP"),
    ("store", "export"): Command(
        "sim.storage.store_export",
        "export the simulation store (sim.storage.store_export)",
    ),
}


# an optional dependency -> the extra that installs it (pyproject.toml)
EXTRAS = {
    "fastapi": "server",
    "uvicorn": "server",
    "httpx": "server",
    "pydantic": "server",
    "ray": "ray",
    "optuna": "bench",
    "pandas": "parquet",
    "pyarrow": "parquet",
}


def version() -> str:
    """The installed distribution's version (``unknown`` when not installed)."""
    try:
        return importlib.metadata.version(PROG)
    except importlib.metadata.PackageNotFoundError:
        return "unknown (not installed; pip install -e .)"


def usage(group: tuple[str, ...] = ()) -> str:
    """``jaxsizer [group] --help``: every (sub)command with one line."""
    rows = [
        (" ".join(words[len(group) :]), command.help)
        for words, command in COMMANDS.items()
        if words[: len(group)] == group
    ]
    width = max(len(name) for name, _ in rows)
    name = " ".join([PROG, *group])
    head = (
        __doc__.split("\n\n")[0].replace("``", "")
        if not group
        else f"{name}: the {group[0]} subcommands"
    )
    lines = [
        f"usage: {name} <command> [options]   ({name} <command> --help)",
        "",
        head,
        "",
        "commands:",
        *(f"  {n:<{width}}  {text}" for n, text in rows),
    ]
    if not group:
        lines += [
            "",
            "options:",
            "  -h, --help  this list",
            "  --version   the installed version",
        ]
    return "\n".join(lines)


def _refuse(message: str) -> int:
    sys.stderr.write(f"error: {message} (see {PROG} --help)\n")
    return EXIT_USAGE


def resolve(argv: list[str]) -> tuple[tuple[str, ...], Command] | None:
    """The longest command whose words start ``argv``, or None."""
    for size in (2, 1):
        words = tuple(argv[:size])
        if words in COMMANDS:
            return words, COMMANDS[words]
    return None


def groups() -> set[str]:
    """First words that only name a group of subcommands (``bench``)."""
    return {words[0] for words in COMMANDS if len(words) > 1}


def run(words: tuple[str, ...], command: Command, rest: list[str]) -> int:
    """Import ``command``'s module (and the layers below it, from this
    installation) and run its ``main`` on ``rest``."""
    try:
        pin(layers_of(command.module))
    except ShadowedError as error:
        return _refuse(str(error))
    from sim.errors import invoked_as

    try:
        module = importlib.import_module(command.module)
    except ModuleNotFoundError as error:
        if error.name is not None and command.module.startswith(error.name):
            return _refuse(
                f"{PROG} {' '.join(words)} needs the module {command.module}, "
                "which this installation does not have"
            )
        extra = EXTRAS.get((error.name or "").split(".")[0])
        hint = f" (pip install 'jaxsizer[{extra}]')" if extra else ""
        name = " ".join([PROG, *words])
        if any(word in ("-h", "--help") for word in rest):
            print(f"usage: {name} [options]\n\n{command.help}\n")
            print(f"{name} needs {error.name}, which is not installed{hint}")
            return 0
        return _refuse(f"{name} needs {error.name}, which is not installed{hint}")
    prog = " ".join([PROG, *words[: len(words) - len(command.forward)]])
    with invoked_as(prog):
        code = module.main([*command.forward, *rest])
    return 0 if code is None else int(code)


def main(argv: list[str] | None = None) -> int:
    """Entry of the ``jaxsizer`` console script (and ``python -m jaxsizer``)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        return _refuse("name a command")
    if argv[0] in ("-h", "--help"):
        print(usage())
        return 0
    if argv[0] == "--version":
        print(f"{PROG} {version()}")
        return 0
    found = resolve(argv)
    if found is None:
        if argv[0] in groups():
            if argv[1:2] in (["-h"], ["--help"]):
                print(usage((argv[0],)))
                return 0
            names = [w[1] for w in COMMANDS if w[0] == argv[0]]
            if not argv[1:]:
                return _refuse(f"name a {argv[0]} command: {', '.join(names)}")
            return _refuse(
                f"unknown command '{argv[0]} {argv[1]}'; {argv[0]} has "
                f"{', '.join(names)}"
            )
        return _refuse(f"unknown command '{argv[0]}'")
    words, command = found
    return run(words, command, argv[len(words) :])


if __name__ == "__main__":
    sys.exit(main())
