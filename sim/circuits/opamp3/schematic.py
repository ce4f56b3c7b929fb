"""Draw opamp3's schematic into schematic.png (needs schemdraw): python schematic.py

Signal path wired; a few nets (x1, vdd) drawn as labelled stubs.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _schematic import Sheet, elm  # noqa: E402


def main() -> None:
    s = Sheet()
    # ---- input stage ------------------------------------------------------
    idp = s.d.add(elm.SourceI().down().at((0, 0)).label("IDP", loc="top", fontsize=7))
    s.vdd((0, 0))
    b1 = s.fet("n", (0, -5.2), "drain", "MNDB1\nWdpb Ldpb\nm=Fdpb", gate="right")
    s.line(idp.end, b1.drain)
    s.diode(b1)
    s.gnd(b1.source)
    xl, xr = 4.5, 8.5
    l1t = s.fet("p", (xl, 0), "source", "MPL1T\nWpl Lpl\nm=MTOP")
    l2t = s.fet("p", (xr, 0), "source", "MPL2T\nm=MTOP", gate="right")
    l1b = s.fet("p", (xl, l1t.drain.y - 0.5), "source", "MPL1B\nm=2 Fpl")
    l2b = s.fet("p", (xr, l2t.drain.y - 0.5), "source", "MPL2B\nm=2 Fpl", gate="right")
    for f in (l1t, l2t):
        s.vdd(f.source)
    for f in (l1t, l2t, l1b, l2b):
        s.gate_net(f, "x1")
    s.line(l1t.drain, l1b.source)
    s.line(l2t.drain, l2b.source)
    y_vc = (l2t.drain.y + l2b.source.y) / 2
    s.d.add(
        elm.Label().at((xl + 0.2, y_vc + 0.25)).label("v1", halign="left", fontsize=8)
    )
    y_x = l1b.drain.y - 0.5
    d1 = s.fet("n", (xl, y_x - 0.5), "drain", "MND1\nWdp Ldp\nm=Fdp", gate="right")
    d2 = s.fet("n", (xr, y_x - 0.5), "drain", "MND2\nm=Fdp")
    s.line(l1b.drain, d1.drain)
    s.line(l2b.drain, d2.drain)
    s.dot((xl, y_x))
    s.net((xl, y_x), "x1", side="left", length=0.6)
    s.d.add(
        elm.Label().at((xr + 0.2, y_x + 0.25)).label("x2", halign="left", fontsize=8)
    )
    s.line(d1.gate, (d1.gate.x + 0.45, d1.gate.y))
    s.pin((d1.gate.x + 0.45, d1.gate.y), "inn", "bottom")
    s.line(d2.gate, (d2.gate.x - 0.45, d2.gate.y))
    s.pin((d2.gate.x - 0.45, d2.gate.y), "inp", "bottom")
    xt = (xl + xr) / 2
    y_tail = d1.source.y - 0.4
    s.line(d1.source, (xl, y_tail), (xr, y_tail), d2.source)
    b2 = s.fet("n", (xt, y_tail - 0.4), "drain", "MNDB2\nm=Fdpb")
    s.line((xt, y_tail), b2.drain)
    s.dot((xt, y_tail))
    s.gnd(b2.source)
    s.gate_net(b2, "dpb")
    s.gate_net(b1, "dpb")
    # ---- second stage -----------------------------------------------------
    x2s = 14.0
    cs = s.fet("p", (x2s, 0), "source", "MPCS\nWcs Lcs\nm=2 Fcs Mcs")
    s.vdd(cs.source)
    s.line(cs.gate, (cs.gate.x - 0.3, cs.gate.y), (cs.gate.x - 0.3, y_x), (xr, y_x))
    s.dot((xr, y_x))
    csb2 = s.fet(
        "n", (x2s, cs.drain.y - 2.4), "drain", "MNCSB2\nWcsb Lcsb\nm=2 Fcsb Mcsb"
    )
    s.line(cs.drain, csb2.drain)
    s.gnd(csb2.source)
    ics = s.d.add(
        elm.SourceI().down().at((28.5, 0)).label("ICS", loc="top", fontsize=7)
    )
    s.vdd((28.5, 0))
    csb1 = s.fet("n", (28.5, csb2.drain.y), "drain", "MNCSB1\nm=2 Fcsb", gate="right")
    s.line(ics.end, csb1.drain)
    s.diode(csb1)
    s.gnd(csb1.source)
    s.gate_net(csb2, "csb")
    s.gate_net(csb1, "csb")
    y_cso = cs.drain.y - 1.0
    s.dot((x2s, y_cso))
    s.d.add(
        elm.Label()
        .at((x2s + 0.2, y_cso + 0.25))
        .label("cso", halign="left", fontsize=8)
    )
    s.dot((xr, y_vc))
    s.net((xr, y_vc), "vc", side="right", length=0.6)
    # compensation branch, drawn apart: vc -- CC -- cc -- RC -- cso
    xc, yc = 10.5, -8.2
    s.net((xc, yc), "vc", side="left", length=0.6)
    cap = s.d.add(
        elm.Capacitor()
        .right()
        .at((xc, yc))
        .length(1.8)
        .label("CC = CMIM Wmim Lmim NCOL Rows", loc="bottom", fontsize=7)
    )
    res = s.d.add(
        elm.Resistor()
        .right()
        .at(cap.end)
        .length(2.4)
        .label("RC = RROUTE / Rmult", loc="top", fontsize=7)
    )
    s.net(res.end, "cso", side="right", length=0.6)
    # ---- output stage -----------------------------------------------------
    xo = 21.5
    fo = s.fet("n", (xo, 0), "drain", "MNOS\nWos Los\nm=Fos")
    s.vdd(fo.drain)
    s.line(
        fo.gate, (fo.gate.x - 0.4, fo.gate.y), (fo.gate.x - 0.4, y_cso), (x2s, y_cso)
    )
    y_out = fo.source.y - 0.8
    ob2 = s.fet("n", (xo, y_out - 0.8), "drain", "MNOSB2\nWosb Losb\nm=Fosb")
    s.line(fo.source, ob2.drain)
    s.gnd(ob2.source)
    ios = s.d.add(
        elm.SourceI().down().at((25.0, 0)).label("IOS", loc="top", fontsize=7)
    )
    s.vdd((25.0, 0))
    ob1 = s.fet("n", (25.0, ob2.drain.y), "drain", "MNOSB1\nm=Fosb", gate="right")
    s.line(ios.end, ob1.drain)
    s.diode(ob1)
    s.gnd(ob1.source)
    s.gate_net(ob2, "osb")
    s.gate_net(ob1, "osb")
    s.line((xo, y_out), (xo + 1.5, y_out))
    s.dot((xo, y_out))
    s.pin((xo + 1.5, y_out), "out", "right")
    s.d.add(
        elm.Label()
        .at((12, -10.0))
        .label(
            "opamp3: OpenFASOC two-stage op-amp with source-follower output; "
            "pmos bulks at vdd, nmos bulks at vss; testbench load CL at out",
            fontsize=8,
        )
    )
    s.save(Path(__file__).with_name("schematic.png"))


if __name__ == "__main__":
    main()
