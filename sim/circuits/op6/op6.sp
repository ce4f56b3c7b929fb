* op6: Miller two-stage amplifier compensated by devices only (GAC²E naming).
* Nodes: inp inn out vdd nbias, ground vss; internal x y c tail.
* Bias: IREF into the diode MNCM11; MNCM12 mirrors it to the tail
* (Mcm12:Mcm11) and MNCM13 to the second-stage sink (Mcm13:Mcm11).
* First stage: nmos pair MND11 (gate inn, drain y) / MND12 (gate inp, drain x),
* pmos mirror MPCM21 (diode, y) -> MPCM22 (x). Second stage: pmos common
* source MPCS driven from x, loaded by MNCM13.
* Compensation from x to out: a triode MOS resistor between x and c (MPR1,
* gate at vss, in parallel with MNR1, gate at vdd: a transmission gate that
* conducts over the whole range of v(x)), then the pmos MOS capacitor MPC1
* (gate c; drain, source and n-well at out).
MNCM11 nbias nbias vss vss nmos W={Wcm1} L={Lcm1} m={Mcm11}
MNCM12 tail nbias vss vss nmos W={Wcm1} L={Lcm1} m={Mcm12}
MNCM13 out nbias vss vss nmos W={Wcm1} L={Lcm1} m={Mcm13}
MND11 y inn tail vss nmos W={Wd} L={Ld} m={Md}
MND12 x inp tail vss nmos W={Wd} L={Ld} m={Md}
MPCM21 y y vdd vdd pmos W={Wcm2} L={Lcm2} m={Mcm21}
MPCM22 x y vdd vdd pmos W={Wcm2} L={Lcm2} m={Mcm22}
MPCS out x vdd vdd pmos W={Wcs} L={Lcs} m={Mcs}
MPR1 x vss c vdd pmos W={Wr1} L={Lr1} m={Mr1}
MNR1 x vdd c vss nmos W={Wr1} L={Lr1} m={Mr1}
MPC1 out c out out pmos W={Wc1} L={Lc1} m={Mc1}
IREF vdd nbias {I0}
