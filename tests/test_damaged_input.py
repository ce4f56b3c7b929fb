"""Damaged or absurd input: one line on stderr, exit code 2, nothing lost
(issue 24, item 4)."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sim.cli import main as sim_main
from sim.cli_conventions import max_count
from sim.engine.pool import WORKERS_PER_CORE, capped_workers, default_workers
from sim.errors import UserInputError
from sim.format.circuit import BUILTIN_DIR, load_circuit
from sim.format.strict_yaml import MAX_YAML_NODES, load_yaml
from sim.format.technology import load_technology, load_technology_file
from sim.sizing.problem import problem_for
from sim.sizing.target_text import parse_target
from sim.storage.store import SimulationStore
from tests.conftest import REPO, fill_store
from train.__main__ import main as train_main
from train.run_dir import RunDir


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != ".lock"  # who writes the run, not data
    }


# -- run directories -------------------------------------------------------------
def _run_dir(tmp_path: Path, config: object) -> Path:
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps(config))
    (run / "verified.jsonl").write_text('{"round": 0, "purpose": "initial"}\n')
    return run


@pytest.mark.parametrize(
    "config",
    [
        {"problem": 5},
        {"problem": {"circuit": 5, "tech": "generic"}},
        {"problem": {"circuit": "op1", "tech": "generic"}, "sim_budget": "many"},
        {"problem": {"circuit": "op1", "tech": "generic"}, "ppo": [1]},
        {"problem": {"circuit": "op1", "tech": "generic"}, "backend": {"kind": 3}},
        {"problem": {"circuit": "op1", "tech": "generic", "bogus": 1}},
    ],
)
def test_config_of_the_wrong_shape_is_one_line(tmp_path, capsys, config):
    run = _run_dir(tmp_path, config)
    before = _snapshot(run)
    assert train_main(["--run", str(run), "--resume"]) == 2
    line = _one_line(capsys.readouterr().err)
    assert "config.json is corrupt" in line
    with pytest.raises(UserInputError, match="config.json is corrupt"):
        RunDir.existing(run).read_config()
    assert _snapshot(run) == before


def test_non_utf8_or_non_object_verified_lines_are_one_line(tmp_path):
    run = RunDir(tmp_path / "run")
    good = b'{"round": 0, "purpose": "initial", "params": {"a": 1.0}}\n'
    path = run.path / "verified.jsonl"
    path.write_bytes(good + b'{"round": 0, "purpose": "init\xffal"}\n' + good)
    with pytest.raises(UserInputError, match=r"verified\.jsonl:2 is damaged"):
        run.verified()
    path.write_bytes(good + b"[1, 2]\n" + good)
    with pytest.raises(UserInputError, match=r"verified\.jsonl:2 is damaged"):
        run.verified()
    path.write_bytes(good + good + b'{"round": 0, "purp\xc3')  # torn by a kill
    assert len(run.verified()) == 2


def test_non_utf8_verified_line_stops_resume_and_keeps_the_file(tmp_path, capsys):
    run = _run_dir(tmp_path, {"problem": {"circuit": "op1", "tech": "generic"}})
    good = b'{"round": 0, "purpose": "initial", "params": {"a": 1.0}}\n'
    (run / "verified.jsonl").write_bytes(good + b"\xff\xfe\n" + good)
    before = _snapshot(run)
    assert train_main(["--run", str(run), "--resume"]) == 2
    assert "verified.jsonl:2 is damaged" in _one_line(capsys.readouterr().err)
    assert _snapshot(run) == before


@pytest.mark.parametrize("damage", ["truncated-json", "truncated-npz", "missing"])
def test_damaged_surrogate_is_named_and_resume_is_the_way_out(tmp_path, damage):
    run = RunDir(tmp_path / "run")
    (run.path / "config.json").write_text("{}")
    folder = run.path / "surrogate"
    folder.mkdir()
    (folder / "surrogate.json").write_text('{"mean": [1, 2], "std": [1, 2]}')
    import numpy as np

    np.savez(folder / "weights.npz", w=np.arange(100.0))
    assert RunDir.existing(run.path).surrogate_problem() is None
    if damage == "truncated-json":
        (folder / "surrogate.json").write_text('{"mean": [1, 2], "st')
    elif damage == "truncated-npz":
        data = (folder / "weights.npz").read_bytes()
        (folder / "weights.npz").write_bytes(data[: len(data) // 2])
    else:
        (folder / "weights.npz").unlink()
    with pytest.raises(UserInputError, match=r"surrogate is damaged .*--resume"):
        RunDir.existing(run.path)


# -- the simulation store ----------------------------------------------------------
def test_corrupted_store_is_one_line_and_left_as_it_was(tmp_path, capsys):
    path = fill_store(tmp_path / "s.sqlite", 400, message="x" * 200)
    data = bytearray(path.read_bytes())
    page = 4096
    for start in range(2 * page, len(data) - page, 3 * page):  # trash pages
        data[start + 8 : start + page] = b"\x5a" * (page - 8)
    path.write_bytes(bytes(data))
    before = path.read_bytes()
    with (
        pytest.raises(UserInputError, match="damaged or unreadable"),
        SimulationStore(path) as store,
    ):
        store.query(circuit="op1")
        store.count()
    code = sim_main(
        ["run", "--circuit", "op1", "--tech", "generic", "--store", str(path)]
    )
    assert code == 2
    assert str(path) in _one_line(capsys.readouterr().err)
    assert path.read_bytes() == before
    (tmp_path / "not.sqlite").write_bytes(b"this is not a database" * 100)
    with pytest.raises(UserInputError, match="not.sqlite"):
        SimulationStore(tmp_path / "not.sqlite").count()


def test_store_whose_damage_message_is_not_utf8_is_one_line(tmp_path, monkeypatch):
    """SQLite's message about a damaged header can quote bytes of the file
    that are not UTF-8, so Python raises UnicodeDecodeError instead of a
    DatabaseError (found by the trust fuzz at 500 mutations; injected here)."""
    import sim.storage.store as store_module

    real_connect = sqlite3.connect

    class DamagedHeader:
        def __init__(self, *args, **kwargs):
            self._db = real_connect(*args, **kwargs)

        def execute(self, sql, *args):
            if "journal_mode" in sql:
                raise UnicodeDecodeError("utf-8", b"\xa8", 0, 1, "invalid start byte")
            return self._db.execute(sql, *args)

        def __getattr__(self, name):
            return getattr(self._db, name)

    monkeypatch.setattr(store_module.sqlite3, "connect", DamagedHeader)
    path = tmp_path / "s.sqlite"
    with pytest.raises(UserInputError, match="s.sqlite"):
        SimulationStore(path)


# -- command-line values -------------------------------------------------------------
@pytest.mark.parametrize(
    "extra, message",
    [
        (["--n", "99999999999999999999"], "more than this machine can hold"),
        (["--n", "1000000000000"], "more than this machine can hold"),
        (["--json", "{file}/x.json"], "is a file"),
        (["--json", "{file}/deeper/x.json"], "is a file"),
    ],
)
def test_absurd_counts_and_paths_under_a_file_are_one_line(
    tmp_path, capsys, extra, message
):
    blocker = tmp_path / "afile"
    blocker.write_text("keep me")
    argv = ["run", "--circuit", "op1", "--tech", "generic"]
    argv += [word.format(file=blocker) for word in extra]
    with pytest.raises(SystemExit) as info:
        sim_main(argv + ["--store", str(tmp_path / "s.sqlite")])
    assert info.value.code == 2
    assert message in _one_line(capsys.readouterr().err)
    assert blocker.read_text() == "keep me"
    assert not (tmp_path / "s.sqlite").exists()  # refused before anything ran


def test_out_naming_a_file_is_one_line(tmp_path, capsys):
    blocker = tmp_path / "afile"
    blocker.write_text("keep me")
    for out in (blocker, blocker / "sub"):
        with pytest.raises(SystemExit) as info:
            sim_main(
                ["plot", "--circuit", "op1", "--tech", "generic", "--out", str(out)]
            )
        assert info.value.code == 2
        assert "is a file" in _one_line(capsys.readouterr().err)
    assert blocker.read_text() == "keep me"
    assert max_count() >= 1000


def test_size_out_naming_a_file_is_one_line(tmp_path, capsys):
    from train.size import main as size_main

    blocker = tmp_path / "afile"
    blocker.write_text("keep me")
    with pytest.raises(SystemExit) as info:
        size_main(
            ["--run", str(tmp_path), "--target", "a_0>=40dB"] + ["--out", str(blocker)]
        )
    assert info.value.code == 2
    assert "is a file" in _one_line(capsys.readouterr().err)
    assert blocker.read_text() == "keep me"


def test_worker_counts_are_capped_with_a_warning(capsys):
    cap = WORKERS_PER_CORE * default_workers()
    assert capped_workers(2) == 2
    assert capped_workers(10_000) == cap
    assert "capped at" in _one_line(capsys.readouterr().err)
    with pytest.raises(UserInputError):
        capped_workers(-1)


# -- YAML --------------------------------------------------------------------------
def _bomb(levels: int = 12) -> str:
    text = 'l0: &l0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]\n'
    for i in range(1, levels):
        text += f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]\n"
    return text


def test_yaml_alias_bomb_is_refused_in_circuit_and_technology_files(tmp_path):
    with pytest.raises(Exception, match="aliases") as info:
        load_yaml(_bomb() + f"description: *l{11}\n")
    assert "more than" in str(info.value) and str(MAX_YAML_NODES) in str(info.value)
    folder = tmp_path / "st1"
    shutil.copytree(BUILTIN_DIR / "st1", folder)
    yaml_path = folder / "circuit.yaml"
    text = yaml_path.read_text().replace("description: >", "description_: >", 1)
    yaml_path.write_text(
        _bomb() + text.replace("name: st1", "name: st1\ndescription: *l11", 1)
    )
    with pytest.raises(UserInputError, match="aliases"):
        load_circuit(folder, load_technology("generic"))
    tech = tmp_path / "tech.yaml"
    tech.write_text(_bomb() + "vdd: 1.2\n")
    with pytest.raises(UserInputError, match="aliases"):
        load_technology_file(tech)
    # Small aliases and merges stay fine.
    assert load_yaml("a: &a {x: 1}\nb:\n  <<: *a\n  y: 2\n")["b"] == {"x": 1, "y": 2}


def test_yaml_bomb_in_description_via_the_cli_is_one_line(tmp_path):
    folder = tmp_path / "st1"
    shutil.copytree(BUILTIN_DIR / "st1", folder)
    yaml_path = folder / "circuit.yaml"
    text = yaml_path.read_text().replace("description: >", "description_: >", 1)
    yaml_path.write_text(
        _bomb() + text.replace("name: st1", "name: st1\ndescription: *l11", 1)
    )
    run = subprocess.run(
        [sys.executable, "-m", "sim", "run", "--circuit", str(folder)]
        + ["--tech", "generic", "--store", str(tmp_path / "s.sqlite")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2
    assert "aliases" in _one_line(run.stderr)


# -- targets -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def box():
    tech = load_technology("generic")
    return problem_for(load_circuit("op2", tech), "generic", "tt").box


@pytest.mark.parametrize(
    "text, message",
    [
        ('{"a_0": 50, "a_0": 45}', "twice"),
        ('{"ugbw": "10MHz", "ugbw": "20MHz"}', "twice"),
        ("ugbw>=1e300Hz", "more than"),
        ('{"ugbw": 1e300}', "more than"),
        ("a_0>=1e12dB", "more than"),
        ("power<=1e-30W", "less than"),
    ],
)
def test_duplicate_keys_and_absurd_targets_are_refused(box, text, message):
    with pytest.raises(UserInputError, match=message):
        parse_target(text, box)


def test_targets_within_reason_stay_accepted(box):
    spec = box.spec("ugbw")
    parse_target(f"ugbw>={spec.high * 100:g}", box)  # hard, but not absurd
    parse_target('{"a_0": 50}', box)


def test_technology_yaml_bomb_names_the_file(tmp_path):
    tech = tmp_path / "t.yaml"
    tech.write_text(
        textwrap.dedent("""\
        a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
        b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
        c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
        d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
        e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
        f: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]
        """)
    )
    with pytest.raises(UserInputError, match=r"t\.yaml.*aliases"):
        load_technology_file(tech)
