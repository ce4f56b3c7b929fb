"""A user's own technology (YAML + model files) and circuit, outside the package."""

from __future__ import annotations

import math
import os
import textwrap
from pathlib import Path

import pytest
import yaml

from sim.errors import UserInputError
from sim.format.circuit import load_circuit
from sim.format.technology import GENERIC_LIBRARY, load_technology
from sim.sizing.sampling import random_designs
from sim.sizing.simulator import Simulator
from tests.conftest import PTM45, REPO, write_circuit

pytestmark = pytest.mark.skipif(
    not PTM45.is_file(), reason=f"shared test data missing: {PTM45}"
)


def _finite_positive(value: float) -> bool:
    return math.isfinite(value) and value > 0


# -- the user's circuit on the user's technology ---------------------------------
def test_user_circuit_on_ptm45(ptm45_tech, cs_amp, pool, store):
    simulator = Simulator(cs_amp, ptm45_tech, backend=pool, store=store)
    assert simulator.technology.name == "ptm45" and simulator.technology.vdd == 1.2
    assert not cs_amp.resolve().is_relative_to(REPO)
    assert simulator.circuit.directory == cs_amp.parent

    result = simulator.simulate_one()
    assert result.ok, result.message
    figures = result.performance
    assert figures["gain"] > 0  # dB: it amplifies
    assert _finite_positive(figures["ugbw"])
    assert _finite_positive(figures["power"])
    assert 0 < figures["vout"] < 1.2
    for device in ("MN1", "MP1"):
        for quantity in ("gm", "id", "gds", "gmoverid"):
            assert _finite_positive(figures[f"{device}:{quantity}"]), (
                device,
                quantity,
            )
    [row] = store.query()
    assert row.technology == "ptm45" and row.circuit == "cs_amp"


def test_user_circuit_random_designs(ptm45_tech, cs_amp, pool, store):
    simulator = Simulator(cs_amp, ptm45_tech, backend=pool, store=store)
    results = simulator.simulate(random_designs(simulator.circuit, 5, seed=2))
    assert len(results) == 5
    for result in results:
        assert result.ok, result.message
        assert _finite_positive(result.performance["power"])
        assert _finite_positive(result.performance["MN1:gm"])
        assert 0 <= result.performance["vout"] <= 1.2
        assert math.isfinite(result.performance["gain"])


def test_models_come_from_the_ptm_file(ptm45_tech, cs_amp, pool, store):
    ptm = Simulator(cs_amp, ptm45_tech, backend=pool, store=store)
    deck = ptm.deck("tb")
    assert f".include {PTM45.resolve()}" in deck
    assert str(GENERIC_LIBRARY) not in deck
    # The same circuit on another card gives other transistors.
    generic = Simulator(cs_amp, "generic", backend=pool, store=store)
    gm_ptm = ptm.simulate_one().performance["MN1:gm"]
    gm_generic = generic.simulate_one().performance["MN1:gm"]
    assert gm_ptm != pytest.approx(gm_generic, rel=0.05)


def test_relative_model_path_is_resolved_from_the_yaml(tmp_path, cs_amp, pool, store):
    relative = os.path.relpath(PTM45, tmp_path / "tech")
    path = _tech_file(tmp_path / "tech" / "rel.yaml", models=[relative])
    tech = load_technology(path)
    assert tech.includes() == (f".include {PTM45.resolve()}",)
    assert Simulator(cs_amp, tech, backend=pool, store=store).simulate_one().ok


# -- corners ---------------------------------------------------------------------
def test_two_corners_of_one_card_agree(tmp_path, cs_amp, pool, store):
    path = _tech_file(
        tmp_path / "two.yaml",
        models=None,
        corners={"typical": [str(PTM45)], "copy": [str(PTM45)]},
        default_corner="copy",
    )
    tech = load_technology(path)
    assert tech.corners == ("typical", "copy") and tech.default_corner == "copy"
    figures = [
        Simulator(cs_amp, tech, corner, backend=pool, store=store).simulate_one()
        for corner in tech.corners
    ]
    assert all(f.ok for f in figures)
    assert figures[0].performance == figures[1].performance
    assert {r.corner for r in store.query()} == {"typical", "copy"}
    with pytest.raises(UserInputError, match="no corner 'bogus'.*typical, copy"):
        Simulator(cs_amp, tech, "bogus", backend=pool, store=store)


