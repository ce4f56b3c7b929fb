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
- every procedure estimates node voltages from the sized devices' Vgs
  (diodes at Vds = Vgs, the pair's source at VCM - Vgs and its body effect,
  cascode sources) and takes mirrored currents from the forward network at
  those voltages, over fixed-point passes (GAC²E sizes every device at Vds =
  VDD/2, Vbs = 0 and the planned currents). The folded cascodes op8/op9 also
  solve, per pass, the equilibria that set their currents (the tail node,
  the folding node, op9's self-biased stacks) on a voltage grid, and op8
  chooses its cascodes' units so that the wide-swing bias diodes leave the
  devices under the cascodes their saturation voltage plus ``HEADROOM``;
- devices that carry no bias current (op6's MOS resistor and MOS capacitor,
  op9's triode resistors) and op1's Rc, Cc stay geometric actions;
- op9 drops GAC²E's ``i4`` (its MPCM32 carries the pmos-bias stack current
  ``i2``, not a mirrored one); op8's v0, a stub in GAC²E, is implemented.

Every procedure takes a ``Sizer`` ``s`` and returns ``{parameter: [B]}``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

PASSES = 3  # fixed-point passes over node voltages and mirrored currents


@dataclass(frozen=True)
class ElectricalSpace:
    """One circuit's v0 space: device ``groups`` (name -> (polarity, the
    device whose operating point shows the group)), ``currents`` (name ->
    (low, high) in units of I0), ``geometric`` parameters kept as they are,
    the ``procedure``, and ``roles`` (group -> role: a role's entry in
    ``envs.electrical.ELECTRICAL_RANGES``, where a technology has one,
    replaces the polarity's ranges for that group; every circuit's input
    pair is ``dp1``)."""

    groups: dict[str, tuple[str, str]]
    currents: dict[str, tuple[float, float]]
    geometric: tuple[str, ...]
    procedure: Callable
    roles: dict[str, str] = field(default_factory=lambda: {"dp1": "pair"})


def _tail_current(s, tail, vgs_dp, bank: str = "cm1"):
    """The tail node voltage ``VDD/2 - Vgs_dp`` (V) and the current of each
    pair side: half of what the tail mirror (``tail`` units of the diode
    group ``bank``) gives at that node (forward network)."""
    tail_node = s.xp.maximum(s.vdd / 2 - vgs_dp, 0.05)
    return tail_node, tail * s.unit_current(bank, s.vgs[bank], tail_node) / 2


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


HEADROOM = 0.1  # V kept beyond a device's saturation voltage 2 / (gm/Id)
FOLD_PASSES = 5  # op8/op9: more coupled nodes than op1-op6


def _folded_branch(s, top, tail):
    """Current (A) ``[B]`` of a folded cascode branch: top source minus half
    the tail, floored at 5 % of the top source (a starved branch still gets
    a size, and is flagged)."""
    s.flag("fold", top < tail / 2, "fold: top sources carry < half the tail")
    return s.xp.maximum(top - tail / 2, 0.05 * top)


def _wide_swing_target(s, under: str, cascode: str, window):
    """The drain-source voltage (V) ``[B]`` to leave the device under a
    cascode: its saturation voltage plus ``HEADROOM``, or the middle of
    ``window`` (the voltage both share, V) when the cascode would be left
    less than its own."""
    low = 2.0 / s[f"gmid_{under}"] + HEADROOM
    high = window - 2.0 / s[f"gmid_{cascode}"] - HEADROOM
    return s.xp.where(low <= high, low, (low + high) / 2)


def _bias_units(s, name: str, group: str, units, bias, vgs_cascode, target):
    """Units of a cascode ``group`` whose one-unit bias diode, carrying
    ``bias`` (A), sits ``target`` (V) above the cascode's Vgs: the diode's
    density rises with the units (the widths are sized per unit), and so
    does the voltage left to the device under the cascode. ``units``: the
    units the group is sized with now."""
    low, high = s.bounds(name)
    candidates = s.xp.arange(low, high + 1.0)
    scaled = bias[:, None] * candidates[None, :] / units[:, None]
    left = s.gate_voltage(group, scaled) - vgs_cascode[:, None]
    best = s.xp.argmin(s.xp.abs(left - target[:, None]), axis=1)
    return candidates[best]


def _crossing(f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row of ``f`` ``[B, k]`` (falling along k), where it first drops
    below 0: the index k of the bracket's upper end and the weight ``t`` of
    the linear interpolation; the ends when it never crosses."""
    below = f < 0.0
    k = np.where(below.any(1), below.argmax(1), f.shape[1] - 1)
    k = np.clip(k, 1, f.shape[1] - 1)
    f0, f1 = _at(f, k, 0.0), _at(f, k, 1.0)
    return k, np.clip(f0 / np.where(f0 > f1, f0 - f1, 1.0), 0.0, 1.0)


def _at(a: np.ndarray, k: np.ndarray, t) -> np.ndarray:
    """``a`` ``[B, k]`` interpolated between columns k - 1 and k at weight t."""
    rows = np.arange(a.shape[0])
    return a[rows, k - 1] + t * (a[rows, k] - a[rows, k - 1])


def _tail_equilibrium(s, units, bank: str, drain):
    """The tail node (V) and the current of each pair side (A), ``[B]`` each,
    where the sized pair (gates at VCM, drains at ``drain``) passes what the
    tail (``units`` of the diode group ``bank``) sinks at that node: VCM -
    Vgs_dp when the pair's Vgs fits, else the tail mirror in triode."""
    vcm = s.vdd / 2
    node = np.linspace(0.005, vcm, 48)[None, :] * np.ones((len(drain), 1))
    pair = (
        2
        * s.constant("Md1")
        * s.unit_current("dp1", vcm - node, drain[:, None] - node, -node, role=None)
    )
    sink = units[:, None] * s.unit_current(bank, s.vgs[bank], node, role=None)
    k, t = _crossing(np.log(np.maximum(pair, 1e-18) / np.maximum(sink, 1e-18)))
    tail_node = _at(node, k, t)
    return tail_node, units * s.unit_current(bank, s.vgs[bank], tail_node) / 2


def _fold_equilibrium(s, m, branch, half, vsg4, bias_p, cl):
    """op8's top-source current (A) and folding node fl (V), ``[B]`` each,
    where the top sources, left ``h = Vsg_B3 - Vsg_cm3`` of drain-source
    voltage, give the branch plus ``half`` the tail (cm3 and the branch as
    sized in the last pass). A smaller branch narrows the cascodes (sized
    per unit current), raises the density of the one-unit diode MPCB3 and
    so h: top sources short of headroom settle in triode."""
    ratio = np.geomspace(0.05, 4.0, 32)[None, :]  # candidate / present branch
    h = s.gate_voltage("cm3", bias_p[:, None] / ratio) - s.vgs["cm3"][:, None]
    h = np.clip(h, 0.0, (s.vdd - cl)[:, None])
    top = m["Mcm42"][:, None] * s.unit_current("cm4", vsg4, h, role=None)
    candidate = branch[:, None] * ratio
    gap = np.log(np.maximum(top - half[:, None], 1e-15) / candidate)
    k, t = _crossing(gap)
    return np.exp(_at(np.log(np.maximum(top, 1e-18)), k, t)), s.vdd - _at(h, k, t)


def op8(s) -> dict:
    """Folded cascode: tail i1 and pmos-bias i2 from Mcm51, top sources i3
    and nmos-cascode bias i4 from Mcm41.

    Node voltages come from the sized devices: the tail node where the pair
    passes what the tail sinks (``_tail_equilibrium``, VCM - Vgs_dp when it
    fits); the folding node fl = VDD - (Vsg_B3 - Vsg_cm3) and the mirror's
    source node sl = Vgs_B2 - Vgs_cm2 (wide swing: the one-unit bias diodes
    MPCB3 and MNCB2 against the cascodes), cl = Vgs_cm1; the branch current
    is what the top sources give at VDD - fl minus half the tail
    (``_fold_equilibrium``). The cascodes' units Mcm3, Mcm2 set the bias
    diodes' density and so the voltage left to the top sources and to the
    mirror (``_wide_swing_target``); Mcm1 is 2 (GAC²E's fold multipliers).
    """
    i0, vdd, md = s.constant("I0"), s.vdd, s.constant("Md1")
    m = s.mirror("Mcm51", Mcm53=s["i1"] / i0, Mcm52=s["i2"] / i0)
    i2 = i0 * m["Mcm52"] / m["Mcm51"]
    m |= s.mirror("Mcm41", Mcm42=s["i3"] / i2, Mcm43=s["i4"] / i2)
    m |= {k: s.clip(k, s.full(2.0)) for k in ("Mcm1", "Mcm2", "Mcm3")}
    out = dict(m)
    out["Wcm5"], out["Lcm5"] = s.diode("cm5", i0 / m["Mcm51"])
    vgs5 = s.vgs["cm5"]
    vsg4, vgs_dp, cl = s.full(vdd / 3), s.full(vdd / 3), s.full(vdd / 3)
    fl, sl, vbn, vsg_b3 = s.full(0.8 * vdd), s.full(vdd / 8), cl, cl
    branch = None
    for _ in range(FOLD_PASSES):
        i2 = m["Mcm52"] * s.unit_current("cm5", vgs5, vdd - vsg4, role="pmos bias")
        out["Wcm4"], out["Lcm4"] = s.diode("cm4", i2 / m["Mcm41"])
        vsg4 = s.vgs["cm4"]
        if branch is None:
            tail_node, half = _tail_current(s, m["Mcm53"], vgs_dp, "cm5")
            top = m["Mcm42"] * s.unit_current("cm4", vsg4, vdd - fl, role="top")
        else:
            tail_node, half = _tail_equilibrium(s, m["Mcm53"], "cm5", fl)
            bias_p = m["Mcm52"] * s.unit_current("cm5", vgs5, vdd - vsg_b3, role="bias")
            top, fl = _fold_equilibrium(s, m, branch, half, vsg4, bias_p, cl)
        branch = _folded_branch(s, top, 2 * half)
        out["Wd1"], out["Ld1"] = s.size("dp1", half / md, fl - tail_node, -tail_node)
        vgs_dp = s.vgs["dp1"]
        out["Wcm1"], out["Lcm1"] = s.size("cm1", branch / m["Mcm1"], sl)
        cl = s.vgs["cm1"]
        # nmos cascodes over the mirror, biased by the one-unit diode MNCB2
        s.size("cm2", branch / m["Mcm2"], cl - sl, -sl)
        bias_n = m["Mcm43"] * s.unit_current("cm4", vsg4, vdd - vbn, role="bias")
        target = _wide_swing_target(s, "cm1", "cm2", cl)
        m["Mcm2"] = _bias_units(
            s, "Mcm2", "cm2", m["Mcm2"], bias_n, s.vgs["cm2"], target
        )
        out["Wcm2"], out["Lcm2"] = s.size("cm2", branch / m["Mcm2"], cl - sl, -sl)
        vbn = s.gate_voltage("cm2", bias_n)
        sl = np.maximum(vbn - s.vgs["cm2"], 0.0)
        # pmos cascodes under the top sources, biased by the one-unit MPCB3
        s.size("cm3", branch / m["Mcm3"], fl - cl, vdd - fl)
        bias_p = m["Mcm52"] * s.unit_current("cm5", vgs5, vdd - vsg_b3, role="bias")
        target = _wide_swing_target(s, "cm4", "cm3", vdd - cl)
        m["Mcm3"] = _bias_units(
            s, "Mcm3", "cm3", m["Mcm3"], bias_p, s.vgs["cm3"], target
        )
        out["Wcm3"], out["Lcm3"] = s.size("cm3", branch / m["Mcm3"], fl - cl, vdd - fl)
        vsg_b3 = s.gate_voltage("cm3", bias_p)
    s.flag("wide swing", np.minimum(sl, vdd - fl) < 0.05, "op8: no wide-swing headroom")
    return out | {k: m[k] for k in ("Mcm2", "Mcm3")}


def _nmos_stack(s, m, vsg3, cn):
    """op9's nmos cascode bias: vbn, bn (V) and the stack current (A),
    ``[B]`` each, where the triode MNR1 (gate at VDD, vbn down to bn = Vgs
    of the replica MNCM10) passes what MPCM34 sources at vbn."""
    vbn = np.linspace(0.05, s.vdd - 0.02, 32)[None, :] * np.ones((len(cn), 1))
    i6 = m["Mcm34"][:, None] * s.unit_current("cm3", vsg3, s.vdd - vbn, role=None)
    bn = s.gate_voltage("cm1", i6 / m["Mcm1"][:, None], cn)
    resistor = s.mos_current("nmos", s["Wr1"], s["Lr1"], s.vdd - bn, vbn - bn, -bn)
    k, t = _crossing(np.log(np.maximum(i6, 1e-18) / np.maximum(resistor, 1e-18)))
    return _at(vbn, k, t), _at(bn, k, t), _at(i6, k, t)


def _pmos_stack(s, m, vgs4, ps, bp):
    """op9's pmos cascode bias: vbp, bp, ps (V) ``[B]`` where MNCM44 sinks at
    vbp what flows down MPCM32 (gate bp), MPCM20 (gate vbp) and the triode
    MNR2 (gate at VDD, bp down to vbp); the replicas' Vds from the last
    pass (at least 0.1 V)."""
    vdd = s.vdd
    vbp = np.linspace(0.02, vdd - 0.05, 32)[None, :] * np.ones((len(ps), 1))
    i2 = m["Mcm44"][:, None] * s.unit_current("cm4", s.vgs["cm4"], vbp, role=None)
    vds32, vds20 = np.maximum(vdd - ps, 0.1), np.maximum(ps - bp, 0.1)
    bp_k = vdd - s.gate_voltage("cm3", i2 / m["Mcm32"][:, None], vds32)
    ps_k = vbp + s.gate_voltage("cm2", i2 / m["Mcm2"][:, None], vds20, vdd - ps)
    ps_k = np.minimum(ps_k, vdd)
    resistor = s.mos_current("nmos", s["Wr2"], s["Lr2"], vdd - vbp, bp_k - vbp, -vbp)
    k, t = _crossing(np.log(np.maximum(resistor, 1e-18) / np.maximum(i2, 1e-18)))
    return _at(vbp, k, t), _at(bp_k, k, t), _at(ps_k, k, t)


def op9(s) -> dict:
    """Self-biased folded cascode: from Mcm41 the tail i1, pmos-bias stack i2
    and pmos reference i3; from Mcm31 the top sources i5 and the nmos-bias
    stack i6; fold-branch multipliers 2 (GAC²E); MPCM32 as dense as the top
    sources.

    Node voltages come from the sized devices and the triode resistors
    (geometric actions): the pmos stack sets vbp (``_pmos_stack``), so fl =
    vbp + Vsg_cm2; the nmos stack sets vbn (``_nmos_stack``), so sl = vbn -
    Vgs_ls1; cl = Vgs_cm1; the tail and the branch current as in op8.
    """
    i0, vdd, md = s.constant("I0"), s.vdd, s.constant("Md1")
    m = s.mirror("Mcm41", Mcm43=s["i1"] / i0, Mcm44=s["i2"] / i0, Mcm42=s["i3"] / i0)
    ref = i0 / m["Mcm41"]
    i2, i3 = ref * m["Mcm44"], ref * m["Mcm42"]
    m |= s.mirror("Mcm31", Mcm33=s["i5"] / i3, Mcm34=s["i6"] / i3)
    i5 = i3 * m["Mcm33"] / m["Mcm31"]
    m["Mcm32"] = s.clip("Mcm32", i2 * m["Mcm33"] / i5)
    m |= {k: s.clip(k, s.full(2.0)) for k in ("Mcm1", "Mcm2", "Mls1")}
    out = dict(m)
    out["Wcm4"], out["Lcm4"] = s.diode("cm4", ref)
    vgs4 = s.vgs["cm4"]
    vsg3, vgs_dp, cl = s.full(vdd / 3), s.full(vdd / 3), s.full(vdd / 3)
    fl, sl, cn = s.full(0.8 * vdd), s.full(vdd / 8), s.full(vdd / 8)
    ps, bp = s.full(0.8 * vdd), s.full(0.6 * vdd)
    for first in [True] + [False] * (FOLD_PASSES - 1):
        i3 = m["Mcm42"] * s.unit_current("cm4", vgs4, vdd - vsg3, role="pmos ref")
        out["Wcm3"], out["Lcm3"] = s.diode("cm3", i3 / m["Mcm31"])
        vsg3 = s.vgs["cm3"]
        if first:
            tail_node, half = _tail_current(s, m["Mcm43"], vgs_dp, "cm4")
        else:
            tail_node, half = _tail_equilibrium(s, m["Mcm43"], "cm4", fl)
        headroom = np.maximum(vdd - fl, 0.02)  # a starved top source still conducts
        top = m["Mcm33"] * s.unit_current("cm3", vsg3, headroom, role="top")
        branch = _folded_branch(s, top, 2 * half)
        out["Wd1"], out["Ld1"] = s.size("dp1", half / md, fl - tail_node, -tail_node)
        vgs_dp = s.vgs["dp1"]
        out["Wcm1"], out["Lcm1"] = s.size("cm1", branch / m["Mcm1"], sl)
        cl = s.vgs["cm1"]
        out["Wls1"], out["Lls1"] = s.size("ls1", branch / m["Mls1"], cl - sl, -sl)
        out["Wcm2"], out["Lcm2"] = s.size("cm2", branch / m["Mcm2"], fl - cl, vdd - fl)
        vbn, bn, i6 = _nmos_stack(s, m, vsg3, cn)
        vgs_ls10 = s.gate_voltage("ls1", i6 / m["Mls1"], bn - cn, -cn)
        cn = np.maximum(vbn - vgs_ls10, 0.01)
        sl = np.maximum(vbn - s.vgs["ls1"], 0.0)
        vbp, bp, ps = _pmos_stack(s, m, vgs4, ps, bp)
        fl = np.clip(vbp + s.vgs["cm2"], cl, vdd)
    s.flag("wide swing", np.minimum(sl, vdd - fl) < 0.05, "op9: no wide-swing headroom")
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
"""The v0 sizing procedures by name; a circuit names its own in its YAML
(``electrical_space: op2``, ``sim.format.circuit.Circuit.electrical_space``)."""
