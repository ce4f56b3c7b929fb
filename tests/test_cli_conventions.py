"""One ``jaxsizer`` command over every ``python -m`` module (jaxsizer.command),
and the option conventions every command line follows (docs/cli.md):
``--json PATH`` ('-': stdout), ``--n N`` for a count, ``--out DIR``."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from jaxsizer.command import COMMANDS, main
from tests.conftest import REPO
from tests.test_cli_flags import COMMANDS as STARTED_COMMANDS

# The old spellings (issue 21): hidden aliases now, never shown in --help.
RETIRED = {"--report", "--samples", "--random", "--designs", "--cold-designs", "--box"}

# How test_cli_flags starts a module -> the module whose main runs it.
ENTRY = {
    "sim": "sim.cli",
    "train": "train.__main__",
    "benchmarks": "benchmarks.__main__",
    "benchmarks/backend_speed.py": "benchmarks.backend_speed",
    "benchmarks/box_targets.py": "benchmarks.box_targets",
}
# started by the pool, not by a user; the dispatcher itself
INTERNAL = {"sim.engine.worker", "jaxsizer"}


def _available(module: str) -> bool:
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as error:
        if error.name and module.startswith(error.name):
            return False  # not written yet (sim.storage.store_export)
        pytest.skip(f"{module} needs {error.name}")
    return True


class _Captured(Exception):
    def __init__(self, parser: argparse.ArgumentParser) -> None:
        self.parser = parser


def _parser_of(words, command, monkeypatch) -> argparse.ArgumentParser:
    """The parser ``jaxsizer <words>`` builds (caught as it parses)."""
    from jaxsizer.command import run

    def capture(self, *args, **kwargs):
        raise _Captured(self)

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", capture)
    with pytest.raises(_Captured) as caught:
        run(words, command, [])
    return caught.value.parser


def _actions(parser: argparse.ArgumentParser, where: str):
    """(where, action) for every option of ``parser`` and its subcommands."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _actions(sub, f"{where} {name}")
        else:
            yield where, action


def _entry(command) -> str:
    """The module whose ``main`` a test_cli_flags command line runs."""
    words = getattr(command, "values", [command])[0]
    name = words[1] if words[0] == "-m" else words[0]
    return ENTRY.get(name, name)


def test_every_python_m_module_has_a_jaxsizer_subcommand():
    started = {_entry(command) for command in STARTED_COMMANDS}
    assert started - INTERNAL <= {c.module for c in COMMANDS.values()}


@pytest.mark.parametrize("words", list(COMMANDS), ids=" ".join)
def test_options_follow_the_conventions(words, monkeypatch):
    command = COMMANDS[words]
    if not _available(command.module):
        pytest.skip(f"{command.module} is not in this tree yet")
    parser = _parser_of(words, command, monkeypatch)
    shown = " ".join(["jaxsizer", *words[: len(words) - len(command.forward)]])
    assert parser.prog == shown  # usage and errors name the command typed
    writes_json = False
    for where, action in _actions(parser, parser.prog):
        flags = set(action.option_strings)
        if action.help == argparse.SUPPRESS:
            continue  # an old spelling, kept as a hidden alias
        assert not flags & RETIRED, (where, flags)
        if "--json" in flags:  # a path (or '-'), never a switch
            writes_json = True
            assert action.nargs is None and action.metavar == "PATH", where
            assert "'-': stdout" in action.help, where
        if "--out" in flags:  # always a directory
            assert action.nargs is None and action.metavar == "DIR", where
        if "--n" in flags:  # a count
            assert action.metavar == "N" and action.type("3") == 3, where
        if "--targets" in flags:  # a target file, not a count
            assert action.type in (None, str, Path), where
    module = importlib.import_module(command.module)
    if writes_json:  # '--json -' keeps stdout for the JSON alone
        assert getattr(module.main, "keeps_stdout_for_json", False), command.module


def test_version_help_and_refusals(capsys):
    from importlib.metadata import version

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"jaxsizer {version('jaxsizer')}"
    assert main(["--help"]) == 0
    listing = capsys.readouterr().out
    for words, command in COMMANDS.items():
        name = words[0] if len(words) == 1 else f"{words[0]} {words[1]}"
        assert any(
            line.split(command.help)[0].strip() == name for line in listing.splitlines()
        ), name
    for argv, words in (
        (["simulate"], "unknown command 'simulate'"),
        (["bench", "nope"], "unknown command 'bench nope'"),
        (["bench"], "name a bench command"),
        ([], "name a command"),
    ):
        assert main(argv) == 2
        captured = capsys.readouterr()
        lines = captured.err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), captured.err
        assert words in lines[0] and captured.out == ""


def test_a_subcommand_with_a_bad_flag_names_itself(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["sim", "run", "--turbo"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unrecognized arguments: --turbo" in err
    with pytest.raises(SystemExit):
        main(["eval", "--help"])
    assert capsys.readouterr().out.startswith("usage: jaxsizer eval ")


def _python_m_jaxsizer(*args, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "JAXSIZER_STORE": str(tmp_path / "store.sqlite"),
        "PYTHONPATH": os.pathsep.join(
            [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]
        ),
    }
    return subprocess.run(
        [sys.executable, "-m", "jaxsizer", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )


def test_sim_run_json_on_stdout_is_strict_json_alone(tmp_path):
    """``jaxsizer sim run --n 3 --json -``: stdout is one JSON document with
    finite numbers only (a measure that could not be computed is left out);
    progress and the old spelling's warning go to stderr."""
    where = ("--circuit", "op2", "--tech", "generic", "--workers", "1")
    done = _python_m_jaxsizer(
        "sim", "run", *where, "--random", "3", "--json", "-", tmp_path=tmp_path
    )
    assert done.returncode == 0, done.stderr
    entries = json.loads(done.stdout, parse_constant=lambda name: 1 / 0)
    assert len(entries) == 3 and "null" not in done.stdout
    assert "--random is now --n" in done.stderr
    out = tmp_path / "sub" / "run.json"
    again = _python_m_jaxsizer(
        "sim", "run", *where, "--n", "3", "--json", str(out), tmp_path=tmp_path
    )
    assert again.returncode == 0, again.stderr
    assert f"wrote {out}" in again.stdout
    assert [e["params"] for e in json.loads(out.read_text())] == [
        e["params"] for e in entries
    ]


def test_plot_out_is_a_directory(tmp_path):
    """``sim plot --out DIR`` writes fixed names into DIR (made if missing)
    and refuses a file in one line."""
    where = ("--circuit", "op2", "--tech", "generic", "--workers", "1")
    out = tmp_path / "plots"
    done = _python_m_jaxsizer(
        "sim", "plot", *where, "--out", str(out), tmp_path=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert (out / "op2_generic_bode.png").is_file()
    refused = _python_m_jaxsizer(
        "sim",
        "plot",
        *where,
        "--out",
        str(out / "op2_generic_bode.png"),
        tmp_path=tmp_path,
    )
    assert refused.returncode == 2 and "is a file" in refused.stderr


def test_json_on_stdout_is_read_from_the_command_line():
    from sim.cli_conventions import wants_json_on_stdout

    assert wants_json_on_stdout(["run", "--json", "-"])
    assert wants_json_on_stdout(["--json=-", "--n", "3"])
    assert not wants_json_on_stdout(["--json", "out.json"])
    assert not wants_json_on_stdout(["--json"])
    assert not wants_json_on_stdout(["--", "--json", "-"])