def test_corners_from_library_sections_differ(tmp_path, cs_amp, pool, store):
    path = _tech_file(
        tmp_path / "sections.yaml",
        models=None,
        corners={
            corner: [{"file": str(GENERIC_LIBRARY), "section": corner}]
            for corner in ("tt", "ss", "ff")
        },
    )
    tech = load_technology(path)
    assert tech.includes("ss") == (f".lib {GENERIC_LIBRARY} ss",)
    power = {
        corner: Simulator(cs_amp, tech, corner, backend=pool, store=store)
        .simulate_one()
        .performance["power"]
        for corner in ("ss", "tt", "ff")
    }
    assert power["ss"] < power["tt"] < power["ff"]


# -- technology files that are refused ------------------------------------------
def _tech_file(path: Path, **fields) -> Path:
    """A technology YAML: a valid PTM 45 nm one with ``fields`` changed.

    A field set to None is left out.
    """
    data = {
        "name": "ptm45",
        "vdd": 1.2,
        "models": [str(PTM45)],
        "nmos": {"name": "nmos", "kind": "model"},
        "pmos": "pmos",
        "length_unit": "m",
        "limits": {"w": [0.09e-6, 50e-6], "l": [45e-9, 2e-6]},
    }
    data.update(fields)
    data = {k: v for k, v in data.items() if v is not None}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


BAD_TECHNOLOGIES = {
    "missing nmos": ({"nmos": None}, "missing required key 'nmos'"),
    "missing limits": ({"limits": None}, "missing required key 'limits'"),
    "no models": ({"models": None}, "give 'models'"),
    "limits inverted": (
        {"limits": {"w": [50e-6, 0.09e-6], "l": [45e-9, 2e-6]}},
        "limits.w must satisfy 0 < min < max",
    ),
    "limits negative": (
        {"limits": {"w": [0.09e-6, 50e-6], "l": [-1e-6, 2e-6]}},
        "limits.l must satisfy 0 < min < max",
    ),
    "limits without l": ({"limits": {"w": [1e-7, 1e-5]}}, "limits needs 'w' and 'l'"),
    "limits not a pair": (
        {"limits": {"w": [1e-7], "l": [1e-7, 1e-6]}},
        r"limits.w must be a \[min, max\] pair",
    ),
    "vdd negative": ({"vdd": -1.2}, "vdd must be positive"),
    "vdd zero": ({"vdd": 0}, "vdd must be positive"),
    "vdd text": ({"vdd": "high"}, "vdd must be a number"),
    "model missing": ({"models": ["/nonexistent/card.lib"]}, "model file not found"),
    "unknown key": ({"voltage": 1.2}, r"unknown keys \['voltage'\]"),
    "length unit": ({"length_unit": "mm"}, "length_unit must be 'm' or 'um'"),
    "bad device kind": (
        {"nmos": {"name": "nmos", "kind": "macro"}},
        "kind must be 'model' or 'subcircuit'",
    ),
    "default corner": ({"default_corner": "ss"}, "default_corner 'ss' is not"),
    "device name injection": (
        {"nmos": {"name": "nmos\n.control\nshell touch x\n.endc"}},
        "not a valid SPICE name",
    ),
    "name injection": (
        {"name": "t\n.control\nshell touch x\n.endc"},
        "name must be one line",
    ),
    "section injection": (
        {"models": [{"file": str(PTM45), "section": "tt\n.control"}]},
        "not a valid SPICE name",
    ),
    "corner injection": (
        {"models": None, "corners": {"tt\n.control": [str(PTM45)]}},
        "corner.*not a valid SPICE name",
    ),
}


