* st1: six-transistor CMOS Schmitt trigger (GAC²E's st1 names).
* Nodes: in, out, supply vdd, ground vss; internal nodes np (between the
* series pmos) and nn (between the series nmos).
* Inverting stack MP0-MP1-MN1-MN0 driven by in; the feedback devices are
* gated by out: MP2 pulls np towards vss while out is low, MN2 pulls nn
* towards vdd while out is high, which moves the switching threshold up on a
* rising input (v_ih) and down on a falling input (v_il).
MP0 np in vdd vdd pmos W={Wp0} L={Lch}
MP1 out in np vdd pmos W={Wp1} L={Lch}
MN1 out in nn vss nmos W={Wn1} L={Lch}
MN0 nn in vss vss nmos W={Wn0} L={Lch}
MP2 vss out np vdd pmos W={Wp2} L={Lch}
MN2 vdd out nn vss nmos W={Wn2} L={Lch}
