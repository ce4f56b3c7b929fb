"""Load-time circuit checks and ngspice's messages kept whole."""

from __future__ import annotations

import pytest

from sim.engine.job import Analysis, SimulationJob
from sim.engine.ngspice_session import classify_messages
from sim.engine.result import Status
from sim.errors import UserInputError
from sim.format.circuit import builtin_circuits, load_circuit
from sim.format.technology import load_technology
from sim.sizing.simulator import Simulator
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


PORTS = "ports: [in, out, vdd]\n"
VN = "{{measure: noise_density, analysis: tb.noise, spectrum: {}, frequency: 10}}"
NOISE = "  tb: {netlist: tb.sp, analyses: {op: op, ac: ac dec 10 1 1G, noise: noise v(out) vin dec 10 1 1G}}"  # noqa: E501


@pytest.mark.parametrize(
    ("yaml_change", "netlist", "testbench", "message"),
    [
        # parameters read but not declared, declared but not read
        (
            None,
            NETLIST.replace("W={W} L", "W={Wx} L", 1),
            TESTBENCH,
            r"dut.sp line 1 reads parameter 'Wx', which is declared nowhere: add it",
        ),
        (
            None,
            NETLIST,
            TESTBENCH.replace("dc 0.6", "dc {VIN}"),
            r"tb.sp line 2 reads parameter 'VIN', which is declared nowhere",
        ),
        (
            ("  W: {bounds", "  W2: {bounds: [1, 2]}\n  W: {bounds"),
            NETLIST,
            TESTBENCH,
            r"parameter W2 is declared but no netlist uses it: use \{W2\} in "
            r"dut.sp or tb.sp, or remove it",
        ),
        (
            ("parameters:", "constants: {Rl: 1000}\nparameters:"),
            NETLIST,
            TESTBENCH,
            "constant Rl is declared but no netlist uses it",
        ),
        # measures that read what their analysis does not produce
        (
            ("analysis: tb.ac, output: v(out)", "analysis: tb.op, output: v(out)"),
            NETLIST,
            TESTBENCH,
            "measure gain: dc_gain reads 'ac' analyses but tb.op is 'op'",
        ),
        (
            ("output: v(out)", "output: v(outx)"),
            NETLIST,
            TESTBENCH,
            "measure gain: output v.outx. is not produced by tb.ac: dut.sp and "
            "tb.sp have no node outx; name one of that deck",
        ),
        (
            ("output: v(out)", "output: 'v(out,inx)'"),
            NETLIST,
            TESTBENCH,
            "dut.sp and tb.sp have no node inx",
        ),
        (
            (
                "unit: dB}",
                "unit: dB}\n  p: {measure: supply_power, analysis: tb.op, source: vdx}",
            ),
            NETLIST,
            TESTBENCH,
            r"measure p: source vdx is not produced by tb.op: dut.sp and tb.sp "
            r"have no voltage source vdx \(its current i\(vdx\) is read\)",
        ),
        (
            ("output: v(out)", "output: i(r1)"),
            NETLIST,
            TESTBENCH,
            "no voltage source r1",
        ),
        (
            (
                "unit: dB}",
                "unit: dB}\n  vn: {measure: noise_density, analysis: tb.ac, "
                "spectrum: onoise_spectrum, frequency: 10}",
            ),
            NETLIST,
            TESTBENCH,
            "measure vn: noise_density reads 'noise' analyses but tb.ac is 'ac'",
        ),
        (
            [
                (
                    "  tb: {netlist: tb.sp, analyses: {op: op, ac: ac dec 10 1 1G}}",
                    NOISE,
                ),
                ("unit: dB}", "unit: dB}\n  vn: " + VN.format("onoise_spectrum")),
            ],
            NETLIST,
            TESTBENCH,
            None,  # the noise spectra are vectors of a noise analysis
        ),
        (
            [
                (
                    "  tb: {netlist: tb.sp, analyses: {op: op, ac: ac dec 10 1 1G}}",
                    NOISE,
                ),
                ("unit: dB}", "unit: dB}\n  vn: " + VN.format("noise_out")),
            ],
            NETLIST,
            TESTBENCH,
            r"measure vn: spectrum noise_out is not produced by tb.noise: dut.sp and "
            r"tb.sp have no node noise_out \(a noise analysis gives inoise_spectrum "
            r"or onoise_spectrum\)",
        ),
        # units: figures and parameters are SI numbers
        (
            ("output: v(out), unit: dB}", "output: v(out), unit: MHz}"),
            NETLIST,
            TESTBENCH,
            "measure gain: unit 'MHz' carries a prefix, but values are SI "
            "numbers: write 'Hz' .targets may still be given as 10MHz.",
        ),
        (
            ("  W: {bounds:", "  W: {unit: um, bounds:"),
            NETLIST,
            TESTBENCH,
            "parameter W: unit 'um' carries a prefix",
        ),
        (
            ("output: v(out), unit: dB}", "output: v(out), unit: 'd B'}"),
            NETLIST,
            TESTBENCH,
            "unit 'd B' must be one short word",
        ),
        # operating points
        (
            ("{MN1: nmos, MN2: nmos}", "{MN1: nmos, MN2: nmos, MN9: nmos}"),
            NETLIST,
            TESTBENCH,
            "operating_point: no transistor MN9 in the netlist",
        ),
        (
            ("  analysis: tb.op\n", "  analysis: tb.ac\n"),
            NETLIST,
            TESTBENCH,
            "operating_point: tb.ac is 'ac'; device operating points are read "
            "from an op analysis",
        ),
        # ports: a node of the circuit netlist a testbench uses by accident
        (
            ("netlist: dut.sp\n", "netlist: dut.sp\n" + PORTS),
            NETLIST,
            TESTBENCH + "R9 x 0 1k\n",
            "node x of dut.sp is not in ports but testbench tb .tb.sp. uses it too, "
            "which connects them: rename the node in one file or add it to ports",
        ),
        (
            ("netlist: dut.sp\n", "netlist: dut.sp\nports: [in, out]\n"),
            NETLIST,
            TESTBENCH,
            "node vdd of dut.sp is not in ports but testbench tb",
        ),
        (
            ("netlist: dut.sp\n", "netlist: dut.sp\nports: [in, out, vdd, nx]\n"),
            NETLIST,
            TESTBENCH,
            "ports: nx is not a node of dut.sp: fix the name or remove it from ports",
        ),
        (
            ("netlist: dut.sp\n", "netlist: dut.sp\nports: in\n"),
            NETLIST,
            TESTBENCH,
            "ports must be a non-empty list of node names",
        ),
        (
            ("netlist: dut.sp\n", "netlist: dut.sp\nports: [in, 'a b']\n"),
            NETLIST,
            TESTBENCH,
            "ports: 'a b' is not a node name",
        ),
    ],
)
def test_validation_messages(tmp_path, yaml_change, netlist, testbench, message):
    yaml_text = YAML
    changes = [yaml_change] if isinstance(yaml_change, tuple) else yaml_change or []
    for old, new in changes:
        assert old in yaml_text
        yaml_text = yaml_text.replace(old, new, 1)
    if message is None:
        _load(tmp_path, netlist, testbench, yaml_text)
        return
    with pytest.raises(UserInputError, match=message) as info:
        _load(tmp_path, netlist, testbench, yaml_text)
    text = str(info.value)
    assert "\n" not in text and text.startswith("circuit "), text


