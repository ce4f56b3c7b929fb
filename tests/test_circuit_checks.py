"""Load-time circuit checks and ngspice's messages kept whole."""

from __future__ import annotations

import pytest

from sim.circuit import load_circuit
from sim.errors import UserInputError
from sim.job import Analysis, SimulationJob
from sim.ngspice_session import classify_messages
from sim.result import Status
from sim.simulator import Simulator
from sim.technology import load_technology
from tests.conftest import write_circuit

NETLIST = """\
MN1 out in 0 0 nmos W={W} L=0.5u
MN2 x in 0 0 nmos W={W} L=0.5u
R1 vdd out 10k
"""
TESTBENCH = "VDD vdd 0 {VDD}\nVIN in 0 dc 0.6 ac 1\n"
YAML = """\
netlist: dut.sp
parameters:
  W: {bounds: [1.0e-6, 1.0e-5]}
testbenches:
  tb: {netlist: tb.sp, analyses: {op: op, ac: ac dec 10 1 1G}}
measures:
  gain: {measure: dc_gain, analysis: tb.ac, output: v(out), unit: dB}
  voff: {measure: offset_pelgrom, pairs: "MN1/MN2", unit: V}
operating_point:
  analysis: tb.op
  devices: {MN1: nmos, MN2: nmos}
"""


def _load(tmp_path, netlist=NETLIST, testbench=TESTBENCH, yaml_text=YAML):
    path = write_circuit(tmp_path / "c", netlist, testbench, yaml_text)
    return load_circuit(path, load_technology("generic"))


def test_the_base_circuit_loads(tmp_path):
    assert _load(tmp_path).parameter_names == ("W",)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("  W: {bounds:", "  W: {bounds: [1, 2]}\n  W: {bounds:"),
            "duplicate key 'W'",
        ),
        (("tb: {netlist", "tb: {netlist: tb.sp, netlist"), "duplicate key 'netlist'"),
        (("ac dec 10 1 1G", "tran 2p"), "needs <tstep> <tstop>"),
        (("ac dec 10 1 1G", "ac dec 10 1"), "needs dec|oct|lin"),
        (("op: op,", "op: dc vin 0 1,"), "needs <source> <start> <stop> <step>"),
        (("op: op,", "op: dc vin 0 1 -0.1,"), "the step must be non-zero"),
        (("ac dec 10 1 1G", "ac dec 0 1 1G"), "positive integer"),
        (('"MN1/MN2"', '"MN1/MN3"'), "no transistor MN3"),
        (("{MN1: nmos, MN2: nmos}", "{MN1: nmos}"), "MN2 must be listed"),
        (('"MN1/MN2"', '"MN1"'), "pairs must read"),
    ],
)
def test_yaml_mistakes_are_one_line_errors(tmp_path, change, message):
    old, new = change
    assert old in YAML
    with pytest.raises(UserInputError, match=message) as info:
        _load(tmp_path, yaml_text=YAML.replace(old, new))
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("netlist", "testbench", "message"),
    [
        (NETLIST.replace(" L=0.5u", "", 1), TESTBENCH, "MN1 needs exactly one L="),
        (NETLIST.replace("W={W} L", "L", 1), TESTBENCH, "needs exactly one W="),
        (NETLIST.replace("0 0 nmos", "0 nmos", 1), TESTBENCH, "drain gate source"),
        (NETLIST + "R1 x 0 1k\n", TESTBENCH, "lines 3 and 4 both define R1"),
        (NETLIST, TESTBENCH + "r1 x 0 1k\n", "r1 is also an element of the circuit"),
        (NETLIST, TESTBENCH + ".end\n", "must not contain .end"),
    ],
)
def test_netlist_mistakes_are_one_line_errors(tmp_path, netlist, testbench, message):
    with pytest.raises(UserInputError, match=message):
        _load(tmp_path, netlist, testbench)


def test_ngspice_messages_are_kept_whole():
    lines = [
        "warning, can't find model 'nosuch' from line",
        "    q1 c b 0 nosuch",
        "Circuit: * deck 1",
        "Error on line 4 or its substitute:",
        "  q1 c b 0 nosuch",
        "could not find a valid modelname",
    ]
    status, message = classify_messages(lines)
    assert status is Status.ERROR
    assert message == (
        "Error on line 4 or its substitute: q1 c b 0 nosuch: "
        "could not find a valid modelname"
    )
    bad_argument = [
        "Error: TSTOP is invalid, must be greater than zero.",
        "in   .tran 2p",
        "tran simulation(s) aborted",
    ]
    status, message = classify_messages(bad_argument)
    assert status is Status.ERROR and "TSTOP is invalid" in message
    stuck = ["doAnalyses: TRAN:  Timestep too small", "tran simulation(s) aborted"]
    assert classify_messages(stuck)[0] is Status.NONCONVERGENCE


def test_an_analysis_syntax_error_is_an_error_not_nonconvergence(pool):
    deck = "* t\nV1 a 0 1\nR1 a b 1k\nC1 b 0 1p\n.end\n"
    job = SimulationJob(deck, (), (Analysis("tran", "tran 2p", ("v(b)",)),))
    (result,) = pool.map([job])
    assert result.status is Status.ERROR
    assert "TSTOP is invalid" in result.message


def test_ngspice_load_error_message_is_kept_whole(tmp_path, pool, store):
    path = write_circuit(
        tmp_path / "q",
        "R1 in out {R}\nQ1 out in 0 nosuchbjt\n",
        "V1 in 0 dc 0.5 ac 1\n",
        """\
        netlist: dut.sp
        parameters:
          R: {bounds: [100, 1.0e+4]}
        testbenches:
          tb: {netlist: tb.sp, analyses: {op: op}}
        measures:
          v: {measure: node_voltage, analysis: tb.op, node: v(out)}
        """,
    )
    result = Simulator(path, "generic", backend=pool, store=store).simulate_one()
    assert result.status is Status.ERROR
    assert "q1 out in 0 nosuchbjt" in result.message.lower()
    assert not result.message.rstrip().endswith("substitute:")
