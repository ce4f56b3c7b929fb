* GAC2E's op2, the symmetrical OTA (electronics-and-drives/gace, docs/op2.md;
* the library circuit sim/circuits/op2 is the same topology, sized the same
* way). Nodes: inp, inn, out, vdd, vss.
* Bias: I0 into the nmos diode MNCM11; the tail MNCM12 mirrors it
* (Mcm12:Mcm11). Pair MND11 (gate inn) / MND12 (gate inp) loaded by the pmos
* diodes MPCM211 / MPCM221, each mirrored Mcm22:Mcm21 into the output
* branch; MNCM31 (diode) / MNCM32 fold the x side to out.
MNCM11 nbias nbias vss vss nmos W={Wcm1} L={Lcm1} m={Mcm11}
MNCM12 tail nbias vss vss nmos W={Wcm1} L={Lcm1} m={Mcm12}
MND11 x inn tail vss nmos W={Wdp1} L={Ldp1} m={Md}
MND12 y inp tail vss nmos W={Wdp1} L={Ldp1} m={Md}
MPCM211 x x vdd vdd pmos W={Wcm2} L={Lcm2} m={Mcm21}
MPCM212 z x vdd vdd pmos W={Wcm2} L={Lcm2} m={Mcm22}
MPCM221 y y vdd vdd pmos W={Wcm2} L={Lcm2} m={Mcm21}
MPCM222 out y vdd vdd pmos W={Wcm2} L={Lcm2} m={Mcm22}
MNCM31 z z vss vss nmos W={Wcm3} L={Lcm3} m={Mcm31}
MNCM32 out z vss vss nmos W={Wcm3} L={Lcm3} m={Mcm32}
IREF vdd nbias {I0}
