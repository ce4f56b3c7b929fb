"""Tests of the transient, noise, DC-sweep and rejection measures of
sim.format.measures.

Synthetic traces with exact answers first, then circuits with analytic answers
simulated in ngspice (`ngspice -b`, as in tests/test_measures.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import count
from pathlib import Path

import numpy as np
import pytest

from sim.format import measures
from tests.test_measures import run_ngspice

BOLTZMANN = 1.380649e-23  # J/K
T_27C = 300.15  # K

# ----------------------------------------------------------- synthetic traces

T = np.linspace(0.0, 10.0, 1001)  # "s", step 0.01


def pulse(t: np.ndarray) -> np.ndarray:
    """0 V, ramp up 1 V/s from t=2 to 4 (to 2 V), hold, ramp down 2 V/s 6..7."""
    return np.clip(t - 2.0, 0.0, 2.0) - np.clip(2.0 * (t - 6.0), 0.0, 2.0)


def test_rejection_is_minus_the_dc_gain() -> None:
    freq = np.array([1.0, 10.0, 100.0])
    h = np.array([1e-3, 1e-2, 1e-1]) * np.exp(1j * np.array([0.1, 0.5, 1.0]))
    assert measures.rejection_db(freq, h) == pytest.approx(60.0)
    assert measures.rejection_db(freq, h) == -measures.dc_gain_db(freq, h)
    assert math.isnan(measures.rejection_db(np.array([]), np.array([], complex)))


def test_slew_rate_of_rising_and_falling_ramps() -> None:
    v = pulse(T)
    assert measures.slew_rate(T, v, 0.0, 5.0) == pytest.approx(1.0, rel=1e-12)
    assert measures.slew_rate(T, v, 5.0, 10.0) == pytest.approx(2.0, rel=1e-12)
    assert measures.slew_rate(T, -v, 5.0, 10.0) == pytest.approx(2.0, rel=1e-12)
    # a window that cuts the ramp: the step is from v(1) = 0 to v(3.005) = 1.005
    assert measures.slew_rate(T, v, 1.0, 3.005) == pytest.approx(1.0, rel=1e-9)


def test_slew_rate_interpolates_between_samples() -> None:
    t = np.linspace(0.0, 1.0, 11)  # coarse: the 10 % and 90 % points fall between
    v = np.clip((t - 0.1) * 3.0, 0.0, 1.5)  # ramp 0.1..0.6 s at 3 V/s
    assert measures.slew_rate(t, v, 0.0, 1.0) == pytest.approx(3.0, rel=1e-12)


def test_slew_rate_missing() -> None:
    v = pulse(T)
    assert math.isnan(measures.slew_rate(T, v, 4.5, 5.5))  # flat: no step
    assert math.isnan(measures.slew_rate(T, v, 0.0, 11.0))  # window not simulated
    assert math.isnan(measures.slew_rate(T, v + 1e-7 * T, 4.5, 5.5))  # negligible
    assert math.isnan(measures.slew_rate(T, np.full_like(T, np.nan), 0.0, 5.0))
    with pytest.raises(ValueError):
        measures.slew_rate(T, v, 5.0, 5.0)
    with pytest.raises(ValueError):
        measures.slew_rate(T, v[:-1], 0.0, 5.0)
    with pytest.raises(ValueError):
        measures.slew_rate(T[::-1], v, 0.0, 5.0)


def test_overshoot_of_rising_and_falling_steps() -> None:
    t = np.arange(6.0)
    rising = np.array([0.0, 0.0, 1.2, 0.9, 1.0, 1.0])
    assert measures.overshoot(t, rising, 0.0, 5.0) == pytest.approx(20.0)
    assert measures.overshoot(t, 3.0 - 2.0 * rising, 0.0, 5.0) == pytest.approx(20.0)
    assert measures.overshoot(t, np.array([0, 0, 0.5, 1, 1, 1.0]), 0, 5) == 0.0
    # the window starts after the peak: a step from 1.2 down to 1.0, no overshoot
    assert measures.overshoot(t, rising, 2.0, 5.0) == pytest.approx(50.0)
    assert measures.overshoot(t, rising, 3.0, 5.0) == 0.0
    assert math.isnan(measures.overshoot(t, rising, 4.0, 5.0))  # no step


def test_overshoot_of_a_sampled_second_order_response() -> None:
    zeta, wn = 0.4, 2 * math.pi
    wd = wn * math.sqrt(1 - zeta**2)
    t = np.linspace(0.0, 20.0, 200_001)
    y = 1 - np.exp(-zeta * wn * t) * (
        np.cos(wd * t) + zeta / math.sqrt(1 - zeta**2) * np.sin(wd * t)
    )
    expected = 100 * math.exp(-zeta * math.pi / math.sqrt(1 - zeta**2))
    assert measures.overshoot(t, y, 0.0, 20.0) == pytest.approx(expected, abs=1e-5)


def test_propagation_delay() -> None:
    v_in = pulse(T)  # crosses 1 V rising at 3, falling at 6.5
    v_out = pulse(T - 0.25)  # the same, 0.25 later
    assert measures.propagation_delay(
        T, v_in, v_out, 0, 10, level=1.0
    ) == pytest.approx(0.25)
    assert measures.propagation_delay(
        T, v_in, v_out, 5, 10, level=1.0
    ) == pytest.approx(0.25)  # falling edges
    inverted = 2.0 - v_out  # crosses 1 V the other way: still a crossing
    assert measures.propagation_delay(
        T, v_in, inverted, 0, 10, level=1.0
    ) == pytest.approx(0.25)
    # the output crossing must come after the input's
    assert measures.propagation_delay(
        T, v_out, v_in, 0, 10, level=1.0
    ) == pytest.approx(6.5 - 3.25)
    assert math.isnan(measures.propagation_delay(T, v_out, v_in, 0, 6, level=1.0))
    assert math.isnan(measures.propagation_delay(T, v_in, v_out, 0, 10, level=5.0))
    flat = np.zeros_like(T)
    assert math.isnan(measures.propagation_delay(T, v_in, flat, 0, 10, level=1.0))


def test_noise_density_interpolates_log_log() -> None:
    freq = np.logspace(0, 6, 7)
    spectrum = 1e-6 / np.sqrt(freq)  # a straight line in log-log
    for f in (1.0, 3.0, 1e3, 2.5e5, 1e6):
        assert measures.noise_density(freq, spectrum, f) == pytest.approx(
            1e-6 / math.sqrt(f), rel=1e-12
        )
    assert math.isnan(measures.noise_density(freq, spectrum, 0.5))
    assert math.isnan(measures.noise_density(freq, spectrum, 2e6))
    assert measures.noise_density(freq, np.zeros(7), 5.0) == 0.0
    with pytest.raises(ValueError):
        measures.noise_density(freq[::-1], spectrum, 5.0)


def test_minimum_and_maximum() -> None:
    x = np.linspace(0, 1, 5)
    y = np.array([0.3, -0.2, 0.8, 0.1, 0.0])
    assert measures.minimum(x, y) == -0.2
    assert measures.maximum(x, y) == 0.8
    assert math.isnan(measures.minimum(np.array([]), np.array([])))
    with pytest.raises(ValueError):
        measures.maximum(x, y[:3])


def test_crossing_directions_and_order() -> None:
    x = np.linspace(0.0, 4.0, 5)
    y = np.array([0.0, 2.0, 0.0, 2.0, 0.0])  # up, down, up, down through 1
    assert measures.crossing(x, y, 1.0) == pytest.approx(0.5)
    assert measures.crossing(x, y, 1.0, "rising") == pytest.approx(0.5)
    assert measures.crossing(x, y, 1.0, "falling") == pytest.approx(1.5)
    assert measures.crossing(x, y, 1.5, "falling") == pytest.approx(1.25)
    # a downward sweep is searched from its start
    assert measures.crossing(x[::-1], y[::-1], 1.0, "rising") == pytest.approx(3.5)
    assert math.isnan(measures.crossing(x, y, 3.0))
    assert math.isnan(measures.crossing(x[:1], y[:1], 0.0))
    with pytest.raises(ValueError):
        measures.crossing(x, y, 1.0, "up")


def test_transfer_crossing_reads_the_input_vector() -> None:
    sweep = np.linspace(0.0, 1.0, 11)
    stage_in = 1.0 - sweep  # an inverting first stage
    stage_out = 2.0 * sweep  # output of the second stage: crosses 0.5 at 0.25
    assert measures.transfer_crossing(sweep, stage_in, stage_out, 0.5) == pytest.approx(
        0.75
    )
    assert math.isnan(measures.transfer_crossing(sweep, stage_in, stage_out, 3.0))


def test_tracking_range_of_a_clipped_follower() -> None:
    x = np.linspace(0.0, 1.2, 121)
    y = np.clip(0.999 * x, 0.2, 1.0)
    # the segment [0.2, 0.21] has gain 0.98 (>= 0.95), [1.0, 1.01] 0.1
    assert measures.tracking_range(x, y, end="low") == pytest.approx(0.2)
    assert measures.tracking_range(x, y, end="high") == pytest.approx(1.0)
    assert measures.tracking_range(x[::-1], y[::-1], end="low") == pytest.approx(0.2)
    assert math.isnan(measures.tracking_range(x, y, tolerance=0.0))  # gain 0.999
    assert math.isnan(measures.tracking_range(x, 0.5 * x))  # gain never reached
    assert math.isnan(measures.tracking_range(x, 0.9 * x, tolerance=0.05))
    assert measures.tracking_range(x, 0.9 * x, tolerance=0.2) == pytest.approx(0.0)
    with pytest.raises(ValueError):
        measures.tracking_range(x, y, end="middle")


def test_tracking_range_takes_the_run_nearest_the_middle() -> None:
    x = np.linspace(0.0, 1.0, 11)
    y = np.array([0, 0.1, 0.2, 0.2, 0.2, 0.2, 0.2, 0.3, 0.4, 0.5, 0.5])
    # tracking on [0, 0.2] and [0.6, 0.9]; the middle (0.5) is nearest the second
    assert measures.tracking_range(x, y, end="low") == pytest.approx(0.6)
    assert measures.tracking_range(x, y, end="high") == pytest.approx(0.9)


# ----------------------------------------------------------------- in ngspice

_RUNS = count()


def ngspice_vectors(
    tmp_path: Path, netlist: str, analysis: str, vectors: Sequence[str]
) -> dict[str, np.ndarray]:
    """Run one analysis with `ngspice -b`; return its scale and vectors.

    ``analysis`` is the analysis command, optionally followed by more control
    lines (e.g. ``setplot noise1``) run before the vectors are written. Real
    vectors come back as float64 [n] arrays; the scale is under ``"scale"``.
    """
    run = next(_RUNS)
    data = tmp_path / f"run{run}.txt"
    deck = f"""* run {run}
{netlist}
.control
set wr_singlescale
set wr_vecnames
{analysis}
wrdata {data} {" ".join(vectors)}
.endc
.end
"""
    run_ngspice(tmp_path / f"run{run}.cir", deck)
    table = np.loadtxt(data, skiprows=1, dtype=np.float64, ndmin=2)
    width = (table.shape[1] - 1) // len(vectors)  # 2 for complex vectors
    assert table.shape[1] == 1 + width * len(vectors)
    columns = [
        table[:, 1 + width * k : 1 + width * (k + 1)] for k in range(len(vectors))
    ]
    values = [c[:, 0] if width == 1 else c[:, 0] + 1j * c[:, 1] for c in columns]
    return {"scale": table[:, 0]} | dict(zip(vectors, values, strict=True))


def test_slew_of_a_switched_current_into_a_capacitor(tmp_path: Path) -> None:
    # 10 uA into 1 pF, switched on for 0.1 us (a 1 V ramp), later -10 uA
    i, c = 10e-6, 1e-12
    netlist = f"""
