"""Draw op9's schematic into schematic.png (needs schemdraw): python schematic.py

Signal path wired; bias nets (nb, pt, vbn, vbp) drawn as labelled stubs.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _schematic import Sheet, elm  # noqa: E402


def main() -> None:
    s = Sheet()
    # ---- bias ---------------------------------------------------------------
    iref = s.d.add(
        elm.SourceI().down().at((0, 0)).label("IREF\nI0", loc="top", fontsize=7)
    )
    s.vdd((0, 0))
    m41 = s.fet("n", iref.end, "drain", "MNCM41\nWcm4 Lcm4\nm=Mcm41", gate="right")
    s.diode(m41)
    s.gnd(m41.source)
    s.dot(iref.end)
    s.net(iref.end, "nb", side="left", length=0.5)
    m31 = s.fet("p", (3.4, 0), "source", "MPCM31\nWcm3 Lcm3\nm=Mcm31", gate="right")
    s.vdd(m31.source)
    s.diode(m31)
    s.gate_net(m31, "pt")
    m42 = s.fet("n", (3.4, m31.drain.y - 0.8), "drain", "MNCM42\nm=Mcm42")
    s.line(m31.drain, m42.drain)
    s.gate_net(m42, "nb")
    s.gnd(m42.source)
    # pmos cascode-bias stack: MPCM32 / MPCM20 / MNR2 / MNCM44
    m32 = s.fet("p", (7.6, 0), "source", "MPCM32\nm=Mcm32")
    s.vdd(m32.source)
    m20 = s.fet("p", (7.6, m32.drain.y - 0.5), "source", "MPCM20\nWcm2 Lcm2\nm=Mcm2")
    s.line(m32.drain, m20.source)
    y_bp = m20.drain.y - 0.5
    r2 = s.fet("n", (7.6, y_bp - 0.4), "drain", "MNR2\nWr2 Lr2")
    s.line(m20.drain, r2.drain)
    s.gate_net(r2, "vdd")
    s.gate_net(m32, "bp")
    s.dot((7.6, y_bp))
    s.net((7.6, y_bp), "bp", side="right", length=0.6)
    y_vbp = r2.source.y - 0.5
    m44 = s.fet("n", (7.6, y_vbp - 0.4), "drain", "MNCM44\nm=Mcm44")
    s.line(r2.source, m44.drain)
    s.gate_net(m44, "nb")
    s.gnd(m44.source)
    s.gate_net(m20, "vbp")
    s.dot((7.6, y_vbp))
    s.net((7.6, y_vbp), "vbp", side="right", length=0.6)
    # nmos cascode-bias stack: MPCM34 / MNR1 / MNLS10 / MNCM10
    m34 = s.fet("p", (12.2, 0), "source", "MPCM34\nm=Mcm34")
    s.vdd(m34.source)
    s.gate_net(m34, "pt")
    y_vbn = m34.drain.y - 0.5
    r1 = s.fet("n", (12.2, y_vbn - 0.4), "drain", "MNR1\nWr1 Lr1")
    s.line(m34.drain, r1.drain)
    s.gate_net(r1, "vdd")
    s.dot((12.2, y_vbn))
    s.net((12.2, y_vbn), "vbn", side="right", length=0.6)
    y_bn = r1.source.y - 0.5
    l10 = s.fet("n", (12.2, y_bn - 0.4), "drain", "MNLS10\nWls1 Lls1\nm=Mls1")
    s.line(r1.source, l10.drain)
    s.gate_net(l10, "vbn")
    c10 = s.fet("n", (12.2, l10.source.y - 0.5), "drain", "MNCM10\nWcm1 Lcm1\nm=Mcm1")
    s.line(l10.source, c10.drain)
    s.gnd(c10.source)
    s.gate_net(c10, "bn")
    s.dot((12.2, y_bn))
    s.net((12.2, y_bn), "bn", side="right", length=0.6)
    # ---- core: folding branches at xl / xr, pair in between ------------------
    xl, xr, xt = 18.0, 29.0, 23.5
    tl = s.fet("p", (xl, 0), "source", "MPCM331\nWcm3 Lcm3\nm=Mcm33")
    tr = s.fet("p", (xr, 0), "source", "MPCM332\nm=Mcm33", gate="right")
    for f in (tl, tr):
        s.vdd(f.source)
    s.gate_net(tl, "pt")
    s.gate_net(tr, "pt")
    y_fold = tl.drain.y - 0.6
    cl3 = s.fet("p", (xl, y_fold - 0.6), "source", "MPCM21\nWcm2 Lcm2\nm=Mcm2")
    cr3 = s.fet("p", (xr, y_fold - 0.6), "source", "MPCM22\nm=Mcm2", gate="right")
    s.gate_net(cl3, "vbp")
    s.gate_net(cr3, "vbp")
    s.line(tl.drain, cl3.source)
    s.line(tr.drain, cr3.source)
    y_mid = cl3.drain.y - 0.7
    cl2 = s.fet("n", (xl, y_mid - 0.7), "drain", "MNLS11\nWls1 Lls1\nm=Mls1")
    cr2 = s.fet("n", (xr, y_mid - 0.7), "drain", "MNLS12\nm=Mls1", gate="right")
    s.gate_net(cl2, "vbn")
    s.gate_net(cr2, "vbn")
    s.line(cl3.drain, cl2.drain)
    s.line(cr3.drain, cr2.drain)
    bl = s.fet(
        "n",
        (xl, cl2.source.y - 0.6),
        "drain",
        "MNCM11\nWcm1 Lcm1\nm=Mcm1",
        gate="right",
    )
    br = s.fet("n", (xr, cr2.source.y - 0.6), "drain", "MNCM12\nm=Mcm1")
    s.line(cl2.source, bl.drain)
    s.line(cr2.source, br.drain)
    s.gnd(bl.source)
    s.gnd(br.source)
    # wide-swing mirror: bottom gates tied to cl (drain of MNCM21)
    yg = bl.gate.y
    s.line(bl.gate, br.gate)
    s.dot((xt, yg))
    s.line((xt, yg), (xt, yg - 0.5))
    s.d.add(elm.Label().at((xt, yg - 0.75)).label("cl", fontsize=8))
    s.net((xl, y_mid), "cl", side="right", length=0.5)
    # output
    s.line((xr, y_mid), (xr + 2.2, y_mid))
    s.dot((xr, y_mid))
    s.pin((xr + 2.2, y_mid), "out", "right")
    # input pair hanging from the folding nodes
    pl = s.fet("n", (xt - 1.4, y_fold - 0.6), "drain", "MND11\nWd1 Ld1\nm=Md1")
    pr = s.fet("n", (xt + 1.4, y_fold - 0.6), "drain", "MND12\nm=Md1", gate="right")
    s.line((xl, y_fold), (pl.drain.x, y_fold), pl.drain)
    s.line((xr, y_fold), (pr.drain.x, y_fold), pr.drain)
    s.dot((xl, y_fold))
    s.dot((xr, y_fold))
    s.d.add(elm.Label().at((xl + 0.5, y_fold + 0.25)).label("fl", fontsize=8))
    s.d.add(elm.Label().at((xr - 0.5, y_fold + 0.25)).label("fr", fontsize=8))
    s.line(pl.gate, (pl.gate.x - 0.5, pl.gate.y))
    s.pin((pl.gate.x - 0.5, pl.gate.y), "inp", "left")
    s.line(pr.gate, (pr.gate.x + 0.5, pr.gate.y))
    s.pin((pr.gate.x + 0.5, pr.gate.y), "inn", "right")
    y_tail = pl.source.y - 0.4
    s.line(pl.source, (pl.source.x, y_tail), (pr.source.x, y_tail), pr.source)
    tail = s.fet("n", (xt, y_tail - 0.5), "drain", "MNCM43\nm=Mcm43")
    s.line((xt, y_tail), tail.drain)
    s.dot((xt, y_tail))
    s.d.add(
        elm.Label()
        .at((xt + 0.2, y_tail + 0.25))
        .label("tail", halign="left", fontsize=8)
    )
    s.gate_net(tail, "nb")
    s.gnd(tail.source)
    s.d.add(
        elm.Label()
        .at((12, br.source.y - 1.6))
        .label(
            "op9: folded cascode with self-biased wide-swing cascode mirrors; "
            "devices Wx/Lx as listed "
            "(one label per group), pair multiplier Md1 = 2; testbench load CL at out",
            fontsize=8,
        )
    )
    s.save(Path(__file__).with_name("schematic.png"))


if __name__ == "__main__":
    main()
