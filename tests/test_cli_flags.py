"""Every command line: a bad flag is one line on stderr and exit code 2, and
every flag has a help text (``--help`` explains it)."""

from __future__ import annotations

import argparse
import importlib
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO

# How a user starts each command (python -m <module> [subcommand], or a script).
COMMANDS = [
    ("-m", "sim"),
    *(("-m", "sim", sub) for sub in ("run", "bench", "specs", "plot", "corners")),
    ("-m", "sim", "explore"),
    ("-m", "sim.commands.server"),
    ("-m", "sim.engine.worker"),
    ("-m", "surrogate.fit"),
    ("-m", "surrogate.fit", "device"),
    ("-m", "surrogate.fit", "circuit"),
    ("-m", "surrogate.bench_device"),
    ("-m", "envs.specs"),
    ("-m", "envs.bench"),
    ("-m", "envs.consistency"),
    ("-m", "envs.surrogate_bench"),
    ("-m", "train"),
    ("-m", "train.eval"),
    ("-m", "train.size"),
    ("-m", "benchmarks"),
    *(("-m", "benchmarks", sub) for sub in ("sizing", "speed")),
    ("benchmarks/backend_speed.py",),
    ("benchmarks/box_targets.py",),
    ("-m", "jaxsizer"),  # the jaxsizer command
    ("-m", "benchmarks.pvt_sizing"),
]


def _ids(command) -> str:
    return " ".join(command).removeprefix("-m ")


@pytest.fixture(scope="module")
def refusals() -> dict[tuple[str, ...], subprocess.CompletedProcess]:
    """Every command started at once with an unknown flag (the machine has
    few cores; starting them together keeps the test short)."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]
        ),
    }
    commands = [c.values[0] if hasattr(c, "values") else c for c in COMMANDS]
    started = {
        command: subprocess.Popen(
            [sys.executable, *command, "--no-such-flag"],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for command in commands
    }
    done = {}
    for command, process in started.items():
        out, err = process.communicate(timeout=600)
        done[command] = subprocess.CompletedProcess(
            process.args, process.returncode, out, err
        )
    return done


@pytest.mark.parametrize("command", COMMANDS, ids=_ids)
def test_a_bad_flag_is_one_line_and_exit_code_2(command, refusals):
    result = refusals[command]
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    assert result.stdout == ""


class _Captured(Exception):
    def __init__(self, parser: argparse.ArgumentParser) -> None:
        self.parser = parser


def _parser_of(module: str, monkeypatch) -> argparse.ArgumentParser:
    """The parser ``module``'s ``main`` builds (caught as it parses)."""

    def capture(self, *args, **kwargs):
        raise _Captured(self)

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", capture)
    entry = importlib.import_module(module)
    with pytest.raises(_Captured) as caught:
        entry.main([])
    return caught.value.parser


def _undocumented(parser: argparse.ArgumentParser, where: str) -> list[str]:
    missing = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                missing += _undocumented(sub, f"{where} {name}")
        elif not isinstance(action, argparse._HelpAction) and not action.help:
            missing.append(f"{where} {'/'.join(action.option_strings) or action.dest}")
    return missing


@pytest.mark.parametrize(
    "module",
    [
        "sim.cli",
        "sim.commands.server",
        "surrogate.fit",
        "surrogate.bench_device",
        "envs.specs",
        "envs.bench",
        "envs.consistency",
        "envs.surrogate_bench",
        "train.__main__",
    ],
)
def test_every_flag_has_a_help(module, monkeypatch):
    if module == "train.__main__":
        from train.__main__ import build_parser

        parser = build_parser()
    else:
        parser = _parser_of(module, monkeypatch)
    assert not _undocumented(parser, module)


def test_train_help_explains_every_flag():
    from train.__main__ import HELP, SKIPPED
    from train.config import TrainConfig
    from train.ppo import PPOConfig

    fields = [f"ppo_{f.name}" for f in PPOConfig.__dataclass_fields__.values()] + [
        f.name for f in TrainConfig.__dataclass_fields__.values()
    ]
    assert set(HELP) == {f for f in fields if f not in SKIPPED}
    text = subprocess.run(
        [sys.executable, "-m", "train", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    ).stdout
    assert "length of the learning-rate schedule" in text
    assert "SPICE simulations the whole run may spend" in text