iin 0 n pwl(0 0 1u 0 1.000001u {i} 1.1u {i} 1.100001u 0
+ 3u 0 3.000001u {-i} 3.1u {-i} 3.100001u 0)
c1 n 0 {c}
rleak n 0 1e15
"""
    out = ngspice_vectors(tmp_path, netlist, "tran 1n 4u 0 1n", ["v(n)"])
    t, v = out["scale"], out["v(n)"]
    assert v.max() == pytest.approx(1.0, rel=1e-3)
    assert measures.slew_rate(t, v, 0.0, 2e-6) == pytest.approx(i / c, rel=1e-6)
    assert measures.slew_rate(t, v, 2e-6, 4e-6) == pytest.approx(i / c, rel=1e-6)


@pytest.mark.parametrize("zeta", [0.2, 0.5])
def test_overshoot_of_a_series_rlc(tmp_path: Path, zeta: float) -> None:
    ind, cap = 1e-6, 1e-9  # f0 = 5.03 MHz
    res = 2 * zeta * math.sqrt(ind / cap)
    netlist = f"""
vin in 0 pulse(0 1 10n 1p 1p 5u 20u)
r1 in a {res!r}
l1 a b {ind}
c1 b 0 {cap}
"""
    out = ngspice_vectors(tmp_path, netlist, "tran 0.2n 10u 0 0.2n", ["v(b)"])
    t, v = out["scale"], out["v(b)"]
    expected = 100 * math.exp(-zeta * math.pi / math.sqrt(1 - zeta**2))
    assert measures.overshoot(t, v, 0.0, 5e-6) == pytest.approx(expected, abs=0.02)
    assert measures.overshoot(t, v, 5e-6, 10e-6) == pytest.approx(expected, abs=0.02)


def test_propagation_delay_of_an_rc_and_a_delay_line(tmp_path: Path) -> None:
    r, c, td = 1e3, 1e-9, 20e-9
    netlist = f"""
