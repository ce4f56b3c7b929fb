"""``import jaxsizer``: cheap (no layer imported until a name is used), every
public name resolves, a foreign module of a layer's name is refused in one
line, and a subcommand whose extra is missing still answers ``--help``.
(The user-project folder end to end: tests/test_clients.py.)"""

from __future__ import annotations

import subprocess
import sys
import types

import pytest

import jaxsizer
from jaxsizer.command import COMMANDS, run
from jaxsizer.layers import ROOT, ShadowedError, pin
from tests.conftest import REPO


def test_import_jaxsizer_imports_no_layer_and_no_jax():
    probe = (
        "import sys, jaxsizer\n"
        "heavy = ('sim', 'surrogate', 'envs', 'train', 'jax', 'gymnasium')\n"
        "print([m for m in heavy if m in sys.modules])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True
    )
    assert done.returncode == 0 and done.stdout.strip() == "[]", done.stderr


def test_every_public_name_resolves_from_this_installation():
    assert ROOT == REPO
    for name in jaxsizer.__all__:
        assert callable(getattr(jaxsizer, name)), name
    assert jaxsizer.Simulator.__module__ == "sim.sizing.simulator"
    with pytest.raises(AttributeError):
        jaxsizer.no_such_name  # noqa: B018


def test_a_foreign_module_of_a_layer_name_is_refused(monkeypatch, tmp_path):
    foreign = types.ModuleType("train")
    foreign.__file__ = str(tmp_path / "train.py")
    monkeypatch.setitem(sys.modules, "train", foreign)
    with pytest.raises(ShadowedError, match="rename your module 'train'"):
        pin(("train",))
    assert run(("eval",), COMMANDS[("eval",)], ["--help"]) == 2


def test_help_of_a_subcommand_whose_extra_is_missing(monkeypatch, capsys):
    monkeypatch.delitem(sys.modules, "sim.commands.server", raising=False)
    monkeypatch.setitem(sys.modules, "fastapi", None)  # as if not installed
    assert run(("server",), COMMANDS[("server",)], ["--help"]) == 0
    out = capsys.readouterr().out
    assert "usage: jaxsizer server" in out and "jaxsizer[server]" in out
    assert run(("server",), COMMANDS[("server",)], []) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "jaxsizer[server]" in err
