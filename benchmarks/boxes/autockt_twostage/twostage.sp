* Two-stage Miller op-amp, AutoCkt's topology (ksettaluri6/AutoCkt,
* two_stage_opamp.cir), written for this box. Nodes: inp, inn, out, vdd, vss.
* Every transistor is the unit device Wu x Lu; mp1, mn1, mp3, mn3, mn4, mn5
* are multipliers (device pairs share one). Bias: IREF (Iref) flows from vdd
* into the nmos diode MN4; the tail MN3 and the output sink MN5 mirror it.
* First stage: nmos pair MN1 (gate inn) / MN2 (gate inp) with bulks on their
* common source, loaded by the pmos mirror MP1 (diode, drain d1) / MP2 (drain
* x). Second stage: pmos common source MP3 (gate x) into MN5. CC from x to
* out. out is non-inverting in inp.
MP1 d1 d1 vdd vdd pmos W={Wu} L={Lu} m={mp1}
MP2 x d1 vdd vdd pmos W={Wu} L={Lu} m={mp1}
MN1 d1 inn tail tail nmos W={Wu} L={Lu} m={mn1}
MN2 x inp tail tail nmos W={Wu} L={Lu} m={mn1}
MN3 tail nb vss vss nmos W={Wu} L={Lu} m={mn3}
MN4 nb nb vss vss nmos W={Wu} L={Lu} m={mn4}
MP3 out x vdd vdd pmos W={Wu} L={Lu} m={mp3}
MN5 out nb vss vss nmos W={Wu} L={Lu} m={mn5}
CC x out {cc}
IREF vdd nb {Iref}
