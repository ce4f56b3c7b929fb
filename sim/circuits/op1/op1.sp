* op1: Miller two-stage amplifier with Rc-Cc compensation (GAC²E naming).
* Nodes: inp inn out vdd nbias, ground vss.
* Bias: IREF into the diode MNCM11; MNCM12 mirrors it to the tail
* (Mcm12:Mcm11) and MNCM13 to the second-stage sink (Mcm13:Mcm11).
* First stage: nmos pair MND11/MND12, pmos mirror load MPCM21 (diode, y side)
* and MPCM22 (output side, node x). Second stage: pmos common source MPCS1
* driven from x, loaded by MNCM13. Miller compensation Rc in series with Cc
* from x to out. inp drives MND12 (the x side), so out is non-inverting in inp.
MNCM11 nbias nbias vss vss nmos W={Wcm1} L={Lcm1} m={Mcm11}
MNCM12 tail nbias vss vss nmos W={Wcm1} L={Lcm1} m={Mcm12}
MNCM13 out nbias vss vss nmos W={Wcm1} L={Lcm1} m={Mcm13}
MND11 y inn tail vss nmos W={Wd} L={Ld} m={Md}
MND12 x inp tail vss nmos W={Wd} L={Ld} m={Md}
MPCM21 y y vdd vdd pmos W={Wcm2} L={Lcm2} m={Mcm21}
MPCM22 x y vdd vdd pmos W={Wcm2} L={Lcm2} m={Mcm22}
MPCS1 out x vdd vdd pmos W={Wcs} L={Lcs} m={Mcs}
RC x zc {Rc}
CC zc out {Cc}
IREF vdd nbias {I0}
