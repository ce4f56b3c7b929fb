* twostage: two-stage Miller op-amp sized by device multipliers (AutoCkt-style,
* AutoCkt's device names). Nodes: inp inn out vdd nbias, ground vss.
* Every transistor is the same unit device (Wunit x Lunit); the sizing
* parameters are multipliers. Bias: the constant current IBIAS flows into the
* nmos diode MN4; MN3 (tail) and MN5 (second-stage sink) mirror it with ratios
* mn3:mn4 and mn5:mn4. First stage: nmos pair MN1/MN2 (m = mn1) with pmos
* mirror load MP1 (diode) / MP2 (m = mp1). Second stage: pmos common source
* MP3 (m = mp3) loaded by MN5. Miller capacitor CC (value cc) from the
* first-stage output x to out. inp drives MN2 (the x side): out is
* non-inverting in inp. Bulks go to the rails (AutoCkt ties the pair's bulk to
* its source; here it is tied to ground as in a plain p-substrate process).
MN4 nbias nbias vss vss nmos W={Wunit} L={Lunit} m={mn4}
MN3 tail nbias vss vss nmos W={Wunit} L={Lunit} m={mn3}
MN5 out nbias vss vss nmos W={Wunit} L={Lunit} m={mn5}
MN1 y inn tail vss nmos W={Wunit} L={Lunit} m={mn1}
MN2 x inp tail vss nmos W={Wunit} L={Lunit} m={mn1}
MP1 y y vdd vdd pmos W={Wunit} L={Lunit} m={mp1}
MP2 x y vdd vdd pmos W={Wunit} L={Lunit} m={mp1}
MP3 out x vdd vdd pmos W={Wunit} L={Lunit} m={mp3}
CC x out {cc}
IBIAS vdd nbias {Ibias}
