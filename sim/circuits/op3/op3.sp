* op3: un-symmetrical OTA (GAC²E naming). Nodes: inp inn out vdd nbias, ground vss.
* Bias: IREF into the diode MNCM11; the tail MNCM12 mirrors it (Mcm12:Mcm11).
* Pair: MND11 (gate inn, drain y), MND12 (gate inp, drain x), m = Md each.
* pmos loads: diodes MPCM211 (x) and MPCM221 (y), both m = Mcm2x1. MPCM212
* mirrors x to out (Mcm212:Mcm2x1); MPCM222 mirrors y into the nmos diode
* MNCM31 (node z, m = Mcm31), which MNCM32 (m = Mcm32) mirrors to out.
* The two sides' ratios are independent: the output branch is balanced when
* Mcm212 = Mcm222 * Mcm32 / Mcm31.
MNCM11 nbias nbias vss vss nmos W={Wcm1} L={Lcm1} m={Mcm11}
MNCM12 tail nbias vss vss nmos W={Wcm1} L={Lcm1} m={Mcm12}
MND11 y inn tail vss nmos W={Wd} L={Ld} m={Md}
MND12 x inp tail vss nmos W={Wd} L={Ld} m={Md}
MPCM211 x x vdd vdd pmos W={Wcm2} L={Lcm2} m={Mcm2x1}
MPCM212 out x vdd vdd pmos W={Wcm2} L={Lcm2} m={Mcm212}
MPCM221 y y vdd vdd pmos W={Wcm2} L={Lcm2} m={Mcm2x1}
MPCM222 z y vdd vdd pmos W={Wcm2} L={Lcm2} m={Mcm222}
MNCM31 z z vss vss nmos W={Wcm3} L={Lcm3} m={Mcm31}
MNCM32 out z vss vss nmos W={Wcm3} L={Lcm3} m={Mcm32}
IREF vdd nbias {I0}
