"""Every measure kind end to end: circuit YAML -> Simulator -> ngspice -> figure.

One small user circuit per analysis type (R, C, L, E, G, B elements only, on
the generic technology, VDD = 1.2 V) with analytic answers; together they use
every kind of ``sim.format.measure_kinds.KINDS``.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import pytest
import yaml

from sim.engine.pool import SimulationPool
from sim.format.measure_kinds import KINDS
from sim.sizing.simulator import Simulator
from sim.storage.store import SimulationStore
from tests.conftest import write_circuit

VDD = 1.2
BOLTZMANN, T_27C = 1.380649e-23, 300.15

# ------------------------------------------------------------------------ ac
# Three identical VCCS stages (gain g each, pole 1 MHz) from `in` to `out`,
# and a behavioural follower whose output moves with the supply.
STAGE_R, POLE = 1e3, 1e6
A0 = 4.0  # total dc gain: g = A0**(1/3) per stage
A_DM, P_S = 1e4, 0.1

AC = (
    f"""\
    * three poles at {POLE:g} Hz
    g1 0 n1 in 0 {{GS}}
    r1 n1 0 {STAGE_R}
    c1 n1 0 {1 / (2 * math.pi * STAGE_R * POLE)!r}
    g2 0 n2 n1 0 {{GS}}
    r2 n2 0 {STAGE_R}
    c2 n2 0 {1 / (2 * math.pi * STAGE_R * POLE)!r}
    g3 0 out n2 0 {{GS}}
    r3 out 0 {STAGE_R}
    c3 out 0 {1 / (2 * math.pi * STAGE_R * POLE)!r}
    * follower: fo = A*(fp - fo) + Ps*v(vdd)
    bop fo 0 v = {A_DM}*(v(fp)-v(fo)) + {P_S}*v(vdd)
    """,
    """\
    VDD vdd 0 dc {VDD} ac 1
    VIN in 0 dc 0 ac 1
    VFP fp 0 dc {VDD/2}
    """,
    f"""\
    name: ac_kinds
    netlist: dut.sp
    parameters:
      GS: {{unit: S, bounds: [1.0e-4, 1.0e-2], default: {A0 ** (1 / 3) / STAGE_R!r}}}
    testbenches:
      tb:
        netlist: tb.sp
        analyses: {{ac: "ac dec 100 1 1G"}}
    measures:
      gain: {{measure: dc_gain, analysis: tb.ac, output: v(out), input: v(in)}}
      ugbw: {{measure: unity_gain_bandwidth, analysis: tb.ac, output: v(out)}}
      pm: {{measure: phase_margin, analysis: tb.ac, output: v(out)}}
      gm: {{measure: gain_margin, analysis: tb.ac, output: v(out)}}
      psrr: {{measure: rejection, analysis: tb.ac, output: v(fo), input: v(vdd)}}
    """,
)


def test_ac_kinds(tmp_path: Path, pool: SimulationPool, store: SimulationStore):
    perf = simulate(tmp_path, AC, pool, store)
    fu = POLE * math.sqrt(A0 ** (2 / 3) - 1)  # A0 / (1 + (f/p)^2)^(3/2) = 1
    assert perf["gain"] == pytest.approx(20 * math.log10(A0), abs=1e-6)
    assert perf["ugbw"] == pytest.approx(fu, rel=1e-4)
    pm = 180 - 3 * math.degrees(math.atan(fu / POLE))
    assert perf["pm"] == pytest.approx(pm, abs=0.02)
    # -180 degrees at f = p*tan(60 deg), where |H| = A0 / 2^3
    assert perf["gm"] == pytest.approx(-20 * math.log10(A0 / 8), abs=0.01)
    assert perf["psrr"] == pytest.approx(20 * math.log10((1 + A_DM) / P_S), abs=1e-6)


# ------------------------------------------------------------------------ op
OP = (
    """\
    r1 vdd mid {R1}
    r2 mid 0 10k
    """,
    """\
    VDD vdd 0 {VDD}
    """,
    """\
    name: op_kinds
    netlist: dut.sp
    parameters:
      R1: {unit: ohm, bounds: [1.0e3, 1.0e5], default: 1.0e4}
    testbenches:
      tb:
        netlist: tb.sp
        analyses: {op: op}
    measures:
      current: {measure: supply_current, analysis: tb.op, source: vdd}
      power: {measure: supply_power, analysis: tb.op, source: vdd}
      vmid: {measure: node_voltage, analysis: tb.op, node: v(mid)}
      drop: {measure: difference, analysis: tb.op, node: v(vdd), reference: v(mid)}
    """,
)


def test_op_kinds(tmp_path: Path, pool: SimulationPool, store: SimulationStore):
    circuit = write_circuit(tmp_path / "op", *OP)
    sim = Simulator(circuit, "generic", store=store, backend=pool)
    for r1 in (1e4, 3e4):  # the second design goes through alterparam + reset
        ev = sim.simulate_one({"R1": r1})
        assert ev.ok, ev.message
        current = VDD / (r1 + 1e4)
        assert ev.performance["current"] == pytest.approx(current, rel=1e-9)
        assert ev.performance["power"] == pytest.approx(VDD * current, rel=1e-9)
        assert ev.performance["vmid"] == pytest.approx(1e4 * current, rel=1e-9)
        assert ev.performance["drop"] == pytest.approx(r1 * current, rel=1e-9)


# ---------------------------------------------------------------------- tran
# A step of VDD at 1 us (back to 0 at 5 us) drives: a follower slewing at
# IMAX/CS (its output current clamped), a series RLC with damping ZETA, an RC.
IMAX, CS = 10e-6, 1e-12
ZETA, IND, CAP = 0.3, 1e-6, 1e-9
RC_R, RC_C = 1e3, 1e-9

TRAN = (
    f"""\
    bsl 0 sl i = max({-IMAX}, min({IMAX}, 1e-3*(v(step)-v(sl))))
    csl sl 0 {CS}
    rr step a {{RD}}
    lr a b {IND}
    cr b 0 {CAP}
    r1 step rc {RC_R}
    c1 rc 0 {RC_C}
    """,
    """\
    VSTEP step 0 pulse(0 {VDD} 1u 1p 1p 4u 10u)
    """,
    f"""\
    name: tran_kinds
    netlist: dut.sp
    parameters:
      RD: {{unit: ohm, bounds: [1, 100], default: {2 * ZETA * math.sqrt(IND / CAP)!r}}}
    testbenches:
      tb:
        netlist: tb.sp
        analyses: {{tran: "tran 1n 10u 0 1n"}}
    measures:
      slew_up: {{measure: slew_rate, analysis: tb.tran, output: v(sl),
                start: 0.5e-6, stop: 4.9e-6}}
      slew_down: {{measure: slew_rate, analysis: tb.tran, output: v(sl),
                  start: 4.9e-6, stop: 10.0e-6}}
      os_up: {{measure: overshoot, analysis: tb.tran, output: v(b),
              start: 0.5e-6, stop: 4.9e-6}}
      os_down: {{measure: overshoot, analysis: tb.tran, output: v(b),
                start: 4.9e-6, stop: 10.0e-6}}
      delay: {{measure: delay, analysis: tb.tran, input: v(step), output: v(rc),
              start: 0, stop: 4.9e-6}}
      delay_80: {{measure: delay, analysis: tb.tran, input: v(step), output: v(rc),
                 start: 0, stop: 4.9e-6, level: 0.96}}
    """,
)


def test_tran_kinds(tmp_path: Path, pool: SimulationPool, store: SimulationStore):
    perf = simulate(tmp_path, TRAN, pool, store)
    assert perf["slew_up"] == pytest.approx(IMAX / CS, rel=1e-6)
    assert perf["slew_down"] == pytest.approx(IMAX / CS, rel=1e-6)
    overshoot = 100 * math.exp(-ZETA * math.pi / math.sqrt(1 - ZETA**2))
    assert perf["os_up"] == pytest.approx(overshoot, abs=0.02)
    assert perf["os_down"] == pytest.approx(overshoot, abs=0.02)
    tau = RC_R * RC_C
    assert perf["delay"] == pytest.approx(math.log(2) * tau, rel=1e-3)  # VDD/2
    assert perf["delay_80"] == pytest.approx(math.log(5) * tau, rel=1e-3)


# --------------------------------------------------------------------- noise
NOISE = (
    """\
    r1 in n {RN}
    r2 n 0 {RN}
    """,
    """\
    VIN in 0 dc 0 ac 1
    """,
    """\
    name: noise_kinds
    netlist: dut.sp
    parameters:
      RN: {unit: ohm, bounds: [1.0e2, 1.0e6], default: 2.0e3}
    testbenches:
      tb:
        netlist: tb.sp
        analyses: {noise: "noise v(n) vin dec 10 1 1e6"}
    measures:
      out_noise: {measure: noise_density, analysis: tb.noise,
                  spectrum: onoise_spectrum, frequency: 1.0e3}
      in_noise: {measure: noise_density, analysis: tb.noise,
                 spectrum: inoise_spectrum, frequency: 3.0e4}
      beyond: {measure: noise_density, analysis: tb.noise,
               spectrum: onoise_spectrum, frequency: 1.0e7}
    """,
)


def test_noise_kinds(tmp_path: Path, pool: SimulationPool, store: SimulationStore):
    perf = simulate(tmp_path, NOISE, pool, store)
    expected = math.sqrt(4 * BOLTZMANN * T_27C * 2e3 / 2)  # R || R
    assert perf["out_noise"] == pytest.approx(expected, rel=1e-5)
    assert perf["in_noise"] == pytest.approx(2 * expected, rel=1e-5)  # gain 1/2
    assert math.isnan(perf["beyond"])  # outside the sweep: a value, not an error


# ------------------------------------------------------------------------ dc
# Swept input `in` (up and down) drives: an inverting Schmitt trigger around
# VDD/2 (out = VDD/2 + V*tanh(K*(p - in)), p = VDD/2 + BETA*(out - VDD/2)),
# a follower clipped to [0.2, 1.0] V and two behavioural inverters.
SAT, K, BETA = VDD / 2, 1000.0, 0.25
STEP = 1e-3
INV_GAIN, VSW1, VSW2 = 10.0, 0.5, 0.7

DC = (
    f"""\
    bref ref 0 v = {VDD / 2}
    bst so 0 v = {VDD / 2} + {SAT}*tanh({K}*(v(p)-v(in)))
    rf so p {{RF}}
    rg p ref 1k
    bf fo 0 v = max(0.2, min(1.0, v(in)))
    bi1 x1 0 v = {VDD / 2} - {VDD / 2}*tanh({INV_GAIN}*(v(in)-{VSW1}))
    bi2 x2 0 v = {VDD / 2} - {VDD / 2}*tanh({INV_GAIN}*(v(x1)-{VSW2}))
    """,
    """\
    VIN in 0 dc 0
    """,
    f"""\
    name: dc_kinds
    netlist: dut.sp
    parameters:
      RF: {{unit: ohm, bounds: [1.0e3, 1.0e4], default: {(1 - BETA) / BETA * 1e3!r}}}
    testbenches:
      tb:
        netlist: tb.sp
        analyses: {{up: "dc vin 0 1.2 {STEP}", down: "dc vin 1.2 0 {-STEP}"}}
    measures:
      v_high: {{measure: crossing, analysis: tb.up, output: v(so),
               direction: falling}}
      v_low: {{measure: crossing, analysis: tb.down, output: v(so)}}
      v_low_rising: {{measure: crossing, analysis: tb.down, output: v(so),
                     direction: rising}}
      no_rise: {{measure: crossing, analysis: tb.up, output: v(so),
                direction: rising}}
      out_min: {{measure: minimum, analysis: tb.up, output: v(fo)}}
      out_max: {{measure: maximum, analysis: tb.down, output: v(fo)}}
      icmr_low: {{measure: tracking_range, analysis: tb.up, output: v(fo),
                 end: low}}
      icmr_high: {{measure: tracking_range, analysis: tb.down, output: v(fo),
                  end: high, tolerance: 0.01}}
      vsw1: {{measure: transfer_crossing, analysis: tb.up, input: v(in),
             output: v(x1)}}
      vsw2: {{measure: transfer_crossing, analysis: tb.up, input: v(x1),
             output: v(x2)}}
    """,
)


def test_dc_kinds(tmp_path: Path, pool: SimulationPool, store: SimulationStore):
    perf = simulate(tmp_path, DC, pool, store)
    # the up sweep jumps at the fold of the upper branch: d(in)/d(out) = 0 on
    # in - VDD/2 = BETA*u - atanh(u/SAT)/K, u = out - VDD/2
    u = SAT * math.sqrt(1 - 1 / (K * BETA * SAT))
    fold = BETA * u - math.atanh(u / SAT) / K
    assert perf["v_high"] == pytest.approx(VDD / 2 + fold, abs=STEP)
    assert perf["v_low"] == pytest.approx(VDD / 2 - fold, abs=STEP)
    assert perf["v_low_rising"] == perf["v_low"]
    # hysteresis ~ 2*V*R1/(R1 + R2), less the finite-gain fold (~7 mV a side)
    assert perf["v_high"] - perf["v_low"] == pytest.approx(2 * SAT * BETA, abs=10 / K)
    assert math.isnan(perf["no_rise"])
    assert perf["out_min"] == pytest.approx(0.2, abs=1e-9)
    assert perf["out_max"] == pytest.approx(1.0, abs=1e-9)
    assert perf["icmr_low"] == pytest.approx(0.2, abs=STEP)
    assert perf["icmr_high"] == pytest.approx(1.0, abs=STEP)
    assert perf["vsw1"] == pytest.approx(VSW1, abs=1e-6)
    assert perf["vsw2"] == pytest.approx(VSW2, abs=1e-4)


# ---------------------------------------------------------------------------


def simulate(
    tmp_path: Path,
    files: tuple[str, str, str],
    pool: SimulationPool,
    store: SimulationStore,
) -> dict[str, float]:
    """Write a circuit, simulate its default design, return its figures."""
    circuit = write_circuit(tmp_path / "circuit", *files)
    sim = Simulator(circuit, "generic", store=store, backend=pool)
    ev = sim.simulate_one()
    assert ev.ok, (ev.status, ev.message)
    return ev.performance


def test_the_circuits_use_every_kind() -> None:
    used = set()
    for files in (AC, OP, TRAN, NOISE, DC):
        circuit = yaml.safe_load(textwrap.dedent(files[2]))
        used |= {m["measure"] for m in circuit["measures"].values()}
    assert used == set(KINDS)