vin in 0 pulse(0 1 1u 1p 1p 10u 40u)
r1 in rc {r}
c1 rc 0 {c}
vl l 0 pulse(0 1 1u 10n 10n 10u 40u)
rs l a 50
t1 a 0 b 0 z0=50 td={td}
rl b 0 50
"""
    out = ngspice_vectors(
        tmp_path, netlist, "tran 1n 20u 0 1n", ["v(in)", "v(rc)", "v(a)", "v(b)"]
    )
    t = out["scale"]
    delay = measures.propagation_delay(t, out["v(in)"], out["v(rc)"], 0, 10e-6, 0.5)
    assert delay == pytest.approx(math.log(2) * r * c, rel=1e-3)
    fall = measures.propagation_delay(t, out["v(in)"], out["v(rc)"], 10e-6, 20e-6, 0.5)
    assert fall == pytest.approx(math.log(2) * r * c, rel=1e-3)
    # ngspice puts no time point at t + td: a ramped edge keeps the line's
    # output linear between samples (a 1 ps edge would be off by a time step)
    for start, stop in ((0, 10e-6), (10e-6, 20e-6)):
        line = measures.propagation_delay(
            t, out["v(a)"], out["v(b)"], start, stop, 0.25
        )
        assert line == pytest.approx(td, rel=1e-4)


def test_noise_density_of_a_resistor(tmp_path: Path) -> None:
    r = 2e3  # two of them from the source to ground: R/2 seen at the output
    netlist = f"vin in 0 dc 0 ac 1\nr1 in n {r}\nr2 n 0 {r}"
    out = ngspice_vectors(
        tmp_path,
        netlist,
        "noise v(n) vin dec 10 1 1e6\nsetplot noise1",
        ["onoise_spectrum", "inoise_spectrum"],
    )
    expected = math.sqrt(4 * BOLTZMANN * T_27C * r / 2)
    freq = out["scale"]
    for f in (1.0, 1234.5, 1e6):
        density = measures.noise_density(freq, out["onoise_spectrum"], f)
        assert density == pytest.approx(expected, rel=1e-5)
    assert measures.noise_density(freq, out["inoise_spectrum"], 1e3) == pytest.approx(
        2 * expected, rel=1e-5
    )


# A behavioural op-amp: out = A*(p - n) + Acm*(p + n)/2 + Ps*v(vdd).
A_DM, A_CM, P_S = 1e4, 0.5, 0.1
OPAMP = f"bop out 0 v = {A_DM}*(v(p)-v(n)) + {A_CM}*(v(p)+v(n))/2 + {P_S}*v(vdd)"


def test_psrr_and_cmrr_of_a_behavioural_follower(tmp_path: Path) -> None:
    # Follower n = out; the ac sources sit on the supply (PSRR) or, for CMRR,
    # on the + input and in series with the feedback (both inputs move).
    # out*(1 + A - Acm/2) = Ps*vdd (PSRR) or Acm*vs (CMRR), exactly.
    loop = 1 + A_DM - A_CM / 2
    psrr = f"vdd vdd 0 dc 1.2 ac 1\nvp p 0 dc 0.6\nvfb n out dc 0\n{OPAMP}"
    cmrr = f"vdd vdd 0 dc 1.2\nvp p 0 dc 0.6 ac 1\nvfb n out dc 0 ac 1\n{OPAMP}"
    for netlist, expected in ((psrr, loop / P_S), (cmrr, loop / A_CM)):
        out = ngspice_vectors(tmp_path, netlist, "ac dec 10 1 1e6", ["v(out)"])
        rejection = measures.rejection_db(out["scale"], out["v(out)"])
        assert rejection == pytest.approx(20 * math.log10(expected), abs=1e-6)


def test_schmitt_trigger_hysteresis_from_two_dc_sweeps(tmp_path: Path) -> None:
    # out = V*tanh(K*(p - in)), p = out*R1/(R1+R2): thresholds ~ +-V*beta. With
    # a finite K the up sweep jumps at the fold of the upper branch, where
    # d(in)/d(out) = 0 on in = beta*out - atanh(out/V)/K.
    vsat, gain, r1, r2 = 1.0, 1000.0, 1e3, 3e3
    beta = r1 / (r1 + r2)
    o = vsat * math.sqrt(1 - 1 / (gain * beta * vsat))
    fold = beta * o - math.atanh(o / vsat) / gain
    assert fold == pytest.approx(vsat * beta, abs=5 / gain)
    netlist = f"""
