"""ngspice's own command lines (``*#``) are refused wherever a deck is read,
and every worker starts from a private, empty init (issue 24, item 1)."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from sim.engine.deck_check import expand_deck
from sim.errors import UserInputError
from sim.sizing.simulator import Simulator
from tests.conftest import REPO
from tests.test_deck_check import _st1_copy

STAR_HASH_SPELLINGS = [
    "*#echo x > {c}",
    "  *#echo x > {c}",
    "\t*# echo x > {c}",
    "\f*#echo x > {c}",
    "\r*#echo x > {c}",
    "+*#echo x > {c}",
    "*#SHELL touch {c}",
]


@pytest.fixture
def canary():
    """A lower-case absolute path (ngspice lower-cases command lines) that
    must never be created."""
    folder = Path(tempfile.mkdtemp(prefix="jxcanary"))
    yield folder / "canary"
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.parametrize("line", STAR_HASH_SPELLINGS)
def test_star_hash_lines_are_refused_with_their_line(line, canary, tmp_path):
    text = f"* deck\nR1 a 0 1k\n{line.format(c=canary)}\nC1 a 0 1p\n"
    with pytest.raises(UserInputError, match=r"^deck.sp:3: ") as info:
        expand_deck(text, "deck.sp", tmp_path)
    assert "'*#'" in str(info.value) and "\n" not in str(info.value)


def test_plain_comments_that_only_contain_a_hash_stay_accepted(tmp_path):
    expand_deck("* deck\n* #1 stage\n** # note\nR1 a 0 1k ; *# trailing\n", "d", None)


def _run_cli(folder: Path, tmp_path: Path, tech: str = "generic"):
    return subprocess.run(
        [sys.executable, "-m", "sim", "run", "--circuit", str(folder), "--force"]
        + ["--tech", tech, "--json", "-", "--store", str(tmp_path / "s.sqlite")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize("name", ["st1.sp", "delay.sp"])
def test_issue_repro_star_hash_in_netlist_or_testbench_is_one_line_no_canary(
    name, canary, tmp_path
):
    folder = _st1_copy(tmp_path, f"*#echo x > {canary}\n", name=name)
    run = _run_cli(folder, tmp_path)
    assert run.returncode == 2, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in run.stderr
    assert f"{folder / name}:" in lines[0] and "'*#'" in lines[0]
    assert not canary.exists()


def test_star_hash_in_a_library_section_and_a_technology_model_file(canary, tmp_path):
    lib = tmp_path / "corners.lib"
    lib.write_text(
        f".lib tt\nR9 a 0 1k\n.endl tt\n.lib ff\n*#echo x > {canary}\n.endl\n"
    )
    with pytest.raises(UserInputError, match=r"corners\.lib:5: '\*#'"):
        expand_deck(f".lib {lib} tt\n", "tb.sp", tmp_path)
    model = tmp_path / "card.lib"
    model.write_text(
        f".model nmos nmos level=54\n.model pmos pmos level=54\n*#echo x > {canary}\n"
    )
    tech = tmp_path / "tech.yaml"
    tech.write_text(
        textwrap.dedent(f"""\
        vdd: 1.2
        models: [{model}]
        nmos: nmos
        pmos: pmos
        limits: {{w: [1.0e-7, 1.0e-4], l: [1.0e-7, 1.0e-5]}}
        """)
    )
    with pytest.raises(UserInputError, match=r"card\.lib:3: '\*#'"):
        Simulator("st1", tech, store=None)
    assert not canary.exists()


_INIT_SCRIPT = """
import json, os, sys
from pathlib import Path
from sim.engine.worker import enter_private_folder
from sim.engine.ngspice_session import NgspiceSession

root = Path(sys.argv[1])
enter_private_folder(root)
session = NgspiceSession()
canary = sys.argv[2]
# Below the deck check, straight to ngspice: aliased away by the init file.
session._load(["* t", "V1 a 0 1", "*#shell touch " + canary, ".op", ".end"])
out = session.command("shell touch " + canary)
print(json.dumps({"home": os.environ["HOME"], "cwd": os.getcwd(),
                  "scripts": os.environ.get("SPICE_SCRIPTS"), "shell": out}))
"""


def test_worker_init_is_private_and_ignores_user_init_files(canary, tmp_path):
    """A planted ``.spiceinit`` in the caller's folder and in ``$HOME`` and a
    ``SPICE_SCRIPTS`` folder with its own ``spinit`` are never read; the
    working folder holds only our init (which ngspice then reads instead of
    the account's ``~/.spiceinit``), with the alias block."""
    planted = f"* init\necho x > {canary}\n"
    for folder in ("caller", "home", "scripts"):
        (tmp_path / folder).mkdir()
    (tmp_path / "caller" / ".spiceinit").write_text(planted)
    (tmp_path / "home" / ".spiceinit").write_text(planted)
    (tmp_path / "scripts" / "spinit").write_text(planted)
    root = Path(tempfile.mkdtemp(prefix="jxworker"))
    env = dict(os.environ, HOME=str(tmp_path / "home"))
    env["SPICE_SCRIPTS"] = str(tmp_path / "scripts")
    env["PYTHONPATH"] = str(REPO)
    run = subprocess.run(
        [sys.executable, "-c", _INIT_SCRIPT, str(root), str(canary)],
        cwd=tmp_path / "caller",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    shutil.rmtree(root, ignore_errors=True)
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert seen["home"] == str(root / "home") and seen["cwd"] == str(root / "cwd")
    assert seen["scripts"] is None
    assert any("disabled in jaxsizer" in line for line in seen["shell"])
    assert not canary.exists()


@pytest.mark.skipif(shutil.which("strace") is None, reason="needs strace")
def test_worker_never_looks_for_the_accounts_spiceinit(tmp_path):
    """ngspice finds ``~/.spiceinit`` through the password database, not
    ``$HOME``: only the working folder's init file may be looked at."""
    root = Path(tempfile.mkdtemp(prefix="jxworker"))
    trace = tmp_path / "trace.txt"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    run = subprocess.run(
        ["strace", "-f", "-e", "trace=access,openat,stat,newfstatat", "-o"]
        + [str(trace), sys.executable, "-c", _INIT_SCRIPT, str(root), "/nonexist"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    shutil.rmtree(root, ignore_errors=True)
    assert run.returncode == 0, run.stderr
    account_init = os.path.join(pwd.getpwuid(os.getuid()).pw_dir, ".spiceinit")
    looked = [line for line in trace.read_text().splitlines() if "spiceinit" in line]
    assert any('openat(AT_FDCWD, ".spiceinit", O_RDONLY' in line for line in looked)
    assert not any(account_init in line for line in looked), looked
