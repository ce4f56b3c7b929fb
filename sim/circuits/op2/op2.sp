* op2: symmetrical OTA (GAC²E naming). Nodes: inp inn out vdd nbias, ground vss.
* Bias: IREF into the diode MNCM11; the tail MNCM12 mirrors it (Mcm12:Mcm11).
* The diff pair loads are pmos diodes MPCM211/MPCM221 mirrored with ratio
* Mcm22:Mcm21 to the output branch; MNCM31/MNCM32 fold one side to the output.
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
