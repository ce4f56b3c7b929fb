"""Draw op8's schematic into schematic.png (needs schemdraw): python schematic.py

Signal path wired; bias nets (nb, pb, vbn, vbp) drawn as labelled stubs.
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
    m51 = s.fet("n", iref.end, "drain", "MNCM51\nWcm5 Lcm5\nm=Mcm51", gate="right")
    s.diode(m51)
    s.gnd(m51.source)
    s.dot(iref.end)
    s.net(iref.end, "nb", side="left", length=0.5)
    m41 = s.fet("p", (3.4, 0), "source", "MPCM41\nWcm4 Lcm4\nm=Mcm41", gate="right")
    s.vdd(m41.source)
    s.diode(m41)
    s.gate_net(m41, "pb")
    m521 = s.fet("n", (3.4, m41.drain.y - 0.8), "drain", "MNCM521\nm=Mcm52")
    s.line(m41.drain, m521.drain)
    s.gate_net(m521, "nb")
    s.gnd(m521.source)
    m43 = s.fet("p", (7.6, 0), "source", "MPCM43\nm=Mcm43")
    s.vdd(m43.source)
    s.gate_net(m43, "pb")
    cb2 = s.fet(
        "n", (7.6, m43.drain.y - 0.8), "drain", "MNCB2\nWcm2 Lcm2", gate="right"
    )
    s.line(m43.drain, cb2.drain)
    s.diode(cb2)
    s.gnd(cb2.source)
    s.net((7.6, m43.drain.y - 0.4), "vbn", side="left", length=0.9)
    cb3 = s.fet("p", (11.2, 0), "source", "MPCB3\nWcm3 Lcm3", gate="right")
    s.vdd(cb3.source)
    s.diode(cb3)
    m522 = s.fet("n", (11.2, cb3.drain.y - 0.8), "drain", "MNCM522\nm=Mcm52")
    s.line(cb3.drain, m522.drain)
    s.gate_net(m522, "nb")
    s.gnd(m522.source)
    s.net((11.2, cb3.drain.y - 0.4), "vbp", side="left", length=0.9)
    # ---- core: folding branches at xl / xr, pair in between ------------------
    xl, xr, xt = 16.0, 27.0, 21.5
    tl = s.fet("p", (xl, 0), "source", "MPCM421\nWcm4 Lcm4\nm=Mcm42")
    tr = s.fet("p", (xr, 0), "source", "MPCM422\nm=Mcm42", gate="right")
    for f in (tl, tr):
        s.vdd(f.source)
    s.gate_net(tl, "pb")
    s.gate_net(tr, "pb")
    y_fold = tl.drain.y - 0.6
    cl3 = s.fet("p", (xl, y_fold - 0.6), "source", "MPCM31\nWcm3 Lcm3\nm=Mcm3")
    cr3 = s.fet("p", (xr, y_fold - 0.6), "source", "MPCM32\nm=Mcm3", gate="right")
    s.gate_net(cl3, "vbp")
    s.gate_net(cr3, "vbp")
    s.line(tl.drain, cl3.source)
    s.line(tr.drain, cr3.source)
    y_mid = cl3.drain.y - 0.7
    cl2 = s.fet("n", (xl, y_mid - 0.7), "drain", "MNCM21\nWcm2 Lcm2\nm=Mcm2")
    cr2 = s.fet("n", (xr, y_mid - 0.7), "drain", "MNCM22\nm=Mcm2", gate="right")
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
    tail = s.fet("n", (xt, y_tail - 0.5), "drain", "MNCM53\nm=Mcm53")
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
            "op8: folded cascode with wide-swing cascode mirror; "
            "devices Wx/Lx as listed "
            "(one label per group), pair multiplier Md1 = 2; testbench load CL at out",
            fontsize=8,
        )
    )
    s.save(Path(__file__).with_name("schematic.png"))


if __name__ == "__main__":
    main()
