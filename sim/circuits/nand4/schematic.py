"""Draw nand4's schematic into schematic.png (needs schemdraw): python schematic.py"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import schemdraw  # noqa: E402
import schemdraw.elements as elm  # noqa: E402

H = 5 / 3  # height of a schemdraw MOSFET (drain to source)


def inverter(d, x, k, wn, node_in, node_out):
    """One chain stage at x: pmos (source at y=0) over nmos; returns in/out points."""
    p = d.add(
        elm.AnalogPFet()
        .at((x, 0))
        .anchor("source")
        .reverse()
        .label(f"MP{k}\nWp", loc="bottom", fontsize=8)
    )
    n = d.add(
        elm.AnalogNFet()
        .at((x, -2 * H))
        .anchor("drain")
        .reverse()
        .label(f"MN{k}\n{wn}", loc="top", fontsize=8)
    )
    d.add(elm.Line().at(p.drain).to(n.drain))
    d.add(elm.Vdd().at(p.source).label("vdd", fontsize=8))
    d.add(elm.Ground().at(n.source).label("vss", loc="right", fontsize=8))
    gx = p.gate.x - 0.4
    d.add(elm.Line().at(p.gate).to((gx, p.gate.y)))
    d.add(elm.Line().at(n.gate).to((gx, n.gate.y)))
    d.add(elm.Line().at((gx, p.gate.y)).to((gx, n.gate.y)))
    mid_in = (gx, (p.gate.y + n.gate.y) / 2)
    mid_out = (x, -1.5 * H)
    d.add(elm.Dot().at(mid_in))
    d.add(elm.Dot().at(mid_out))
    return mid_in, mid_out


def main() -> None:
    d = schemdraw.Drawing(show=False)
    d.config(fontsize=9)
    names = ["in", "x1", "x2", "x3", "out"]
    previous_out = None
    for k in range(4):
        x = 4.0 * k
        a, b = inverter(d, x, k, f"Wn{k}", names[k], names[k + 1])
        if previous_out is None:
            d.add(elm.Line().at((a[0] - 0.8, a[1])).to(a))
            d.add(elm.Dot(open=True).at((a[0] - 0.8, a[1])).label("in", loc="left"))
        else:
            d.add(elm.Line().at(previous_out).to((previous_out[0], a[1])))
            d.add(elm.Line().at((previous_out[0], a[1])).to(a))
            d.add(
                elm.Label()
                .at(((previous_out[0] + a[0]) / 2, a[1] + 0.3))
                .label(names[k], fontsize=9)
            )
        previous_out = b
    d.add(elm.Line().at(previous_out).to((previous_out[0] + 1.0, previous_out[1])))
    d.add(
        elm.Dot(open=True)
        .at((previous_out[0] + 1.0, previous_out[1]))
        .label("out", loc="right")
    )
    d.add(
        elm.Label()
        .at((6.0, -6.6))
        .label("all lengths Lch; stage k: pmos width Wp, nmos width Wnk", fontsize=8)
    )
    d.save(str(Path(__file__).with_name("schematic.png")), dpi=120)


if __name__ == "__main__":
    main()
