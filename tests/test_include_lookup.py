"""Includes are resolved as ngspice resolves them, from the bytes of their
names, and the store keys the files ngspice opens (issue 24, item 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.engine.pool import SimulationPool
from sim.errors import UserInputError
from sim.format.circuit import load_circuit
from sim.format.technology import load_technology
from sim.sizing.simulator import Simulator
from tests.conftest import write_circuit

_YAML = """\
netlist: dut.sp
parameters:
  R: {bounds: [100, 1.0e+4], default: 1000}
testbenches:
  tb: {netlist: tb.sp, analyses: {ac: ac dec 10 1 1G}}
measures:
  gain: {measure: dc_gain, analysis: tb.ac, output: v(out), unit: dB}
  ugbw: {measure: unity_gain_bandwidth, analysis: tb.ac, output: v(out), unit: Hz}
"""
_EACUTE = "\u00e9.inc"  # é.inc, UTF-8 bytes c3 a9
_MOJIBAKE = "\u00c3\u00a9.inc"  # what a latin-1 reading of those bytes names


def _rc_circuit(folder: Path, nested_include: str) -> Path:
    """An RC whose netlist includes sub/a.inc, which includes ``nested_include``."""
    path = write_circuit(
        folder,
        "R1 in out {R}\n.include sub/a.inc\n",
        "V1 in 0 dc 0 ac 10\n",
        _YAML,
    )
    (folder / "sub").mkdir()
    (folder / "sub" / "a.inc").write_text(f"* a\n.include {nested_include}\n")
    return path


def test_non_ascii_include_name_opens_the_same_file_as_ngspice(tmp_path):
    yaml_path = _rc_circuit(tmp_path / "c", _EACUTE)
    sub = tmp_path / "c" / "sub"
    (sub / _EACUTE).write_text("C1 out 0 1n\n.control\nshell ls\n.endc\n")
    (sub / _MOJIBAKE).write_text("C1 out 0 1n\n")  # the decoy a latin-1 read checks
    with pytest.raises(UserInputError, match=r"\u00e9\.inc:2: '\.control' refused"):
        load_circuit(yaml_path.parent, load_technology("generic"))


def test_non_ascii_include_is_keyed_by_its_content(tmp_path, pool, store):
    yaml_path = _rc_circuit(tmp_path / "c", _EACUTE)
    included = tmp_path / "c" / "sub" / _EACUTE
    included.write_text("C1 out 0 1n\n")
    first = Simulator(yaml_path.parent, "generic", backend=pool, store=store)
    one = first.simulate_one()
    assert one.ok, one.message
    included.write_text("C1 out 0 1u\n")  # an edit: 1000x the capacitance
    again = Simulator(yaml_path.parent, "generic", backend=pool, store=store)
    two = again.simulate_one()
    assert two.ok and not two.cached
    assert two.performance["ugbw"] == pytest.approx(
        one.performance["ugbw"] / 1000, rel=0.05
    )


def test_nested_relative_include_never_resolves_into_the_shared_temp_folder(
    tmp_path, store, monkeypatch
):
    """sub/a.inc says ``.include ../../x.inc``: ngspice tries it against its
    working folder first. The worker's folder is private, two levels below
    ``TMPDIR``, so ``../../x.inc`` from there is ``$TMPDIR/x.inc``: a file
    planted there is refused, never simulated; without it the circuit's own
    file is used."""
    shared = tmp_path / "shared"
    shared.mkdir()
    monkeypatch.setenv("TMPDIR", str(shared))
    circuit_dir = tmp_path / "p" / "q" / "c"
    circuit_dir.parent.mkdir(parents=True)
    yaml_path = _rc_circuit(circuit_dir, "../../x.inc")
    (tmp_path / "p" / "q" / "x.inc").write_text("C1 out 0 1n\n")  # the real one
    with SimulationPool(1, timeout=60) as pool:
        clean = Simulator(yaml_path.parent, "generic", backend=pool, store=store)
        result = clean.simulate_one()
        assert result.ok, result.message
    (shared / "x.inc").write_text("C1 out 0 1u\n")  # planted in TMPDIR
    with SimulationPool(1, timeout=60) as pool:
        planted = Simulator(yaml_path.parent, "generic", backend=pool, store=store)
        bad = planted.simulate([{"R": 2000.0}], force=True)[0]
    assert not bad.ok
    assert "would be found at" in bad.message and str(shared / "x.inc") in bad.message
