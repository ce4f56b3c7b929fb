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

    def diode(self, f):
        """Tie a fet's gate to its drain."""
        g = f.gate
        self.line(g, (g.x, f.drain.y), f.drain)

    def save(self, path):
        self.d.save(str(path), dpi=110)
