* op5: un-symmetrical OTA with pmos cascodes (GAC²E naming).
* Nodes: inp inn out vdd nbias, ground vss; internal x y v w z r tail.
* Bias: IREF into the diode MNCM11. MNCM13 mirrors it to the tail
* (Mcm13:Mcm11), MNCM12 into the pmos diode MPC1R (Mcm12:Mcm11), whose gate
* voltage r biases both cascodes.
* Pair: MND11 (gate inn, drain y), MND12 (gate inp, drain x), m = Md each.
* pmos diodes MPCM211 (x) and MPCM221 (y), m = Mcm2x1. MPCM212 (m = Mcm212)
* and its cascode MPC11 (m = Mc11) carry the x-side current to out; MPCM222
* (m = Mcm222) and its cascode MPC12 (m = Mc12) carry the y-side current into
* the nmos diode MNCM31 (node z, m = Mcm31), mirrored to out by MNCM32
* (m = Mcm32). Balanced when Mcm212 = Mcm222 * Mcm32 / Mcm31.
MNCM11 nbias nbias vss vss nmos W={Wcm1} L={Lcm1} m={Mcm11}
MNCM12 r nbias vss vss nmos W={Wcm1} L={Lcm1} m={Mcm12}
MNCM13 tail nbias vss vss nmos W={Wcm1} L={Lcm1} m={Mcm13}
MPC1R r r vdd vdd pmos W={Wr} L={Lr}
MND11 y inn tail vss nmos W={Wd} L={Ld} m={Md}
MND12 x inp tail vss nmos W={Wd} L={Ld} m={Md}
MPCM211 x x vdd vdd pmos W={Wcm2} L={Lcm2} m={Mcm2x1}
MPCM212 w x vdd vdd pmos W={Wcm2} L={Lcm2} m={Mcm212}
MPCM221 y y vdd vdd pmos W={Wcm2} L={Lcm2} m={Mcm2x1}
MPCM222 v y vdd vdd pmos W={Wcm2} L={Lcm2} m={Mcm222}
MPC11 out r w vdd pmos W={Wc1} L={Lc1} m={Mc11}
MPC12 z r v vdd pmos W={Wc1} L={Lc1} m={Mc12}
MNCM31 z z vss vss nmos W={Wcm3} L={Lcm3} m={Mcm31}
MNCM32 out z vss vss nmos W={Wcm3} L={Lcm3} m={Mcm32}
IREF vdd nbias {I0}
