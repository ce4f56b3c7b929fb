"""Drawing helper shared by the op-amp schematics (``*/schematic.py``, schemdraw)."""

import matplotlib

matplotlib.use("Agg")
import schemdraw  # noqa: E402
import schemdraw.elements as elm  # noqa: E402


class Sheet:
    def __init__(self) -> None:
        self.d = schemdraw.Drawing(show=False)
        self.d.config(fontsize=9)

    def fet(self, kind, at, anchor, name, gate="left"):
        """nmos/pmos drawn vertically (pmos source on top), named beside it."""
        cls = elm.AnalogNFet if kind == "n" else elm.AnalogPFet
        e = cls().right().at(at).anchor(anchor)
        if gate == "left":
            e = e.reverse()
        f = self.d.add(e)
        dx = 0.3 if gate == "left" else -0.3
        self.d.add(
            elm.Label()
            .at((f.center.x + dx, f.center.y))
            .label(name, halign="left" if gate == "left" else "right", fontsize=7)
        )
        return f

    def line(self, *points):
        for a, b in zip(points, points[1:], strict=False):
            self.d.add(elm.Line().at(a).to(b))

    def dot(self, p):
        self.d.add(elm.Dot().at(p))

    def net(self, p, name, side="left", length=0.6):
        """A stub from p with a net name at its end."""
        x = p[0] - length if side == "left" else p[0] + length
        self.line(p, (x, p[1]))
        self.d.add(
            elm.Label()
            .at((x, p[1]))
            .label(name, halign="right" if side == "left" else "left", fontsize=8)
        )

    def vdd(self, p):
        self.d.add(elm.Vdd().at(p).label("vdd", fontsize=7))

    def gnd(self, p):
        self.d.add(elm.Ground().at(p))

    def pin(self, p, name, side):
        self.d.add(elm.Dot(open=True).at(p).label(name, loc=side))

    def gate_net(self, f, name, length=0.6):
        """A labelled stub leaving f's gate away from the device."""
        side = "left" if f.gate.x < f.center.x else "right"
        self.net(f.gate, name, side=side, length=length)

    def pair(self, kind, xs, y, anchor, names, gate_net=None):
        """Two mirrored fets at ``x = xs`` (gates facing out), each gate on
        the labelled net ``gate_net`` when given; returns (left, right)."""
        left = self.fet(kind, (xs[0], y), anchor, names[0])
        right = self.fet(kind, (xs[1], y), anchor, names[1], gate="right")
        if gate_net is not None:
            self.gate_net(left, gate_net)
            self.gate_net(right, gate_net)
        return left, right

    def diode(self, f):
        """Tie a fet's gate to its drain."""
        g = f.gate
        self.line(g, (g.x, f.drain.y), f.drain)

    def save(self, path):
        self.d.save(str(path), dpi=110)


def folded_cascode_core(
    s: Sheet,
    x: tuple[float, float, float],
    top: tuple[str, str],
    top_gate: str,
    pcas: tuple[str, str],
    ncas: tuple[str, str],
    tail_name: str,
    caption: str,
) -> None:
    """The core op8 and op9 share: pmos sources (``top``, gates on net
    ``top_gate``) over pmos (``pcas``, gates vbp) and nmos (``ncas``, gates vbn)
    cascodes over a wide-swing nmos mirror, folding branches at ``x = (xl, xr,
    xt)`` with the input pair and its tail (``tail_name``, gate nb) between
    them, and a caption. Device tuples are (left label, right label)."""
    xl, xr, xt = x
    tl, tr = s.pair("p", (xl, xr), 0, "source", top)
    for f in (tl, tr):
        s.vdd(f.source)
    s.gate_net(tl, top_gate)
    s.gate_net(tr, top_gate)
    y_fold = tl.drain.y - 0.6
    cl3, cr3 = s.pair("p", (xl, xr), y_fold - 0.6, "source", pcas, "vbp")
    s.line(tl.drain, cl3.source)
    s.line(tr.drain, cr3.source)
    y_mid = cl3.drain.y - 0.7
    cl2, cr2 = s.pair("n", (xl, xr), y_mid - 0.7, "drain", ncas, "vbn")
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
    # wide-swing mirror: bottom gates tied to cl (drain of the left nmos cascode)
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
    tail = s.fet("n", (xt, y_tail - 0.5), "drain", tail_name)
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
            f"{caption}; devices Wx/Lx as listed "
            "(one label per group), pair multiplier Md1 = 2; testbench load CL at out",
            fontsize=8,
        )
    )
