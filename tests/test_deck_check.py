"""Decks are checked as ngspice reads them: nothing in a circuit runs commands."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sim.engine.deck_check import absolute_includes, expand_deck
from sim.errors import UserInputError
from sim.format.circuit import BUILTIN_DIR, load_circuit
from sim.format.technology import load_technology
from sim.sizing.simulator import Simulator
from tests.conftest import REPO, write_circuit

CONTROL_SPELLINGS = [
    ".control",
    ".control_x",
    ".CONTROL",
    "  .Control",
    "\t.controlx",
    "+.control",
    "\r.control",
    ".endc",
    ".endc_x",
    ".osdi lib.osdi",
    "shell touch x",
    "SOURCE script.sp",
    "R1 a b `touch x`",
    "*ng_script",
]


@pytest.mark.parametrize("line", CONTROL_SPELLINGS)
def test_each_spelling_is_refused_with_its_line(line, tmp_path):
    text = f"* deck\nR1 a 0 1k\n{line}\nC1 a 0 1p\n"
    with pytest.raises(UserInputError, match=r"^deck.sp:3: ") as info:
        expand_deck(text, "deck.sp", tmp_path)
    assert "\n" not in str(info.value)


def _write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text))
    return path


@pytest.mark.parametrize(
    "include",
    [
        ".include evil.inc",
        ".incfoo evil.inc",
        '.INC "evil.inc"',
        ".include\n+ evil.inc",
    ],
)
def test_included_control_sections_are_refused_naming_the_included_file(
    include, tmp_path
):
    _write(tmp_path / "evil.inc", "* a model\n.model d1 d\n.Control_x\nshell ls\n")
    with pytest.raises(UserInputError) as info:
        expand_deck(f"R1 a 0 1k\n{include}\n", "tb.sp", tmp_path)
    assert f"{tmp_path / 'evil.inc'}:3: '.control' refused" in str(info.value)


def test_libraries_are_checked_whole_and_nested_includes_relative_to_their_file(
    tmp_path,
):
    sub = tmp_path / "models"
    sub.mkdir()
    _write(sub / "inner.inc", ".endc\n")
    _write(sub / "corners.lib", ".lib tt\n.include inner.inc\n.endl tt\n")
    with pytest.raises(UserInputError, match=r"inner\.inc:1: '\.endc' refused"):
        expand_deck(".libxyz models/corners.lib tt\n", "tb.sp", tmp_path)
    # A control block in a section the deck does not name is refused too.
    _write(sub / "inner.inc", "R2 a 0 1k\n")
    _write(sub / "other.lib", ".lib tt\nR3 a 0 1\n.endl\n.lib ff\n.control\n.endl\n")
    with pytest.raises(UserInputError, match=r"other\.lib:5"):
        expand_deck(".lib models/other.lib tt\n", "tb.sp", tmp_path)
    accepted = expand_deck(".lib models/corners.lib tt\n", "tb.sp", tmp_path)
    assert {f.path.name for f in accepted.files} == {"corners.lib", "inner.inc"}


def test_self_referencing_library_is_read_once_and_cycles_are_refused(tmp_path):
    _write(
        tmp_path / "lib.lib", ".lib tt\n.lib lib.lib body\n.endl\n.lib body\n.endl\n"
    )
    expand_deck(".lib lib.lib tt\n", "tb.sp", tmp_path)
    _write(tmp_path / "a.inc", ".include b.inc\n")
    _write(tmp_path / "b.inc", ".include a.inc\n")
    with pytest.raises(UserInputError, match="include cycle"):
        expand_deck(".include a.inc\n", "tb.sp", tmp_path)


def test_missing_non_file_and_relative_includes_in_assembled_decks(tmp_path):
    with pytest.raises(UserInputError, match="include not found"):
        expand_deck(".include nothere.inc\n", "tb.sp", tmp_path)
    with pytest.raises(UserInputError, match="not a file"):
        expand_deck(".include /dev/zero\n", "tb.sp", tmp_path)
    _write(tmp_path / "ok.inc", "R1 a 0 1k\n")
    with pytest.raises(UserInputError, match="relative include"):
        expand_deck(".include ok.inc\n", "deck")  # no folder: an assembled deck


def test_absolute_includes_rewrites_only_include_lines(tmp_path):
    _write(tmp_path / "ok.inc", "R1 a 0 1k\n")
    text = "* title\nR2 a b 1k\n+ tc1=0\n.inc ok.inc\n.include\n+ ok.inc\n"
    out = absolute_includes(text, tmp_path)
    target = tmp_path.resolve() / "ok.inc"
    assert out.splitlines() == [
        "* title",
        "R2 a b 1k",
        "+ tc1=0",
        f".inc {target}",
        f".include {target}",
    ]


def _st1_copy(tmp_path: Path, extra: str, name: str = "delay.sp") -> Path:
    folder = tmp_path / "st1"
    folder.mkdir()
    for path in (BUILTIN_DIR / "st1").iterdir():
        if path.is_file():
            (folder / path.name).write_bytes(path.read_bytes())
    with (folder / name).open("a") as handle:
        handle.write(extra)
    return folder


def test_issue_reproduction_control_x_is_refused_by_the_cli_and_runs_nothing(
    tmp_path,
):
    canary = tmp_path / "CANARY"
    folder = _st1_copy(tmp_path, f".control_x\nshell touch {canary}\n.endc_x\n")
    run = subprocess.run(
        [sys.executable, "-m", "sim", "run", "--circuit", str(folder)]
        + ["--tech", "generic", "--json", "-", "--store", str(tmp_path / "s.sqlite")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 2, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in run.stderr
    assert f"{folder / 'delay.sp'}:" in lines[0] and "'.control' refused" in lines[0]
    assert not canary.exists()


def test_technology_model_file_with_a_control_section_is_refused(tmp_path):
    canary = tmp_path / "CANARY"
    model = _write(
        tmp_path / "card.lib",
        f".model nmos nmos level=54\n.model pmos pmos level=54\n"
        f".CONTROL\nshell touch {canary}\n.endc\n",
    )
    tech = _write(
        tmp_path / "tech.yaml",
        f"""\
        vdd: 1.2
        models: [{model}]
        nmos: nmos
        pmos: pmos
        limits: {{w: [1.0e-7, 1.0e-4], l: [1.0e-7, 1.0e-5]}}
        """,
    )
    with pytest.raises(UserInputError, match=r"card\.lib:3: '\.control' refused"):
        Simulator("st1", tech, store=None)
    assert not canary.exists()


def test_relative_include_resolves_against_the_template_folder(
    tmp_path, pool, store, monkeypatch
):
    yaml_path = write_circuit(
        tmp_path / "rc",
        "R1 in out {R}\n.include load.inc\n",
        "V1 in 0 dc 0 ac 1\n",
        """\
        netlist: dut.sp
        parameters:
          R: {bounds: [100, 1.0e+4], default: 1000}
        testbenches:
          tb: {netlist: tb.sp, analyses: {ac: ac dec 10 1 1G}}
        measures:
          gain: {measure: dc_gain, analysis: tb.ac, output: v(out), unit: dB}
        """,
    )
    folder = yaml_path.parent
    (folder / "load.inc").write_text("C1 out 0 1n\n")
    monkeypatch.chdir(tmp_path)  # neither the worker's nor the circuit's folder
    result = Simulator(folder, "generic", backend=pool, store=store).simulate_one()
    assert result.ok, result.message
    assert result.performance["gain"] == pytest.approx(0.0, abs=0.01)


_SESSION_SCRIPT = """
import json, sys
from sim.engine.job import Analysis, SimulationJob
from sim.engine.ngspice_session import NgspiceSession

