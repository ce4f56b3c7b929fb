"""Tests of sim.format.measures against circuits with analytic answers, run in
ngspice."""

from __future__ import annotations

import math
import re
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import brentq

from sim.format import measures, measures_op
from sim.format.measures import Region

# One VCCS stage: (gm in S, load R in ohm, load C in F). gm < 0 inverts.
Stage = tuple[float, float, float]

F_START, F_STOP, POINTS_PER_DECADE = 1.0, 1e10, 100

ONE_POLE: list[Stage] = [(1e-3, 1e5, 1e-12)]  # 40 dB, pole 1.59 MHz
TWO_POLE: list[Stage] = [(1e-3, 1e5, 1e-11), (1e-3, 1e4, 1e-13)]  # 60 dB
THREE_POLE: list[Stage] = [*TWO_POLE, (1e-3, 1e3, 1 / (2 * math.pi * 1e3 * 5e8))]


def run_ngspice(deck_path: Path, deck: str) -> str:
    """Write deck to deck_path, run `ngspice -b` on it, return its stdout.

    ngspice exits with 1 after a `.control`-only deck ("no simulations run")
    and with 0 after some errors, so errors are detected from its messages.
    """
    deck_path.write_text(deck)
    done = subprocess.run(
        ["ngspice", "-b", str(deck_path)],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    messages = done.stdout + done.stderr
    assert "error" not in messages.lower(), messages
    return done.stdout


def vccs_chain(stages: Sequence[Stage]) -> str:
    """Netlist of VCCS stages from node `in` to node `out`, each into R || C."""
    nodes = ["in"] + [f"n{k}" for k in range(1, len(stages))] + ["out"]
    lines = []
    for k, (gm, r, c) in enumerate(stages):
        src, dst = nodes[k], nodes[k + 1]
        # ngspice G: current flows from n+ through the source to n-, so
        # "g 0 dst src 0 gm" pushes gm*v(src) into dst: gain +gm*R.
        lines += [f"g{k} 0 {dst} {src} 0 {gm!r}", f"r{k} {dst} 0 {r!r}"]
        lines.append(f"c{k} {dst} 0 {c!r}")
    return "\n".join(lines)


AcSim = Callable[..., tuple[np.ndarray, np.ndarray]]


@pytest.fixture
def ac_sim(tmp_path: Path) -> AcSim:
    """Run an AC sweep of v(out)/v(in) in ngspice: returns (freq [n] Hz, H [n])."""
    runs = iter(range(1_000))

    def simulate(
        stages: Sequence[Stage],
        f_start: float = F_START,
        f_stop: float = F_STOP,
        points_per_decade: int = POINTS_PER_DECADE,
    ) -> tuple[np.ndarray, np.ndarray]:
        run = next(runs)
        data = tmp_path / f"ac{run}.txt"
        deck = f"""* ac sweep {run}
vin in 0 dc 0 ac 1
{vccs_chain(stages)}
.control
set wr_singlescale
set wr_vecnames
ac dec {points_per_decade} {f_start!r} {f_stop!r}
wrdata {data} v(out)
.endc
.end
"""
        run_ngspice(tmp_path / f"ac{run}.cir", deck)
        table = np.loadtxt(data, skiprows=1, dtype=np.float64, ndmin=2)
        return table[:, 0], table[:, 1] + 1j * table[:, 2]

    return simulate


def op_values(tmp_path: Path, netlist: str, names: Sequence[str]) -> dict[str, float]:
    """Run `op` in ngspice and return the printed values of the named vectors."""
    prints = "\n".join(f"print {name}" for name in names)
    deck = f"* op\n{netlist}\n.control\nset numdgt=15\nop\n{prints}\n.endc\n.end\n"
    stdout = run_ngspice(tmp_path / "op.cir", deck)
    found = dict(re.findall(r"^(\S+) = (\S+)$", stdout, flags=re.MULTILINE))
    return {name: float(found[name.lower()]) for name in names}


# ------------------------------------------------ analytic answers (no simulation)


def analytic_response(stages: Sequence[Stage], freq: np.ndarray) -> np.ndarray:
    """H(f) = prod gm*R / (1 + j f/fp) with fp = 1/(2 pi R C); freq [n] Hz."""
    h = np.ones_like(freq, dtype=np.complex128)
    for gm, r, c in stages:
        h *= gm * r / (1 + 2j * math.pi * freq * r * c)
    return h


def phase_lag_deg(stages: Sequence[Stage], f: float) -> float:
    """Phase lag from DC (degrees, positive) of the analytic chain at f Hz."""
    return sum(math.degrees(math.atan(2 * math.pi * f * r * c)) for _, r, c in stages)


def analytic_gain(stages: Sequence[Stage], f: float) -> float:
    """|H(f)| of the analytic chain at one frequency f Hz."""
    return float(abs(analytic_response(stages, np.array([f]))[0]))


def analytic_ugbw(stages: Sequence[Stage]) -> float:
    """Frequency (Hz) where |H| = 1, by a root find in log10(f)."""

    def log_gain(x: float) -> float:
        return math.log(analytic_gain(stages, 10**x))

    return 10 ** brentq(log_gain, math.log10(F_START), math.log10(F_STOP), xtol=1e-12)


def analytic_margins(stages: Sequence[Stage]) -> tuple[float, float]:
    """(phase margin in degrees, gain margin in dB; NaN if no 180 degree lag)."""
    pm = 180.0 - phase_lag_deg(stages, analytic_ugbw(stages))

    def lag_past_180(x: float) -> float:
        return phase_lag_deg(stages, 10**x) - 180.0

    lo, hi = math.log10(F_START), math.log10(F_STOP)
    if lag_past_180(hi) < 0:
        return pm, math.nan
    f180 = 10 ** brentq(lag_past_180, lo, hi, xtol=1e-12)
    return pm, -20 * math.log10(analytic_gain(stages, f180))


def inverted(stages: Sequence[Stage]) -> list[Stage]:
    """The same chain with the first stage's gm negated (an inverting amplifier)."""
    (gm, r, c), *rest = stages
    return [(-gm, r, c), *rest]


# ------------------------------------------------------------------ AC measures


def test_simulated_sweep_matches_analytic_response(ac_sim: AcSim) -> None:
    freq, h = ac_sim(TWO_POLE)
    assert freq.size == 10 * POINTS_PER_DECADE + 1
    np.testing.assert_allclose(h, analytic_response(TWO_POLE, freq), rtol=1e-6)


def test_one_pole_amplifier(ac_sim: AcSim) -> None:
    freq, h = ac_sim(ONE_POLE)
    ((gm, r, c),) = ONE_POLE
    a0, fp = gm * r, 1 / (2 * math.pi * r * c)
    fu = fp * math.sqrt(a0**2 - 1)  # gm*R / sqrt(1 + (f/fp)^2) = 1

    assert measures.dc_gain_db(freq, h) == pytest.approx(20 * math.log10(a0), abs=0.01)
    assert measures.unity_gain_bandwidth(freq, h) == pytest.approx(fu, rel=1e-4)
    assert fu == pytest.approx(gm / (2 * math.pi * c), rel=1e-3)  # gain >> 1
    pm = 90.0 + math.degrees(math.atan(fp / fu))
    assert measures.phase_margin(freq, h) == pytest.approx(pm, abs=0.01)
    assert math.isnan(measures.gain_margin(freq, h))


@pytest.mark.parametrize("stages", [TWO_POLE, THREE_POLE], ids=["two", "three"])
def test_multi_pole_margins_match_analytic(ac_sim: AcSim, stages: list[Stage]) -> None:
    freq, h = ac_sim(stages)
    pm, gm_db = analytic_margins(stages)

    fu = measures.unity_gain_bandwidth(freq, h)
    assert fu == pytest.approx(analytic_ugbw(stages), rel=1e-4)
    assert measures.phase_margin(freq, h) == pytest.approx(pm, abs=0.01)
    if math.isnan(gm_db):
        assert math.isnan(measures.gain_margin(freq, h))
    else:
        assert measures.gain_margin(freq, h) == pytest.approx(gm_db, abs=0.01)


def test_three_pole_margins_are_the_expected_ones() -> None:
    pm, gm_db = analytic_margins(THREE_POLE)
    assert 30 < pm < 45 and 10 < gm_db < 15  # a meaningful, stable case
    assert math.isnan(analytic_margins(TWO_POLE)[1])


@pytest.mark.parametrize("stages", [ONE_POLE, TWO_POLE, THREE_POLE])
def test_inverting_amplifier_has_the_same_margins(
    ac_sim: AcSim, stages: list[Stage]
) -> None:
    freq, h = ac_sim(stages)
    freq_inv, h_inv = ac_sim(inverted(stages))
    np.testing.assert_allclose(h_inv, -h, rtol=1e-9)

    for measure in (measures.dc_gain_db, measures.unity_gain_bandwidth):
        assert measure(freq_inv, h_inv) == pytest.approx(measure(freq, h), rel=1e-9)
    for measure in (measures.phase_margin, measures.gain_margin):
        expected = measure(freq, h)
        assert measure(freq_inv, h_inv) == pytest.approx(
            expected, abs=1e-6, nan_ok=True
        )
    assert measures.phase_margin(freq_inv, h_inv) == pytest.approx(
        analytic_margins(stages)[0], abs=0.01
    )


def test_gain_below_unity_has_no_ugbw(ac_sim: AcSim) -> None:
    freq, h = ac_sim([(1e-3, 500.0, 1e-12)])  # gm*R = 0.5
    assert measures.dc_gain_db(freq, h) == pytest.approx(20 * math.log10(0.5), abs=0.01)
    assert math.isnan(measures.unity_gain_bandwidth(freq, h))
    assert math.isnan(measures.phase_margin(freq, h))
    assert math.isnan(measures.gain_margin(freq, h))


def test_sweep_ending_before_crossing_gives_nan(ac_sim: AcSim) -> None:
    freq, h = ac_sim(THREE_POLE, f_stop=1e7)  # still far above 0 dB at 10 MHz
    assert measures.dc_gain_db(freq, h) == pytest.approx(60.0, abs=0.01)
    for measure in (
        measures.unity_gain_bandwidth,
        measures.phase_margin,
        measures.gain_margin,
    ):
        assert math.isnan(measure(freq, h))


def test_empty_sweep_gives_nan_and_bad_shapes_raise() -> None:
    empty = np.array([])
    for measure in (
        measures.dc_gain_db,
        measures.unity_gain_bandwidth,
        measures.phase_margin,
        measures.gain_margin,
    ):
        assert math.isnan(measure(empty, empty.astype(complex)))
    with pytest.raises(ValueError):
        measures.unity_gain_bandwidth(np.array([1.0, 2.0]), np.array([1.0 + 0j]))
    with pytest.raises(ValueError):
        measures.unity_gain_bandwidth(np.array([2.0, 1.0]), np.array([2.0, 0.5]))


def test_diverged_response_gives_nan() -> None:
    freq = np.array([1.0, 10.0, 100.0])
    h = np.full(3, np.nan + 0j)
    for measure in (
        measures.dc_gain_db,
        measures.unity_gain_bandwidth,
        measures.phase_margin,
        measures.gain_margin,
    ):
        assert math.isnan(measure(freq, h))


# ------------------------------------------------------------------------ supply


def test_supply_current_and_power_of_a_resistor(tmp_path: Path) -> None:
    vdd, r = 1.8, 3e3
    values = op_values(tmp_path, f"vdd vdd 0 {vdd}\nr1 vdd 0 {r}", ["i(vdd)"])
    i_source = values["i(vdd)"]
    assert i_source < 0  # ngspice: current into the + terminal
    assert measures.supply_current(i_source) == pytest.approx(vdd / r, rel=1e-9)
    assert measures.supply_power(vdd, i_source) == pytest.approx(vdd**2 / r, rel=1e-9)


def test_negative_rail_power_is_positive() -> None:
    assert measures.supply_power(-1.8, 1e-3) == pytest.approx(1.8e-3)


# --------------------------------------------------------------- operating point


def test_gm_over_id_and_transit_frequency_numbers() -> None:
    assert measures.gm_over_id(1e-3, 1e-4) == pytest.approx(10.0)
    assert measures.gm_over_id(1e-3, -1e-4) == pytest.approx(10.0)
    assert math.isnan(measures.gm_over_id(1e-3, 0.0))
    fug = 1e-3 / (2 * math.pi * 1e-15)
    assert measures.transit_frequency(1e-3, 1e-15) == pytest.approx(fug)
    assert measures.transit_frequency(1e-3, -1e-15) == pytest.approx(fug)
    assert math.isnan(measures.transit_frequency(1e-3, 0.0))
    assert math.isnan(measures.transit_frequency(math.nan, 1e-15))


REGION_CASES = [
    # (vgs, vds, vth, vdsat, region): n device, then p with signed voltages,
    # then p with the positive magnitudes ngspice's BSIM4 reports.
    (1.0, 1.2, 0.4, 0.3, Region.SATURATION),
    (1.0, 0.1, 0.4, 0.3, Region.TRIODE),
    (0.05, 1.2, 0.4, 0.3, Region.OFF),
    (0.2, 1.2, 0.4, 0.3, Region.SUBTHRESHOLD),
    (0.2, 0.1, 0.4, 0.3, Region.SUBTHRESHOLD),
    (-1.0, -1.2, -0.4, -0.3, Region.SATURATION),
    (-1.0, -0.1, -0.4, -0.3, Region.TRIODE),
    (-0.2, -1.2, -0.4, -0.3, Region.SUBTHRESHOLD),
    (-0.05, -1.2, -0.4, -0.3, Region.OFF),
    (-1.0, -1.2, 0.4, 0.3, Region.SATURATION),
    (-1.0, -0.1, 0.4, 0.3, Region.TRIODE),
    (math.nan, 1.2, 0.4, 0.3, Region.UNKNOWN),
]


@pytest.mark.parametrize(("vgs", "vds", "vth", "vdsat", "region"), REGION_CASES)
def test_operating_region(
    vgs: float, vds: float, vth: float, vdsat: float, region: Region
) -> None:
    assert measures.operating_region(vgs, vds, vth, vdsat) == region


def test_operating_regions_is_the_vectorised_form() -> None:
    vgs, vds, vth, vdsat, expected = (
        np.array(col) for col in zip(*REGION_CASES, strict=True)
    )
    regions = measures.operating_regions(vgs, vds, vth, vdsat)
    assert regions.shape == (len(REGION_CASES),)
    np.testing.assert_array_equal(regions, expected.astype(np.int64))
    broadcast = measures.operating_regions(np.array([[0.05], [1.0]]), 1.2, 0.4, 0.3)
    np.testing.assert_array_equal(broadcast, [[Region.OFF], [Region.SATURATION]])


def test_device_figures_with_missing_values() -> None:
    figures = measures.device_figures({"GM": 1e-3, "id": "1e-4", "cgg": None})
    assert tuple(figures) == measures.FIGURE_NAMES
    assert figures["gm"] == 1e-3
    assert figures["gmoverid"] == pytest.approx(10.0)
    for name in ("gds", "vth", "vdsat", "fug", "self_gain"):
        assert math.isnan(figures[name])
    assert figures["region"] == Region.UNKNOWN
    empty = measures.device_figures({})
    assert all(math.isnan(v) for k, v in empty.items() if k != "region")


def test_device_figure_values_match_the_figure_functions() -> None:
    """The inlined scalar path equals gm_over_id/transit_frequency/_ratio/
    operating_region on random values with zeros, signs, NaN and inf."""
    rng = np.random.default_rng(3)
    specials = [0.0, -0.0, math.nan, math.inf, -math.inf, 1e-300, -2.5]
    for _ in range(5000):
        raw = [
            float(rng.choice(specials)) if rng.random() < 0.2 else rng.normal()
            for _ in range(8)
        ]
        id_, gm, gds, vth, vdsat, cgg, vgs, vds = raw
        expected = (
            id_,
            gm,
            gds,
            vth,
            vdsat,
            measures.gm_over_id(gm, id_),
            measures.transit_frequency(gm, cgg),
            measures.operating_region(vgs, vds, vth, vdsat),
            measures_op._ratio(gm, gds),
        )
        got = measures.device_figure_values(*raw)
        assert len(got) == len(expected)
        for a, b in zip(got, expected, strict=True):
            assert a == b or (math.isnan(a) and math.isnan(b))
        point = measures.DeviceOperatingPoint(*raw)
        assert tuple(point.figures().values()) == got or all(
            a == b or (math.isnan(a) and math.isnan(b))
            for a, b in zip(point.figures().values(), got, strict=True)
        )


BSIM4_BENCH = """.model nch nmos level=54 version=4.8
.model pch pmos level=54 version=4.8
vdd vdd 0 1.8
vgn gn 0 {vgn}
vdn dn 0 {vdn}
vgp gp 0 {vgp}
vdp dp 0 {vdp}
mn dn gn 0 0 nch w=1u l=0.2u
mp dp gp vdd vdd pch w=1u l=0.2u"""

OP_NAMES = ("id", "gm", "gds", "vth", "vdsat", "cgg", "vgs", "vds")


@pytest.mark.parametrize(
    ("bias", "region"),
    [
        ({"vgn": 1.0, "vdn": 1.2, "vgp": 0.8, "vdp": 0.4}, Region.SATURATION),
        ({"vgn": 1.0, "vdn": 0.05, "vgp": 0.8, "vdp": 1.75}, Region.TRIODE),
        ({"vgn": 0.0, "vdn": 1.2, "vgp": 1.8, "vdp": 0.4}, Region.OFF),
        ({"vgn": 0.3, "vdn": 1.2, "vgp": 1.5, "vdp": 0.4}, Region.SUBTHRESHOLD),
    ],
)
def test_device_figures_from_ngspice_op(
    tmp_path: Path, bias: dict[str, float], region: Region
) -> None:
    names = [f"@m{d}[{q}]" for d in "np" for q in OP_NAMES]
    values = op_values(tmp_path, BSIM4_BENCH.format(**bias), names)
    for device in "np":
        raw = {q: values[f"@m{device}[{q}]"] for q in OP_NAMES}
        figures = measures.device_figures(raw)
        assert figures["region"] == region, (device, raw)
        assert figures["gmoverid"] == pytest.approx(raw["gm"] / abs(raw["id"]))
        assert figures["fug"] == pytest.approx(raw["gm"] / (2 * math.pi * raw["cgg"]))
        assert figures["self_gain"] == pytest.approx(raw["gm"] / raw["gds"])
