"""Draw op9's schematic into schematic.png (needs schemdraw): python schematic.py

Signal path wired; bias nets (nb, pt, vbn, vbp) drawn as labelled stubs.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _schematic import Sheet, elm, folded_cascode_core  # noqa: E402


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
    folded_cascode_core(
        s,
        (18.0, 29.0, 23.5),
        ("MPCM331\nWcm3 Lcm3\nm=Mcm33", "MPCM332\nm=Mcm33"),
        "pt",
        ("MPCM21\nWcm2 Lcm2\nm=Mcm2", "MPCM22\nm=Mcm2"),
        ("MNLS11\nWls1 Lls1\nm=Mls1", "MNLS12\nm=Mls1"),
        "MNCM43\nm=Mcm43",
        "op9: folded cascode with self-biased wide-swing cascode mirrors",
    )
    s.save(Path(__file__).with_name("schematic.png"))


if __name__ == "__main__":
    main()
