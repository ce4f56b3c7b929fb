"""Store keys hash what the simulation reads; one row per key under concurrency."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from sim.sizing.sampling import random_designs
from sim.sizing.simulator import Simulator
from sim.storage.store import SimulationStore
from tests.conftest import PTM45, REPO, write_circuit

_RC_YAML = """\
netlist: dut.sp
parameters:
  R: {bounds: [100, 1.0e+4], default: 1000}
testbenches:
  tb: {netlist: tb.sp, analyses: {tran: tran 10p 40n}}
measures:
  t_d: {measure: delay, analysis: tb.tran, input: v(in), output: v(out),
        start: 0.5e-9, stop: 20.0e-9, unit: s}
"""


def _rc_with_included_load(tmp_path, include_line: str):
    yaml_path = write_circuit(
        tmp_path / "rc",
        "R1 in out {R}\n",
        f"V1 in 0 dc 0 pulse(0 {{VDD}} 1n 10p 10p 30n 80n)\n{include_line}\n",
        _RC_YAML,
    )
    return yaml_path.parent


@pytest.mark.parametrize("absolute", [True, False])
def test_a_changed_include_re_simulates(tmp_path, pool, store, absolute):
    load = tmp_path / "rc" / "load.inc"
    folder = _rc_with_included_load(
        tmp_path, f".include {load if absolute else 'load.inc'}"
    )
    load.write_text("C1 out 0 1f\n")
    first = Simulator(folder, "generic", backend=pool, store=store).simulate_one()
    assert first.ok, first.message
    load.write_text("C1 out 0 10p\n")
    again = Simulator(folder, "generic", backend=pool, store=store).simulate_one()
    assert again.ok and not again.cached  # not served stale
    # R C ln 2 = 1 kOhm * 10 pF * 0.69 ~ 6.9 ns; with 1 fF under a picosecond.
    assert first.performance["t_d"] < 1e-10
    assert again.performance["t_d"] == pytest.approx(6.9e-9, rel=0.1)
    load.write_text("C1 out 0 1f\n")  # back: the first result is served again
    back = Simulator(folder, "generic", backend=pool, store=store).simulate_one()
    assert back.cached and back.performance == first.performance


def test_model_file_content_changes_the_key_even_with_size_and_mtime_kept(
    tmp_path, ptm45_tech, store
):
    card = tmp_path / "card.txt"
    card.write_bytes(PTM45.read_bytes())
    ptm45_tech.write_text(ptm45_tech.read_text().replace(str(PTM45), str(card)))
    circuit = write_circuit(
        tmp_path / "inv",
        "MN1 out in 0 0 nmos W={W} L=45n\nMP1 out in vdd vdd pmos W={W} L=45n\n",
        "VDD vdd 0 {VDD}\nVIN in 0 0.6\n",
        """\
        netlist: dut.sp
        parameters:
          W: {bounds: [1.0e-7, 1.0e-6]}
        testbenches:
          tb: {netlist: tb.sp, analyses: {op: op}}
        measures:
          v: {measure: node_voltage, analysis: tb.op, node: v(out)}
        """,
    )
    design = {"W": 5e-7}
    before = Simulator(circuit, ptm45_tech, store=store).key(design)
    info = card.stat()
    text = card.read_text()
    digit = next(i for i, c in enumerate(text) if c in "123456789")
    card.write_text(text[:digit] + str(int(text[digit]) % 9 + 1) + text[digit + 1 :])
    os.utime(card, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert card.stat().st_size == info.st_size
    assert card.stat().st_mtime_ns == info.st_mtime_ns
    after = Simulator(circuit, ptm45_tech, store=store).key(design)
    assert after != before


def test_key_covers_corner_and_temperature(store):
    keys = {
        Simulator("op2", "generic", corner, temp, store=store).key({"Wdp1": 7e-6})
        for corner, temp in (("tt", 27.0), ("ss", 27.0), ("tt", 85.0))
    }
    assert len(keys) == 3


def test_a_timeout_never_replaces_a_reproducible_result(tmp_path):
    row = dict(
        circuit="c",
        circuit_fingerprint="f",
        technology="t",
        corner="tt",
        temperature=27.0,
        params={"W": 1.0},
        message="",
        elapsed=0.1,
    )
    with SimulationStore(tmp_path / "s.sqlite") as store:
        store.add("k", performance={"a": 1.0}, status="ok", **row)
        store.add("k", performance={}, status="timeout", **row)
        assert store.latest("k").status == "ok"
        store.add("j", performance={}, status="crash", **row)
        store.add("j", performance={"a": 2.0}, status="ok", **row)
        assert store.latest("j").status == "ok" and store.count() == 2


def test_an_old_store_with_repeated_keys_keeps_the_newest_row(tmp_path):
    path = tmp_path / "old.sqlite"
    with SimulationStore(path) as store:
        schema = store._db.execute(
            "SELECT sql FROM sqlite_master WHERE name = 'simulations'"
        ).fetchone()[0]
    path.unlink()
    db = sqlite3.connect(path)
    db.execute(schema)
    db.execute("CREATE INDEX simulations_key ON simulations (key)")
    for performance in ('{"a": 1.0}', '{"a": 2.0}'):
        db.execute(
            "INSERT INTO simulations (key, circuit, circuit_fingerprint, technology,"
            " corner, temperature, params, performance, status, message, elapsed,"
            " created) VALUES ('k', 'c', 'f', 't', 'tt', 27, '{}', ?, 'ok', '',"
            " 0.1, 0)",
            (performance,),
        )
    db.commit()
    db.close()
    with SimulationStore(path) as store:
        assert store.count() == 1
        assert store.latest("k").performance == {"a": 2.0}


_WRITER = """
import json, sys
from sim.sizing.sampling import random_designs
from sim.sizing.simulator import Simulator
from sim.storage.store import SimulationStore

if __name__ == "__main__":
    with SimulationStore(sys.argv[1]) as store:
        with Simulator("op2", "generic", store=store, n_workers=1) as simulator:
            designs = random_designs(simulator.circuit, int(sys.argv[2]), seed=5)
            results = simulator.simulate(designs)
    print(json.dumps([r.status.value for r in results]))
"""


def test_three_concurrent_writers_leave_one_row_per_design(tmp_path):
    script = tmp_path / "writer.py"
    script.write_text(textwrap.dedent(_WRITER))
    path = tmp_path / "shared.sqlite"
    n_designs = 24
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    writers = [
        subprocess.Popen(
            [sys.executable, str(script), str(path), str(n_designs)],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    for writer in writers:
        out, err = writer.communicate(timeout=600)
        assert writer.returncode == 0, err
        assert len(out.strip().splitlines()[-1].split(",")) == n_designs
    with SimulationStore(path) as store:
        rows = store.query()
        simulator = Simulator("op2", "generic", store=store)
        designs = random_designs(simulator.circuit, n_designs, seed=5)
        keys = {simulator.key(simulator.circuit.check_design(d)) for d in designs}
    assert len(rows) == n_designs
    assert {row.key for row in rows} == keys
