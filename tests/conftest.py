"""Shared fixtures: stores in tmp dirs, a shared worker pool, user files."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from sim.engine.pool import SimulationPool
from sim.storage.store import SimulationStore

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
PTM45 = SHARED_DATA / "ptm45" / "45nm_bulk.txt"


def fill_store(path: Path, rows: int, message: str = "") -> Path:
    """A store at ``path`` holding ``rows`` synthetic op1/generic rows
    (params ``a``, performance ``y``), checkpointed into the main file so a
    test can damage its bytes."""
    import sqlite3

    with SimulationStore(path) as store:
        for i in range(rows):
            store.add(
                f"k{i}",
                circuit="op1",
                circuit_fingerprint="f",
                technology="generic",
                corner="tt",
                temperature=27.0,
                params={"a": float(i)},
                performance={"y": float(i)},
                status="ok",
                message=message,
                elapsed=0.0,
            )
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return path


@pytest.fixture(autouse=True)
def _private_store(tmp_path, monkeypatch):
    """Never write the user's default store from tests, and never read (or
    write) the user's fitted models: tests see the shipped ones only. The
    cache (``$JAXSIZER_HOME/cache``) stays shared: it is rebuilt when missing."""
    monkeypatch.setenv("JAXSIZER_STORE", str(tmp_path / "default-store.sqlite"))
    monkeypatch.setenv("JAXSIZER_MODELS", str(tmp_path / "user-models"))


@pytest.fixture
def store(tmp_path) -> SimulationStore:
    with SimulationStore(tmp_path / "store.sqlite") as s:
        yield s


@pytest.fixture(scope="session")
def pool() -> SimulationPool:
    """Two workers shared by the tests that do not break workers on purpose."""
    with SimulationPool(2, timeout=60) as p:
        yield p


@pytest.fixture
def ptm45_tech(tmp_path) -> Path:
    """A user technology YAML pointing at the shared PTM 45 nm card."""
    if not PTM45.is_file():
        pytest.skip(f"shared test data missing: {PTM45}")
    path = tmp_path / "ptm45.yaml"
    path.write_text(
        textwrap.dedent(f"""\
        name: ptm45
        vdd: 1.2
        models: [{PTM45}]
        nmos: {{name: nmos, kind: model}}
        pmos: {{name: pmos, kind: model}}
        length_unit: m
        limits: {{w: [0.09e-6, 50.0e-6], l: [45.0e-9, 2.0e-6]}}
        """)
    )
    return path


def write_circuit(
    directory: Path, netlist: str, testbench: str, yaml_text: str
) -> Path:
    """Write a user circuit (YAML + netlists) into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "dut.sp").write_text(textwrap.dedent(netlist))
    (directory / "tb.sp").write_text(textwrap.dedent(testbench))
    (directory / "circuit.yaml").write_text(textwrap.dedent(yaml_text))
    return directory / "circuit.yaml"


@pytest.fixture
def cs_amp(tmp_path) -> Path:
    """A user circuit outside the package: a common-source amplifier."""
    return write_circuit(
        tmp_path / "user_cs_amp",
        """\
        * common-source amplifier with a pmos current-source load
        MN1 out in 0 0 nmos W={Wn} L={Lnn}
        MP1 out pb vdd vdd pmos W={Wp} L={Lp}
        """,
        """\
        VDD vdd 0 {VDD}
        VPB pb 0 {VDD-0.45}
        VIN in 0 dc {VIN} ac 1
        CL out 0 1p
        """,
        """\
        name: cs_amp
        netlist: dut.sp
        parameters:
          Wn: {unit: m, bounds: [0.2e-6, 20.0e-6], scale: log, default: 1.0e-6}
          Lnn: {unit: m, bounds: [0.09e-6, 1.0e-6], scale: log, default: 0.2e-6}
          Wp: {unit: m, bounds: [0.2e-6, 20.0e-6], scale: log, default: 2.0e-6}
          Lp: {unit: m, bounds: [0.09e-6, 1.0e-6], scale: log, default: 0.2e-6}
          VIN: {unit: V, bounds: [0.2, 0.8], default: 0.45}
        testbenches:
          tb:
            netlist: tb.sp
            analyses: {op: op, ac: "ac dec 20 1 100G"}
        measures:
          gain: {measure: dc_gain, analysis: tb.ac, output: v(out), unit: dB}
          ugbw:
            measure: unity_gain_bandwidth
            analysis: tb.ac
            output: v(out)
            unit: Hz
          power: {measure: supply_power, analysis: tb.op, source: vdd, unit: W}
          vout: {measure: node_voltage, analysis: tb.op, node: v(out), unit: V}
        operating_point:
          analysis: tb.op
          devices: {MN1: nmos, MP1: pmos}
        specs:
          gain: {bound: lower, range: [5, 20]}
        """,
    )
