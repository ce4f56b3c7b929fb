"""v0 (electrical) design spaces: one sizing procedure per op-amp (GAC²E's).

An electrical action gives, per device group, a gm/Id (1/V) and a transit
frequency fug (Hz), plus branch currents (A); the procedure turns them into
W, L and multipliers of the circuit's netlist (see ``envs.electrical`` for
the ``Sizer`` it calls). Groups, currents and their ranges follow GAC²E's
``op<k>.hy`` v0 lists; branch-current ranges are multiples of the bias
current ``I0``. Differences from GAC²E, all on purpose:

- widths come from the current *per multiplier unit* (our netlists set
  ``m=``), so the simulated gm/Id matches the requested one;
- mirror ratios are the nearest integer ratios the circuit's multiplier bounds
  allow (``Sizer.mirror``; GAC²E: ``Fraction.limit_denominator(100)``,
  unbounded);
- op1-op6 estimate node voltages from the sized devices' Vgs (diodes at Vds =
  Vgs, the pair's source at VCM - Vgs and its body effect, cascode sources)
  and take mirrored currents from the forward network at those voltages, over
  ``PASSES`` fixed-point passes; GAC²E sizes every device at Vds = VDD/2,
  Vbs = 0 and the planned currents, which op8 and op9 still do;
- devices that carry no bias current (op6's MOS resistor and MOS capacitor,
  op9's triode resistors) and op1's Rc, Cc stay geometric actions;
- op9 drops GAC²E's ``i4`` (its MPCM32 carries the pmos-bias stack current
  ``i2``, not a mirrored one); op8's v0, a stub in GAC²E, is implemented.

Every procedure takes a ``Sizer`` ``s`` and returns ``{parameter: [B]}``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

PASSES = 3  # fixed-point passes over node voltages and mirrored currents


@dataclass(frozen=True)
class ElectricalSpace:
    """One circuit's v0 space: device ``groups`` (name -> (polarity, the
    device whose operating point shows the group)), ``currents`` (name ->
    (low, high) in units of I0), ``geometric`` parameters kept as they are,
    and the ``procedure``."""

    groups: dict[str, tuple[str, str]]
    currents: dict[str, tuple[float, float]]
    geometric: tuple[str, ...]
    procedure: Callable


def _tail_current(s, tail, vgs_dp):
    """The tail node voltage ``VDD/2 - Vgs_dp`` (V) and the current of each
    pair device: half of what the tail mirror (``tail`` units of group cm1)
    gives at that node (forward network)."""
    tail_node = s.xp.maximum(s.vdd / 2 - vgs_dp, 0.05)
    return tail_node, tail * s.unit_current("cm1", s.vgs["cm1"], tail_node) / 2


def _size_pair(s, out: dict, names: tuple[str, str], current, load_vsg, tail_node):
    """The pair at ``Vds = VDD - Vsg_load - tail node``, ``Vbs = -tail node``;
    returns its Vgs."""
    out[names[0]], out[names[1]] = s.size(
        "dp1", current, s.vdd - load_vsg - tail_node, -tail_node
    )
    return s.vgs["dp1"]


def _miller(s, geometry: tuple[str, str, str, str]) -> dict:
    """op1/op6: tail i1 (Mcm12:Mcm11), second stage i2 (Mcm13:Mcm11), the
    common source MPCS as wide in units as its sink (GAC²E: Mcs = Mcm13)."""
    pair_w, pair_l, cs_w, cs_l = geometry
    i0, vdd = s.constant("I0"), s.vdd
    m = s.mirror("Mcm11", Mcm12=s["i1"] / i0, Mcm13=s["i2"] / i0)
    mcs = s.clip("Mcs", m["Mcm13"])
    out = {**m, "Mcs": mcs}
    out["Wcm1"], out["Lcm1"] = s.diode("cm1", i0 / m["Mcm11"])
    vgs_dp = s.full(vdd / 3)
    for _ in range(PASSES):
        tail_node, half = _tail_current(s, m["Mcm12"], vgs_dp)
        out["Wcm2"], out["Lcm2"] = s.diode("cm2", half / s.constant("Mcm21"))
        vgs_dp = _size_pair(
            s, out, (pair_w, pair_l), half / s.constant("Md"), s.vgs["cm2"], tail_node
        )
    i2 = m["Mcm13"] * s.unit_current("cm1", s.vgs["cm1"], vdd / 2)
    out[cs_w], out[cs_l] = s.size("cs1", i2 / mcs, vdd / 2)
    return out


def op1(s) -> dict:
    """Miller op-amp (Rc, Cc): see ``_miller``."""
    return _miller(s, ("Wd", "Ld", "Wcs", "Lcs"))


def op2(s) -> dict:
    """Symmetrical OTA: tail i1 (Mcm12:Mcm11), output branch i2 (Mcm22:Mcm21).

    Node voltages are estimated from the sized devices' Vgs (tail = VCM -
    Vgs_dp, x = VDD - Vsg_cm2, z = Vgs_cm3) and the mirrored currents from the
    forward network at those voltages, over a few passes.
    """
    i0, vdd = s.constant("I0"), s.vdd
    m = s.mirror("Mcm11", Mcm12=s["i1"] / i0)
    m |= s.mirror("Mcm21", Mcm22=s["i2"] / (i0 * m["Mcm12"] / m["Mcm11"] / 2))
    out = dict(m)
    out["Wcm1"], out["Lcm1"] = s.diode("cm1", i0 / m["Mcm11"])
    vgs_dp, vgs_cm3 = s.full(vdd / 3), s.full(vdd / 3)
    for _ in range(PASSES):
        tail_node, half = _tail_current(s, m["Mcm12"], vgs_dp)
        out["Wcm2"], out["Lcm2"] = s.diode("cm2", half / m["Mcm21"])
        vgs_dp = _size_pair(
            s, out, ("Wdp1", "Ldp1"), half / s.constant("Md"), s.vgs["cm2"], tail_node
        )
        i2 = m["Mcm22"] * s.unit_current("cm2", s.vgs["cm2"], vdd - vgs_cm3)
        out["Wcm3"], out["Lcm3"] = s.diode("cm3", i2 / s.constant("Mcm31"))
        vgs_cm3 = s.vgs["cm3"]
    return out


def op3(s) -> dict:
    """Un-symmetrical OTA: tail i1, out-side i2 (Mcm212), z-side i3 (Mcm222)."""
    i0, vdd = s.constant("I0"), s.vdd
    m = s.mirror("Mcm11", Mcm12=s["i1"] / i0)
    half = i0 * m["Mcm12"] / m["Mcm11"] / 2
    m |= s.mirror("Mcm2x1", Mcm212=s["i2"] / half, Mcm222=s["i3"] / half)
    m |= s.mirror("Mcm31", Mcm32=m["Mcm212"] / m["Mcm222"])  # balanced output
    out = dict(m)
    out["Wcm1"], out["Lcm1"] = s.diode("cm1", i0 / m["Mcm11"])
    vgs_dp, vgs_cm3 = s.full(vdd / 3), s.full(vdd / 3)
    for _ in range(PASSES):
        tail_node, half = _tail_current(s, m["Mcm12"], vgs_dp)
        out["Wcm2"], out["Lcm2"] = s.diode("cm2", half / m["Mcm2x1"])
        vgs_dp = _size_pair(
            s, out, ("Wd", "Ld"), half / s.constant("Md"), s.vgs["cm2"], tail_node
        )
        i3 = m["Mcm222"] * s.unit_current("cm2", s.vgs["cm2"], vdd - vgs_cm3)
        out["Wcm3"], out["Lcm3"] = s.diode("cm3", i3 / m["Mcm31"])
        vgs_cm3 = s.vgs["cm3"]
    return out


def _cascoded(s, out: dict, m: dict) -> dict:
    """op4/op5: pair, pmos diodes, cascoded mirror outputs and the nmos
    mirror. ``m``: multiplier arrays ``tail``, ``bias`` (of the reference
    Mcm11), ``diode``, ``out_mirror``/``out_cascode`` (x side, to out),
    ``z_mirror`` (y side, into the nmos diode) and ``cm3`` (that diode)."""
    i0, vdd = s.constant("I0"), s.vdd
    out["Wcm1"], out["Lcm1"] = s.diode("cm1", i0 / m["reference"])
    bias = m["bias"] * s.unit_current("cm1", s.vgs["cm1"], vdd / 2)
    out["Wr"], out["Lr"] = s.diode("ref", bias)
    vgs_dp, vsg_ls = s.full(vdd / 3), s.full(vdd / 4)
    for _ in range(PASSES):
        tail_node, half = _tail_current(s, m["tail"], vgs_dp)
        out["Wcm2"], out["Lcm2"] = s.diode("cm2", half / m["diode"])
        vgs_dp = _size_pair(
            s, out, ("Wd", "Ld"), half / s.constant("Md"), s.vgs["cm2"], tail_node
        )
        # the cascodes' sources sit Vsg_ls above their gate r = VDD - Vsg_ref
        mirror_vds = s.vgs["ref"] - vsg_ls
        unit = s.unit_current("cm2", s.vgs["cm2"], mirror_vds)
        out["Wc1"], out["Lc1"] = s.size(
            "ls1",
            m["out_mirror"] * unit / m["out_cascode"],
            vdd / 2 - mirror_vds,
            mirror_vds,
        )
        vsg_ls = s.vgs["ls1"]
        out["Wcm3"], out["Lcm3"] = s.diode("cm3", m["z_mirror"] * unit / m["cm3"])
    return out


def op4(s) -> dict:
    """Cascoded symmetrical OTA: tail i1 (Mcm13), output branches i2
    (Mcm22:Mcm21), cascode bias i3 (Mcm12 into MPC1R); cascodes as wide in
    units as their mirrors (GAC²E: Mc1 = Mcm22)."""
    i0 = s.constant("I0")
    m = s.mirror("Mcm11", Mcm13=s["i1"] / i0, Mcm12=s["i3"] / i0)
    half = i0 * m["Mcm13"] / m["Mcm11"] / 2
    m |= s.mirror("Mcm21", Mcm22=s["i2"] / half)
    m["Mc1"] = s.clip("Mc1", m["Mcm22"])
    roles = {
        "reference": m["Mcm11"],
        "tail": m["Mcm13"],
        "bias": m["Mcm12"],
        "diode": m["Mcm21"],
        "out_mirror": m["Mcm22"],
        "out_cascode": m["Mc1"],
        "z_mirror": m["Mcm22"],
        "cm3": s.full(s.constant("Mcm31")),
    }
    return _cascoded(s, dict(m), roles)


def op5(s) -> dict:
    """Cascoded un-symmetrical OTA: tail i1, out-side i2 (Mcm212), z-side i3
    (Mcm222), cascode bias i4 (Mcm12 into MPC1R); cascodes as wide in units
    as their mirrors."""
    i0 = s.constant("I0")
    m = s.mirror("Mcm11", Mcm13=s["i1"] / i0, Mcm12=s["i4"] / i0)
    half = i0 * m["Mcm13"] / m["Mcm11"] / 2
    m |= s.mirror("Mcm2x1", Mcm212=s["i2"] / half, Mcm222=s["i3"] / half)
    m |= s.mirror("Mcm31", Mcm32=m["Mcm212"] / m["Mcm222"])  # balanced output
    m["Mc11"], m["Mc12"] = s.clip("Mc11", m["Mcm212"]), s.clip("Mc12", m["Mcm222"])
    roles = {
        "reference": m["Mcm11"],
        "tail": m["Mcm13"],
        "bias": m["Mcm12"],
        "diode": m["Mcm2x1"],
        "out_mirror": m["Mcm212"],
        "out_cascode": m["Mc11"],
        "z_mirror": m["Mcm222"],
        "cm3": m["Mcm31"],
    }
    return _cascoded(s, dict(m), roles)


def op6(s) -> dict:
    """Miller op-amp with MOS compensation: as op1; the MOS resistor and
    capacitor stay geometric."""
    return _miller(s, ("Wd", "Ld", "Wcs", "Lcs"))


def _folded_branch(s, top: float, tail: float):
    """Current of a folded cascode branch: top source minus half the tail,
    floored at 5 % of the top source (a starved branch still gets a size)."""
    return s.xp.maximum(top - tail / 2, 0.05 * top)


def op8(s) -> dict:
    """Folded cascode: tail i1 and pmos-bias i2 from Mcm51, top sources i3
    and nmos-cascode bias i4 from Mcm41; fold-branch multipliers 2 (GAC²E)."""
    i0 = s.constant("I0")
    m = s.mirror("Mcm51", Mcm53=s["i1"] / i0, Mcm52=s["i2"] / i0)
    i1, i2 = i0 * m["Mcm53"] / m["Mcm51"], i0 * m["Mcm52"] / m["Mcm51"]
    m |= s.mirror("Mcm41", Mcm42=s["i3"] / i2, Mcm43=s["i4"] / i2)
    i3 = i2 * m["Mcm42"] / m["Mcm41"]
    branch = _folded_branch(s, i3, i1)
    fold = {k: s.clip(k, s.full(2.0)) for k in ("Mcm1", "Mcm2", "Mcm3")}
    out = {**m, **fold}
    out["Wd1"], out["Ld1"] = s.size("dp1", i1 / 2 / s.constant("Md1"))
    out["Wcm5"], out["Lcm5"] = s.size("cm5", i0 / m["Mcm51"])
    out["Wcm4"], out["Lcm4"] = s.size("cm4", i2 / m["Mcm41"])
    out["Wcm3"], out["Lcm3"] = s.size("cm3", branch / fold["Mcm3"])
    out["Wcm2"], out["Lcm2"] = s.size("cm2", branch / fold["Mcm2"])
    out["Wcm1"], out["Lcm1"] = s.size("cm1", branch / fold["Mcm1"])
    return out


def op9(s) -> dict:
    """Self-biased folded cascode: from Mcm41 the tail i1, pmos-bias stack i2
    and pmos reference i3; from Mcm31 the top sources i5 and the nmos-bias
    stack i6; fold-branch multipliers 2 (GAC²E); MPCM32 as dense as the top
    sources."""
    i0 = s.constant("I0")
    m = s.mirror("Mcm41", Mcm43=s["i1"] / i0, Mcm44=s["i2"] / i0, Mcm42=s["i3"] / i0)
    ref = i0 / m["Mcm41"]
    i1, i2, i3 = ref * m["Mcm43"], ref * m["Mcm44"], ref * m["Mcm42"]
    m |= s.mirror("Mcm31", Mcm33=s["i5"] / i3, Mcm34=s["i6"] / i3)
    i5 = i3 * m["Mcm33"] / m["Mcm31"]
    m["Mcm32"] = s.clip("Mcm32", i2 * m["Mcm33"] / i5)
    branch = _folded_branch(s, i5, i1)
    fold = {k: s.clip(k, s.full(2.0)) for k in ("Mcm1", "Mcm2", "Mls1")}
    out = {**m, **fold}
    out["Wd1"], out["Ld1"] = s.size("dp1", i1 / 2 / s.constant("Md1"))
    out["Wcm4"], out["Lcm4"] = s.size("cm4", ref)
    out["Wcm3"], out["Lcm3"] = s.size("cm3", i3 / m["Mcm31"])
    out["Wcm2"], out["Lcm2"] = s.size("cm2", branch / fold["Mcm2"])
    out["Wls1"], out["Lls1"] = s.size("ls1", branch / fold["Mls1"])
    out["Wcm1"], out["Lcm1"] = s.size("cm1", branch / fold["Mcm1"])
    return out


N, P = "nmos", "pmos"
PROCEDURES: dict[str, ElectricalSpace] = {
    "op1": ElectricalSpace(
        {"cm1": (N, "MNCM11"), "cm2": (P, "MPCM21"), "cs1": (P, "MPCS1"),
         "dp1": (N, "MND11")},
        {"i1": (1 / 3, 10.0), "i2": (1 / 3, 40.0)},
        ("Rc", "Cc"),
        op1,
    ),
    "op2": ElectricalSpace(
        {"cm1": (N, "MNCM11"), "cm2": (P, "MPCM211"), "cm3": (N, "MNCM31"),
         "dp1": (N, "MND11")},
        {"i1": (1 / 3, 16.0), "i2": (1 / 6, 160.0)},
        (),
        op2,
    ),
    "op3": ElectricalSpace(
        {"cm1": (N, "MNCM11"), "cm2": (P, "MPCM211"), "cm3": (N, "MNCM31"),
         "dp1": (N, "MND11")},
        {"i1": (1 / 3, 16.0), "i2": (1 / 18, 160.0), "i3": (1 / 18, 160.0)},
        (),
        op3,
    ),
    "op4": ElectricalSpace(
        {"cm1": (N, "MNCM11"), "cm2": (P, "MPCM211"), "cm3": (N, "MNCM31"),
         "dp1": (N, "MND11"), "ls1": (P, "MPC11"), "ref": (P, "MPC1R")},
        {"i1": (1 / 3, 16.0), "i2": (1 / 6, 160.0), "i3": (1 / 3, 3.0)},
        (),
        op4,
    ),
    "op5": ElectricalSpace(
        {"cm1": (N, "MNCM11"), "cm2": (P, "MPCM211"), "cm3": (N, "MNCM31"),
         "dp1": (N, "MND11"), "ls1": (P, "MPC11"), "ref": (P, "MPC1R")},
        {"i1": (1 / 3, 16.0), "i2": (1 / 6, 160.0), "i3": (1 / 6, 160.0),
         "i4": (1 / 3, 3.0)},
        (),
        op5,
    ),
    "op6": ElectricalSpace(
        {"cm1": (N, "MNCM11"), "cm2": (P, "MPCM21"), "cs1": (P, "MPCS"),
         "dp1": (N, "MND11")},
        {"i1": (1 / 3, 10.0), "i2": (1 / 3, 40.0)},
        ("Lc1", "Lr1", "Wc1", "Wr1", "Mc1", "Mr1"),
        op6,
    ),
    "op8": ElectricalSpace(
        {"dp1": (N, "MND11"), "cm1": (N, "MNCM11"), "cm2": (N, "MNCM21"),
         "cm3": (P, "MPCM31"), "cm4": (P, "MPCM41"), "cm5": (N, "MNCM51")},
        {"i1": (1 / 3, 15.0), "i2": (1 / 3, 3.0), "i3": (2 / 9, 60.0),
         "i4": (2 / 9, 60.0)},
        (),
        op8,
    ),
    "op9": ElectricalSpace(
        {"dp1": (N, "MND11"), "cm1": (N, "MNCM11"), "cm2": (P, "MPCM21"),
         "cm3": (P, "MPCM31"), "cm4": (N, "MNCM41"), "ls1": (N, "MNLS11")},
        {"i1": (1 / 3, 25.0), "i2": (1 / 3, 15.0), "i3": (1 / 3, 3.0),
         "i5": (1 / 6, 60.0), "i6": (1 / 6, 60.0)},
        ("Lr1", "Lr2", "Wr1", "Wr2"),
        op9,
    ),
}  # fmt: skip
"""Built-in circuits with a v0 space (their ids ``jaxsizer/<c>-<tech>-v0``)."""