canary = sys.argv[1]
session = NgspiceSession()
deck = "* t\\nV1 a 0 1\\nR1 a 0 1k\\n.control_x\\nshell touch " + canary + "\\n.endc\\n"
job = SimulationJob(deck, (), (Analysis("op", "op", ("v(a)",)),))
refused = session.run(job)
bad = SimulationJob("* t\\nV1 a 0 1\\n", (), (Analysis("x", "op\\nshell ls", ()),))
command = session.run(bad)
# Below the deck check: a control block handed straight to ngspice finds
# shell, and the way to re-enable it, aliased away.
session._load(["* t", "V1 a 0 1", ".control", "unalias shell",
               "shell touch " + canary, ".endc", ""])
print(json.dumps([refused.status.value, refused.message,
                  command.status.value, command.message]))
"""


def test_session_refuses_unchecked_decks_and_commands_and_disables_shell(tmp_path):
    canary = tmp_path / "CANARY"
    run = subprocess.run(
        [sys.executable, "-c", _SESSION_SCRIPT, str(canary)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    status, message, command_status, command_message = json.loads(
        run.stdout.strip().splitlines()[-1]
    )
    assert status == "error" and "deck refused" in message and ":4:" in message
    assert command_status == "error" and "analysis command" in command_message
    assert not canary.exists()


def test_builtin_circuits_pass_the_check():
    tech = load_technology("generic")
    for folder in sorted(BUILTIN_DIR.iterdir()):
        if (folder / "circuit.yaml").is_file():
            load_circuit(folder, tech)