@pytest.mark.parametrize("case", list(BAD_TECHNOLOGIES))
def test_bad_technology_is_refused(case, tmp_path):
    fields, message = BAD_TECHNOLOGIES[case]
    path = _tech_file(tmp_path / "bad.yaml", **fields)
    with pytest.raises(UserInputError, match=message) as error:
        load_technology(path)
    assert "\n" not in str(error.value)
    assert str(path) in str(error.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("vdd: [1.2\nnmos: nmos\n", "not valid YAML"),
        ("- a list\n- of things\n", "expected a mapping"),
    ],
)
def test_malformed_technology_yaml(text, message, tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    with pytest.raises(UserInputError, match=message) as error:
        load_technology(path)
    assert "\n" not in str(error.value)


def test_unknown_technology_names():
    with pytest.raises(UserInputError, match="technology file not found"):
        load_technology("/nonexistent/tech.yaml")
    with pytest.raises(UserInputError, match="unknown technology 'gf180'"):
        load_technology("gf180")


def test_unknown_corner(ptm45_tech, cs_amp, store):
    tech = load_technology(ptm45_tech)
    assert tech.corners == ("tt",)
    with pytest.raises(UserInputError, match="has no corner 'ff'; choose one of tt"):
        tech.includes("ff")
    with pytest.raises(UserInputError, match="no corner 'bogus'"):
        Simulator(cs_amp, tech, corner="bogus", store=store)


# -- user circuits that are refused ------------------------------------------------
def _amp(directory: Path, netlist: str, testbench: str, parameter: str = "Wn") -> Path:
    return write_circuit(
        directory,
        netlist,
        testbench,
        f"""\
        netlist: dut.sp
        parameters:
          {parameter}: {{bounds: [0.2e-6, 20.0e-6], default: 1.0e-6}}
        testbenches:
          tb: {{netlist: tb.sp, analyses: {{op: op}}}}
        measures:
          vout: {{measure: node_voltage, analysis: tb.op, node: v(out)}}
        """,
    )


AMP = "MN1 out in 0 0 nmos W={Wn} L=0.2u\nR1 vdd out 10k\n"
BENCH = "VDD vdd 0 {VDD}\nVIN in 0 0.6\n"


def test_minimal_user_circuit_runs(tmp_path, ptm45_tech, pool, store):
    """The control case for the refusals below."""
    path = _amp(tmp_path / "ok", AMP, BENCH)
    result = Simulator(path, ptm45_tech, backend=pool, store=store).simulate_one()
    assert result.ok and 0 < result.performance["vout"] < 1.2


@pytest.mark.parametrize("name", ["ln", "Ln", "exp", "vdd", "temper", "pi"])
def test_reserved_parameter_name_is_refused(name, tmp_path):
    path = _amp(tmp_path / name, AMP.replace("{Wn}", f"{{{name}}}"), BENCH, name)
    with pytest.raises(UserInputError, match=f"'{name}' cannot be a parameter name"):
        load_circuit(path)


@pytest.mark.parametrize(
    ("netlist", "testbench"),
    [
        (AMP + ".control\nshell touch pwned\n.endc\n", BENCH),
        (AMP, BENCH + "  .CONTROL\nshell touch pwned\n.ENDC\n"),
        (AMP, BENCH + ".end\n"),
    ],
)
def test_control_blocks_in_netlists_are_refused(netlist, testbench, tmp_path):
    path = _amp(tmp_path / "evil", netlist, testbench)
    refused = r"refused \(ngspice would run|must not contain \.end"
    with pytest.raises(UserInputError, match=refused):
        load_circuit(path)


def test_bad_circuit_yaml_messages(tmp_path):
    path = _amp(tmp_path / "c", AMP, BENCH)
    text = path.read_text()
    cases = {
        "no netlist": (text.replace("netlist: dut.sp\n", ""), "missing required"),
        "unknown key": (text + "extra: 1\n", r"unknown keys \['extra'\]"),
        "bad bounds": (text.replace("[0.2e-6, 20.0e-6]", "[2, 1]"), "min < max"),
        "default out": (
            text.replace("default: 1.0e-6", "default: 1.0"),
            "default: parameter Wn=1",
        ),
        "bad measure": (
            text.replace("node_voltage", "magic"),
            "unknown function 'magic'",
        ),
        "no such analysis": (text.replace("tb.op", "tb.ac"), "no analysis 'tb.ac'"),
        "not yaml": ("netlist: [dut.sp\n", "not valid YAML"),
    }
    for case, (broken, message) in cases.items():
        path.write_text(textwrap.dedent(broken))
        with pytest.raises(UserInputError, match=message) as error:
            load_circuit(path)
        assert "\n" not in str(error.value), case
