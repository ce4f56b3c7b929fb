* nand4: four-stage CMOS inverter chain (GAC²E's nand4 sizing names).
* Nodes: in -> x1 -> x2 -> x3 -> out, supply vdd, ground vss.
* Every stage is an inverter; all four pmos share the width Wp, stage k's
* nmos has the width Wnk. All devices have the length Ln / Lp (constants).
MP0 x1 in vdd vdd pmos W={Wp} L={Lch}
MN0 x1 in vss vss nmos W={Wn0} L={Lch}
MP1 x2 x1 vdd vdd pmos W={Wp} L={Lch}
MN1 x2 x1 vss vss nmos W={Wn1} L={Lch}
MP2 x3 x2 vdd vdd pmos W={Wp} L={Lch}
MN2 x3 x2 vss vss nmos W={Wn2} L={Lch}
MP3 out x3 vdd vdd pmos W={Wp} L={Lch}
MN3 out x3 vss vss nmos W={Wn3} L={Lch}
