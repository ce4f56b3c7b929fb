* op4: symmetrical OTA with pmos cascodes (GAC²E naming).
* Nodes: inp inn out vdd nbias, ground vss; internal x y v w z r tail.
* Bias: IREF into the diode MNCM11. MNCM13 mirrors it to the tail
* (Mcm13:Mcm11), MNCM12 into the pmos diode MPC1R (Mcm12:Mcm11), whose gate
* voltage r biases both cascodes.
* Pair: MND11 (gate inn, drain y), MND12 (gate inp, drain x), m = Md each.
* pmos mirrors, ratio Mcm22:Mcm21 on both sides: MPCM221 (diode y) ->
* MPCM222 (drain v), MPCM211 (diode x) -> MPCM212 (drain w). Cascodes
* MPC12 (v -> z) and MPC11 (w -> out), m = Mc1. MNCM31 (diode z) mirrors the
* y-side current to out through MNCM32.
MNCM11 nbias nbias vss vss nmos W={Wcm1} L={Lcm1} m={Mcm11}
MNCM12 r nbias vss vss nmos W={Wcm1} L={Lcm1} m={Mcm12}
MNCM13 tail nbias vss vss nmos W={Wcm1} L={Lcm1} m={Mcm13}
MPC1R r r vdd vdd pmos W={Wr} L={Lr}
MND11 y inn tail vss nmos W={Wd} L={Ld} m={Md}
MND12 x inp tail vss nmos W={Wd} L={Ld} m={Md}
MPCM211 x x vdd vdd pmos W={Wcm2} L={Lcm2} m={Mcm21}
MPCM212 w x vdd vdd pmos W={Wcm2} L={Lcm2} m={Mcm22}
MPCM221 y y vdd vdd pmos W={Wcm2} L={Lcm2} m={Mcm21}
MPCM222 v y vdd vdd pmos W={Wcm2} L={Lcm2} m={Mcm22}
MPC11 out r w vdd pmos W={Wc1} L={Lc1} m={Mc1}
MPC12 z r v vdd pmos W={Wc1} L={Lc1} m={Mc1}
MNCM31 z z vss vss nmos W={Wcm3} L={Lcm3} m={Mcm31}
MNCM32 out z vss vss nmos W={Wcm3} L={Lcm3} m={Mcm32}
IREF vdd nbias {I0}