vin in 0 dc 0
bcmp out 0 v = {vsat}*tanh({gain}*(v(p)-v(in)))
r2 out p {r2}
r1 p 0 {r1}
"""
    step = 1e-3
    up = ngspice_vectors(tmp_path, netlist, f"dc vin -1 1 {step}", ["v(out)"])
    down = ngspice_vectors(tmp_path, netlist, f"dc vin 1 -1 {-step}", ["v(out)"])
    assert down["scale"][0] == 1.0 and down["scale"][-1] == -1.0
    high = measures.crossing(up["scale"], up["v(out)"], 0.0, "falling")
    low = measures.crossing(down["scale"], down["v(out)"], 0.0, "rising")
    assert high == pytest.approx(fold, abs=step)
    assert low == pytest.approx(-fold, abs=step)
    assert measures.crossing(up["scale"], up["v(out)"], 0.0) == high
    assert math.isnan(measures.crossing(up["scale"], up["v(out)"], 0.0, "rising"))
    assert measures.minimum(up["scale"], up["v(out)"]) == pytest.approx(-vsat)
    assert measures.maximum(up["scale"], up["v(out)"]) == pytest.approx(vsat)


def test_tracking_range_of_a_clipped_follower_in_ngspice(tmp_path: Path) -> None:
    netlist = "vin in 0 dc 0\nbf out 0 v = max(0.2, min(1.0, v(in)))"
    step = 0.01
    out = ngspice_vectors(tmp_path, netlist, f"dc vin 0 1.2 {step}", ["v(out)"])
    x, y = out["scale"], out["v(out)"]
    assert measures.tracking_range(x, y, end="low") == pytest.approx(0.2, abs=step)
    assert measures.tracking_range(x, y, end="high") == pytest.approx(1.0, abs=step)
    assert measures.minimum(x, y) == pytest.approx(0.2)
    assert measures.maximum(x, y) == pytest.approx(1.0)
