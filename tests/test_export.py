"""A sized design as a .subckt and testbenches that plain ``ngspice -b`` runs
(sim.commands.export): moved to a new directory and run there, they print the figures
the project's Simulator measured for the same design."""

from __future__ import annotations

import dataclasses
import math
import shutil
import subprocess
from pathlib import Path

import pytest

from sim.commands.export import export_design, printed_figures
from sim.errors import UserInputError
from sim.format.circuit import load_circuit
from sim.format.technology import load_technology
from sim.sizing.sampling import random_designs
from sim.sizing.simulator import Simulator
from tests.conftest import REPO

# Same models, analyses and measure definitions: the only difference is the
# deck's hierarchy (the circuit inside a subckt), which changes the matrix
# order and so where Newton's iterations stop inside ngspice's tolerances.
# Measured differences: <= 4e-11 relative (sky130 op2), <= 4e-12 (generic).
REL = 1e-9


def _run_elsewhere(exported, tmp_path: Path) -> dict[str, float]:
    """Copy the subckt and testbenches into a fresh directory, run each with
    ``ngspice -b`` there and return every figure they printed."""
    where = tmp_path / "designer"
    where.mkdir(parents=True)
    shutil.copy(exported.subckt, where)
    figures: dict[str, float] = {}
    for testbench in exported.testbenches:
        shutil.copy(testbench, where)
        proc = subprocess.run(
            ["ngspice", "-b", testbench.name],
            cwd=where,
            capture_output=True,
            text=True,
            timeout=120,
        )
        output = proc.stdout + proc.stderr
        assert proc.returncode == 0, output[-2000:]
        assert "error" not in output.lower(), output[-2000:]
        raw = where / testbench.with_suffix(".raw").name
        assert raw.read_text().count("Plotname:") >= 1
        figures |= printed_figures(proc.stdout, exported.printed)
    return figures


def _compare(printed: dict[str, float], simulated: dict[str, float]) -> None:
    assert printed, "the testbenches printed no figure"
    for name, value in printed.items():
        expected = simulated[name]
        if math.isnan(expected):
            assert math.isnan(value), name
        else:
            assert value == pytest.approx(expected, rel=REL, abs=1e-15), name


def test_twostage_generic_every_testbench_reproduces_the_simulator(
    tmp_path, pool, store
):
    tech = load_technology("generic")
    full = load_circuit("twostage", tech)
    # the transient (slew, overshoot) and tracking figures are left to the
    # raw vectors: without them no testbench runs a transient
    skipped = {"sr_r", "sr_f", "overshoot_r", "overshoot_f", "v_il", "v_ih"}
    circuit = full.restricted(m.name for m in full.measures if m.name not in skipped)
    design = random_designs(circuit, 1, seed=7)[0]
    with Simulator(circuit, tech, backend=pool, store=store) as simulator:
        evaluation = simulator.simulate_one(design)
    assert evaluation.ok
    exported = export_design(circuit, tech, evaluation.params, tmp_path / "out")
    assert [p.name for p in exported.testbenches][0] == "twostage_tb.sp"
    assert len(exported.testbenches) == len(circuit.testbenches)
    printed = _run_elsewhere(exported, tmp_path)
    # every figure the control blocks compute came out, NaN ones as "nan"
    assert set(printed) == set(exported.printed)
    assert {"a_0", "ugbw", "pm", "gm", "power", "i_supply", "cmrr", "v_oh"} <= set(
        printed
    )
    _compare(printed, evaluation.performance)


def test_op2_sky130_spec_figures_with_the_pdk_library(tmp_path, pool, store):
    from sim.format.sky130_models import find_sky130_models

    try:
        models = find_sky130_models()
    except UserInputError as error:
        pytest.skip(str(error))
    tech = load_technology("sky130")
    circuit = load_circuit("op2", tech).restricted(
        ["a_0", "ugbw", "pm", "power", "vn_1kHz"]
    )
    design = random_designs(circuit, 1, seed=3)[0]
    with Simulator(circuit, tech, backend=pool, store=store) as simulator:
        evaluation = simulator.simulate_one(design)
    assert evaluation.ok
    exported = export_design(circuit, tech, evaluation.params, tmp_path / "out")
    deck = exported.testbenches[0].read_text()
    # the PDK's own library, not the trimmed copy in the user's cache
    assert f".lib {models / 'sky130.lib.spice'} tt" in deck
    assert ".cache" not in deck
    printed = _run_elsewhere(exported, tmp_path)
    assert set(printed) == {"a_0", "ugbw", "pm", "power", "vn_1kHz"}
    _compare(printed, evaluation.performance)


def test_user_technology_and_circuit(tmp_path, ptm45_tech, cs_amp, pool, store):
    tech = load_technology(ptm45_tech)
    circuit = load_circuit(cs_amp, tech)
    with Simulator(circuit, tech, backend=pool, store=store) as simulator:
        evaluation = simulator.simulate_one({"Wn": 2e-6, "VIN": 0.5})
    assert evaluation.ok
    exported = export_design(circuit, tech, evaluation.params, tmp_path / "out")
    deck = exported.testbenches[0].read_text()
    assert tech.corner_includes["tt"][0] in deck  # the model file the YAML gave
    assert ".param VIN=0.5" in deck  # the testbench reads this parameter
    printed = _run_elsewhere(exported, tmp_path)
    assert set(printed) == {"gain", "ugbw", "power", "vout"}
    _compare(printed, evaluation.performance)


def test_subckt_has_numbers_and_the_declared_ports(tmp_path):
    tech = load_technology("generic")
    circuit = load_circuit("op2", tech)
    exported = export_design(circuit, tech, {"Wdp1": 7e-6}, tmp_path)
    text = exported.subckt.read_text()
    declared = tuple(p.lower() for p in circuit.ports) or ("inn", "inp", "out")
    assert exported.ports[: len(declared)] == declared
    assert f".subckt op2_sized {' '.join(exported.ports)}" in text
    assert "{" not in text and ".ends op2_sized" in text
    assert "MND11 x inn tail vss nmos w=7e-06 l=5e-07 m=2.0" in text
    deck = exported.testbenches[0].read_text()
    assert f"XDUT {' '.join(exported.ports)} op2_sized" in deck
    assert ".include op2_sized.subckt" in deck


def test_model_path_under_pdk_root_is_named_relative_to_it(tmp_path, monkeypatch):
    monkeypatch.setenv("PDK_ROOT", str(REPO / "sim"))
    tech = load_technology("generic")
    circuit = load_circuit("twostage", tech).restricted(["a_0"])
    exported = export_design(circuit, tech, {}, tmp_path)
    deck = exported.testbenches[0].read_text()
    assert "* = $PDK_ROOT/technologies/generic.lib" in deck


def test_expressions_beyond_arithmetic_stay_with_their_values(tmp_path):
    tech = load_technology("generic")
    base = load_circuit("twostage", tech).restricted(["a_0", "ugbw"])
    netlist = base.netlist.replace("CC x out {cc}", "CC x out {max(cc, 1e-13)}")
    circuit = dataclasses.replace(base, netlist=netlist)
    design = {"cc": 2.2e-12}
    exported = export_design(circuit, tech, design, tmp_path / "max")
    text = exported.subckt.read_text()
    assert "{max(cc, 1e-13)}" in text and ".param cc=2.2e-12" in text
    plain = export_design(base, tech, design, tmp_path / "plain")
    with_max = _run_elsewhere(exported, tmp_path / "a")
    assert with_max == pytest.approx(_run_elsewhere(plain, tmp_path / "b"), rel=REL)
