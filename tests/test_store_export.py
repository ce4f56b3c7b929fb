"""``python -m sim.storage.store_export``: every stored simulation as one table row."""

from __future__ import annotations

import csv
import math
import subprocess
import sys

import pytest

from sim.format.circuit import load_circuit
from sim.format.technology import load_technology
from sim.sizing.sampling import random_designs
from sim.sizing.simulator import Simulator
from sim.storage.store import SimulationStore
from sim.storage.store_export import main
from tests.conftest import REPO


@pytest.fixture(scope="module")
def filled_store(tmp_path_factory, pool):
    """A store with twostage and op2 designs on generic, one row failed."""
    path = tmp_path_factory.mktemp("store") / "store.sqlite"
    tech = load_technology("generic")
    with SimulationStore(path) as store:
        for name, count in (("twostage", 3), ("op2", 2)):
            circuit = load_circuit(name, tech).restricted(["a_0", "ugbw", "power"])
            with Simulator(circuit, tech, backend=pool, store=store) as sim:
                sim.simulate(random_designs(sim.circuit, count, seed=1))
        store.add(
            "a-failed-one",
            circuit="op2",
            circuit_fingerprint="f" * 16,
            technology="sky130",
            corner="ss",
            temperature=85.0,
            params={"Wdp1": 1e-6},
            performance={},
            status="nonconvergence",
            message="timestep too small",
            elapsed=0.5,
        )
        assert store.count() == 6
    return path


def _read(path):
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_csv_has_one_row_per_simulation(filled_store, tmp_path):
    out = tmp_path / "all.csv"
    assert main(["--store", str(filled_store), "--csv", str(out)]) == 0
    rows = _read(out)
    assert len(rows) == 6
    with SimulationStore(filled_store) as store:
        stored = store.query()
    for row, simulation in zip(rows, stored, strict=True):
        assert row["circuit"] == simulation.circuit
        assert row["tech"] == simulation.technology
        assert float(row["temperature"]) == simulation.temperature
        assert row["status"] == simulation.status
        for name, value in simulation.params.items():
            assert float(row[f"param.{name}"]) == value  # exact round trip
        for name, value in simulation.performance.items():
            cell = float(row[f"figure.{name}"])
            assert cell == value or (math.isnan(cell) and math.isnan(value))
    failed = rows[-1]
    assert failed["status"] == "nonconvergence" and failed["corner"] == "ss"
    assert failed["figure.a_0"] == "" and failed["param.mp1"] == ""


def test_filters(filled_store, tmp_path):
    out = tmp_path / "f.csv"
    base = ["--store", str(filled_store), "--csv", str(out)]
    assert main([*base, "--circuit", "op2"]) == 0
    assert [r["circuit"] for r in _read(out)] == ["op2"] * 3
    assert main([*base, "--circuit", "op2", "--tech", "generic"]) == 0
    rows = _read(out)
    assert len(rows) == 2 and {r["tech"] for r in rows} == {"generic"}
    assert not any(c.startswith("param.mp1") for c in rows[0])  # op2's own columns
    assert main([*base, "--tech", "nowhere"]) == 0
    assert _read(out) == []


def test_parquet_matches_csv(filled_store, tmp_path):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    out = tmp_path / "all.parquet"
    assert main(["--store", str(filled_store), "--parquet", str(out)]) == 0
    frame = pd.read_parquet(out)
    assert len(frame) == 6 and frame["status"].iloc[-1] == "nonconvergence"
    assert frame["param.mp1"].iloc[:3].notna().all()


def test_parquet_without_pandas_says_so_in_one_line(
    filled_store, tmp_path, monkeypatch, capsys
):
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # fault: not installed
    out = tmp_path / "all.parquet"
    assert main(["--store", str(filled_store), "--parquet", str(out)]) == 2
    error = capsys.readouterr().err
    assert len(error.strip().splitlines()) == 1 and "jaxsizer[parquet]" in error
    assert not out.exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--store", "/nonexistent/store.sqlite", "--csv", "x.csv"], "no simulation"),
        (["--store", "STORE", "--csv", "/nonexistent/dir/x.csv"], "does not exist"),
        (["--store", "STORE"], "one of the arguments"),
        (["--store", "STORE", "--csv", "a", "--parquet", "b"], "not allowed"),
        (["--store", "NOTSQLITE", "--csv", "x.csv"], "cannot open"),
    ],
)
def test_bad_input_gives_one_line(filled_store, tmp_path, args, message):
    junk = tmp_path / "junk.sqlite"
    junk.write_text("not a database\n" * 100)
    replace = {"STORE": str(filled_store), "NOTSQLITE": str(junk)}
    args = [replace.get(a, a) for a in args]
    proc = subprocess.run(
        [sys.executable, "-m", "sim.storage.store_export", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert message in proc.stderr


def test_every_flag_has_a_help():
    from sim.storage.store_export import _parser

    parser = _parser()
    assert all(action.help for action in parser._actions)
