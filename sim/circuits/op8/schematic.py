"""Draw op8's schematic into schematic.png (needs schemdraw): python schematic.py

Signal path wired; bias nets (nb, pb, vbn, vbp) drawn as labelled stubs.
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
    folded_cascode_core(
        s,
        (16.0, 27.0, 21.5),
        ("MPCM421\nWcm4 Lcm4\nm=Mcm42", "MPCM422\nm=Mcm42"),
        "pb",
        ("MPCM31\nWcm3 Lcm3\nm=Mcm3", "MPCM32\nm=Mcm3"),
        ("MNCM21\nWcm2 Lcm2\nm=Mcm2", "MNCM22\nm=Mcm2"),
        "MNCM53\nm=Mcm53",
        "op8: folded cascode with wide-swing cascode mirror",
    )
    s.save(Path(__file__).with_name("schematic.png"))


if __name__ == "__main__":
    main()
