"""Built-in circuits: their default designs work, their spaces and specs are sane."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.errors import UserInputError
from sim.format.circuit import Parameter, builtin_circuits, load_circuit
from sim.format.technology import load_technology
from sim.sizing.sampling import random_designs
from sim.sizing.simulator import Simulator

OPAMPS = ["op1", "op2", "op3", "op4", "op5", "op6", "op8", "op9", "opamp3"]
COMBINATIONS = [(c, t) for c in OPAMPS for t in ("generic", "sky130")] + [
    ("twostage", "generic")
]
NONCONDUCTING = {"op6": {"MPC1"}}  # MOS capacitors carry no drain current


@pytest.mark.parametrize(("circuit", "tech"), COMBINATIONS)
def test_default_design_is_a_working_amplifier(circuit, tech, pool, store):
    """Every figure of the op-amp's default design is finite and sensible."""
    simulator = Simulator(circuit, tech, backend=pool, store=store)
    result = simulator.simulate_one()
    assert result.ok, result.message
    figures = result.performance
    vdd = simulator.technology.vdd
    assert figures["a_0"] > 20  # dB
    assert 0 < figures["pm"] < 180  # deg
    assert math.isfinite(figures["ugbw"]) and figures["ugbw"] > 0
    assert figures["power"] > 0
    assert 0 < figures["v_out"] < vdd
    for name in ("sr_r", "sr_f", "vn_1kHz", "cmrr", "psrr_p", "A", "voff_stat"):
        assert math.isfinite(figures[name]) and figures[name] > 0, name
    assert 0 <= figures["v_ol"] < figures["v_oh"] <= vdd * 1.001
    assert figures["i_out_min"] < 0 < figures["i_out_max"]
    assert abs(figures["voff_sys"]) < 0.05  # V
    assert simulator.circuit.devices
    for device in set(simulator.circuit.devices) - NONCONDUCTING.get(circuit, set()):
        gm_id = figures[f"{device}:gmoverid"]
        assert math.isfinite(gm_id) and gm_id > 0, device


@pytest.mark.parametrize("tech", ["generic", "sky130"])
def test_inverter_chain_switching_voltages(tech, pool, store):
    simulator = Simulator("nand4", tech, backend=pool, store=store)
    result = simulator.simulate_one()
    assert result.ok, result.message
    vdd = simulator.technology.vdd
    for k in range(4):
        assert 0 < result.performance[f"vs{k}"] < vdd


@pytest.mark.parametrize("tech", ["generic", "sky130"])
def test_schmitt_trigger_hysteresis_and_delays(tech, pool, store):
    simulator = Simulator("st1", tech, backend=pool, store=store)
    result = simulator.simulate_one()
    assert result.ok, result.message
    f = result.performance
    assert 0 < f["v_il"] < f["v_ih"] < simulator.technology.vdd
    assert f["t_phl"] > 0 and f["t_plh"] > 0


@pytest.mark.parametrize(("circuit", "tech"), COMBINATIONS)
def test_specs_are_well_formed(circuit, tech):
    loaded = load_circuit(circuit, load_technology(tech))
    measures = {m.name for m in loaded.measures}
    box = loaded.box
    assert box.specs
    for spec in box.specs:
        assert spec.name in measures
        assert spec.bound in ("lower", "upper")
        assert spec.low <= spec.high
        assert spec.fixed == (spec.low == spec.high)
        assert spec.scale in ("linear", "log")
        if spec.scale == "log":
            assert spec.low > 0
        # the easy end is the low end of a lower bound, the high end of an upper
        assert spec.easy == (spec.low if spec.bound == "lower" else spec.high)
    assert len(set(box.names)) == len(box.names)


ALL_CIRCUITS = [(c, t) for c in builtin_circuits() for t in ("generic", "sky130")]


@pytest.mark.parametrize(("circuit", "tech"), ALL_CIRCUITS)
def test_random_designs_respect_the_parameter_space(circuit, tech):
    loaded = load_circuit(circuit, load_technology(tech))
    designs = random_designs(loaded, 200, seed=1)
    assert designs == random_designs(loaded, 200, seed=1)
    assert designs != random_designs(loaded, 200, seed=2)
    for p in loaded.parameters:
        values = np.array([d[p.name] for d in designs])
        assert np.all((values >= p.low) & (values <= p.high)), p.name
        if p.kind == "integer":
            assert np.all(values == np.round(values)), p.name
        elif p.kind == "grid":
            assert set(values) <= set(p.grid), p.name
        else:
            assert len(set(values)) > 150, p.name  # continuous, not snapped
        # Every value is accepted as it is.
        assert all(p.check(v) == v for v in values)
    for design in designs[:20]:
        assert loaded.check_design(design) == design


def test_log_scaled_parameters_are_sampled_per_decade():
    loaded = load_circuit("op2", load_technology("generic"))
    p = loaded.parameter("Wdp1")  # 0.5 um .. 50 um, log
    assert p.scale == "log"
    values = np.array([d["Wdp1"] for d in random_designs(loaded, 2000, seed=0)])
    below_5um = np.mean(values < 5e-6)  # one of the two decades
    assert 0.45 < below_5um < 0.55


# -- Parameter.check ---------------------------------------------------------------
REAL = Parameter("W", 1e-6, 1e-5, 2e-6, "m")
COUNT = Parameter("M", 1, 8, 2, kind="integer")
GRID = Parameter(
    "C", 1e-12, 4.7e-12, 2.2e-12, "F", "grid", grid=(1e-12, 2.2e-12, 4.7e-12)
)


@pytest.mark.parametrize(
    ("parameter", "value", "message"),
    [
        (REAL, 2e-5, "out of bounds"),
        (REAL, 1e-7, "out of bounds"),
        (REAL, -3e-6, "out of bounds"),
        (REAL, math.nan, "must be finite"),
        (REAL, math.inf, "must be finite"),
        (REAL, -math.inf, "must be finite"),
        (REAL, True, "must be a number"),
        (COUNT, True, "must be a number"),
        (COUNT, np.bool_(True), "must be a number"),
        (REAL, "2e-6", "must be a number"),
        (REAL, "2u", "must be a number"),
        (REAL, "{W*2}", "must be a number"),
        (REAL, b"2e-6", "must be a number"),
        (REAL, None, "must be a number"),
        (REAL, [2e-6], "must be a number"),
        (COUNT, 2.5, "must be an integer"),
        (COUNT, 9, "out of bounds"),
        (GRID, 3e-12, "not on its grid"),
        (GRID, math.nan, "must be finite"),
    ],
)
def test_check_refuses(parameter, value, message):
    with pytest.raises(UserInputError, match=message) as error:
        parameter.check(value)
    assert parameter.name in str(error.value)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        (REAL, 2e-6),
        (REAL, 1e-6),
        (REAL, 1e-5),
        (REAL, np.float64(5e-6)),
        (REAL, np.float32(5e-6)),
        (COUNT, 3),
        (COUNT, 3.0),
        (COUNT, np.int64(8)),
        (GRID, 4.7e-12),
    ],
)
def test_check_accepts_numbers(parameter, value):
    checked = parameter.check(value)
    assert type(checked) is float
    assert checked == pytest.approx(float(value), rel=1e-6)
