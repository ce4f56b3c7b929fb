"""Draw st1's schematic into schematic.png (needs schemdraw): python schematic.py"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import schemdraw  # noqa: E402
import schemdraw.elements as elm  # noqa: E402


def fet(d, kind, at, anchor, name):
    """A MOSFET drawn downwards with its gate on the left, named on its right."""
    cls = elm.AnalogNFet if kind == "n" else elm.AnalogPFet
    f = d.add(cls().right().reverse().at(at).anchor(anchor))
    d.add(
        elm.Label()
        .at((f.center.x + 0.3, f.center.y))
        .label(name, halign="left", fontsize=8)
    )
    return f


def line(d, *points):
    for a, b in zip(points, points[1:], strict=False):
        d.add(elm.Line().at(a).to(b))


def main() -> None:
    d = schemdraw.Drawing(show=False)
    d.config(fontsize=9)
    gap = 1.0
    mp0 = fet(d, "p", (0, 0), "source", "MP0\nWp0")
    mp1 = fet(d, "p", (0, mp0.drain.y - gap), "source", "MP1\nWp1")
    y_out = mp1.drain.y - gap
    mn1 = fet(d, "n", (0, y_out - gap), "drain", "MN1\nWn1")
    mn0 = fet(d, "n", (0, mn1.source.y - gap), "drain", "MN0\nWn0")
    line(d, mp0.drain, mp1.source)
    line(d, mp1.drain, mn1.drain)
    line(d, mn1.source, mn0.drain)
    y_np = (mp0.drain.y + mp1.source.y) / 2
    y_nn = (mn1.source.y + mn0.drain.y) / 2
    d.add(elm.Vdd().at(mp0.source).label("vdd", fontsize=8))
    d.add(elm.Ground().at(mn0.source).label("vss", loc="right", fontsize=8))
    gx = -1.6
    for f in (mp0, mp1, mn1, mn0):
        line(d, f.gate, (gx, f.gate.y))
    line(d, (gx, mp0.gate.y), (gx, mn0.gate.y))
    line(d, (gx, y_out), (gx - 0.8, y_out))
    d.add(elm.Dot().at((gx, y_out)))
    d.add(elm.Dot(open=True).at((gx - 0.8, y_out)).label("in", loc="left"))
    # feedback devices, gated by out
    xf = 4.0
    mp2 = fet(d, "p", (xf, y_np), "source", "MP2\nWp2")
    line(d, (0, y_np), mp2.source)
    d.add(elm.Dot().at((0, y_np)))
    d.add(elm.Ground().at(mp2.drain).label("vss", loc="right", fontsize=8))
    mn2 = fet(d, "n", (xf, y_nn), "source", "MN2\nWn2")
    line(d, (0, y_nn), mn2.source)
    d.add(elm.Dot().at((0, y_nn)))
    d.add(elm.Vdd().at(mn2.drain).label("vdd", fontsize=8))
    fx = xf - 1.6
    line(d, mp2.gate, (fx, mp2.gate.y), (fx, mn2.gate.y), mn2.gate)
    line(d, (0, y_out), (xf + 2.2, y_out))
    d.add(elm.Dot().at((fx, y_out)))
    d.add(elm.Dot().at((0, y_out)))
    d.add(elm.Dot(open=True).at((xf + 2.2, y_out)).label("out", loc="right"))
    d.add(elm.Label().at((-0.35, y_np + 0.3)).label("np", fontsize=8))
    d.add(elm.Label().at((-0.35, y_nn + 0.3)).label("nn", fontsize=8))
    d.add(
        elm.Label()
        .at((2.0, mn0.source.y - 1.8))
        .label("all lengths Lch; the testbenches load out with CL", fontsize=8)
    )
    d.save(str(Path(__file__).with_name("schematic.png")), dpi=120)


if __name__ == "__main__":
    main()
