* op9: folded-cascode OTA with self-biased wide-swing cascode current mirrors
* (GAC²E's op9 sizing names). Nodes: inp inn out vdd vss; internal: nb (nmos
* bias), pt (top-source gates), vbp/bp/ps (pmos cascode bias stack), vbn/bn/cn
* (nmos cascode bias stack), tail, fl fr (folding nodes), cl (mirror input),
* sl sr (mirror sources).
* nmos bank (Wcm4/Lcm4): IREF into the diode MNCM41; MNCM43 is the tail,
* MNCM42 feeds the pmos diode MPCM31, MNCM44 feeds the pmos cascode-bias
* stack. pmos bank (Wcm3/Lcm3): MPCM31 (diode) sets pt; MPCM331/MPCM332 are
* the two top sources (Mcm33:Mcm31); MPCM34 feeds the nmos cascode-bias stack.
IREF vdd nb {I0}
MNCM41 nb nb vss vss nmos W={Wcm4} L={Lcm4} m={Mcm41}
MNCM43 tail nb vss vss nmos W={Wcm4} L={Lcm4} m={Mcm43}
MNCM42 pt nb vss vss nmos W={Wcm4} L={Lcm4} m={Mcm42}
MNCM44 vbp nb vss vss nmos W={Wcm4} L={Lcm4} m={Mcm44}
MPCM31 pt pt vdd vdd pmos W={Wcm3} L={Lcm3} m={Mcm31}
MPCM331 fl pt vdd vdd pmos W={Wcm3} L={Lcm3} m={Mcm33}
MPCM332 fr pt vdd vdd pmos W={Wcm3} L={Lcm3} m={Mcm33}
MPCM34 vbn pt vdd vdd pmos W={Wcm3} L={Lcm3} m={Mcm34}
* pmos cascode bias (self-biased, wide swing): the current of MNCM44 flows
* through MPCM32 (a top-source replica), MPCM20 (a cascode replica) and the
* triode nmos MNR2 (gate at vdd), so vbp sits I*R(MNR2) below bp, the gate
* of MPCM32; the top sources keep about I*R of drain-source voltage. (GAC²E
* uses a pmos here; a pmos with its gate at vss is off at these node
* voltages on sky130, |Vth| ~ 1 V, so this resistor is an nmos.)
MPCM32 ps bp vdd vdd pmos W={Wcm3} L={Lcm3} m={Mcm32}
MPCM20 bp vbp ps vdd pmos W={Wcm2} L={Lcm2} m={Mcm2}
MNR2 bp vdd vbp vss nmos W={Wr2} L={Lr2}
* nmos cascode bias (self-biased, wide swing): the current of MPCM34 flows
* through the triode nmos MNR1 (gate at vdd), the cascode replica MNLS10 and
* the mirror replica MNCM10, so vbn sits I*R(MNR1) above bn.
MNR1 vbn vdd bn vss nmos W={Wr1} L={Lr1}
MNLS10 bn vbn cn vss nmos W={Wls1} L={Lls1} m={Mls1}
MNCM10 cn bn vss vss nmos W={Wcm1} L={Lcm1} m={Mcm1}
* Signal path: nmos pair folded into the pmos cascodes MPCM21/MPCM22; the
* wide-swing cascode mirror MNLS11/MNLS12 (cascodes, gate vbn) over
* MNCM11/MNCM12 (gates at the input-side cascode drain cl) makes the output.
* inp drives the mirror-input side, so out is non-inverting in inp.
MND11 fl inp tail vss nmos W={Wd1} L={Ld1} m={Md1}
MND12 fr inn tail vss nmos W={Wd1} L={Ld1} m={Md1}
MPCM21 cl vbp fl vdd pmos W={Wcm2} L={Lcm2} m={Mcm2}
MPCM22 out vbp fr vdd pmos W={Wcm2} L={Lcm2} m={Mcm2}
MNLS11 cl vbn sl vss nmos W={Wls1} L={Lls1} m={Mls1}
MNLS12 out vbn sr vss nmos W={Wls1} L={Lls1} m={Mls1}
MNCM11 sl cl vss vss nmos W={Wcm1} L={Lcm1} m={Mcm1}
MNCM12 sr cl vss vss nmos W={Wcm1} L={Lcm1} m={Mcm1}
