* Two-stage Miller op-amp, PPAAS's two-stage amplifier (SeunggeunKimkr/PPAAS,
* two_stage_opamp_cont_gf180_tran_tttt.cir; AutoCkt's topology with
* continuous widths), written for this box. Nodes: inp, inn, out, vdd, vss.
* All lengths are Lu; the six widths and cc are the sizing parameters (device
* pairs share one width). IREF (Iref) flows from vdd into the nmos diode MN4;
* the tail MN3 and the output sink MN5 mirror it. First stage: nmos pair
* MN1 (gate inn) / MN2 (gate inp), bulks on their common source, loaded by
* the pmos mirror MP1 (diode) / MP2 (drain x). Second stage: pmos common
* source MP3 into MN5; CC from x to out. out is non-inverting in inp.
MP1 d1 d1 vdd vdd pmos W={wp1} L={Lu}
MP2 x d1 vdd vdd pmos W={wp1} L={Lu}
MN1 d1 inn tail tail nmos W={wn1} L={Lu}
MN2 x inp tail tail nmos W={wn1} L={Lu}
MN3 tail nb vss vss nmos W={wn3} L={Lu}
MN4 nb nb vss vss nmos W={wn4} L={Lu}
MP3 out x vdd vdd pmos W={wp3} L={Lu}
MN5 out nb vss vss nmos W={wn5} L={Lu}
CC x out {cc}
IREF vdd nb {Iref}