def test_names_a_template_declares_itself_load(tmp_path):
    """``.param``, ``.func``, subcircuit parameters and ``.param`` lines of an
    included file declare names; ``v()`` probes in expressions are not names."""
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "values.inc").write_text(".param Rload=10k\n")
    netlist = (
        NETLIST.replace("R1 vdd out 10k", "R1 vdd out {Rload}")
        + ".subckt half a b k=2\nR1 a b {k*Rin}\n.ends\nX1 out mid half k=3\n"
    )
    testbench = (
        ".include values.inc\n.param Rin={2*Rload}\n.func twice(x) {2*x}\n"
        + TESTBENCH
        + "B1 mid 0 v={twice(1)}*v(in)\n"
    )
    _load(tmp_path, netlist, testbench)


def test_library_circuits_declare_their_ports():
    tech = load_technology("generic")
    for name in builtin_circuits():
        assert load_circuit(name, tech).ports, name


def test_a_name_the_technology_models_declare_may_be_read(tmp_path, ptm45_tech):
    """A ``.param`` of the technology's model files counts as declared."""
    models = tmp_path / "params.inc"
    models.write_text(".param Lmin=45n\n")
    text = ptm45_tech.read_text().replace("models: [", f"models: [{models}, ")
    ptm45_tech.write_text(text)
    netlist = NETLIST.replace("L=0.5u", "L={2*Lmin}")
    path = write_circuit(tmp_path / "c", netlist, TESTBENCH, YAML)
    assert load_circuit(path, load_technology(ptm45_tech)).parameter_names == ("W",)
    with pytest.raises(UserInputError, match="reads parameter 'Lmin'"):
        load_circuit(path, load_technology("generic"))
