* op8: folded-cascode OTA with a wide-swing cascode current-mirror load
* (GAC²E's op8 sizing names). Nodes: inp inn out vdd vss; internal: nb pb
* (bias gates), vbn vbp (cascode gates), tail, fl fr (folding nodes),
* cl (mirror input), sl sr (mirror sources).
* Bias: IREF into the nmos diode MNCM51; MNCM53 is the tail (Mcm53:Mcm51),
* MNCM521 feeds the pmos diode MPCM41 (Mcm52:Mcm51), whose gate pb drives
* the two top sources MPCM421/MPCM422 (Mcm42:Mcm41 each) and the bias source
* MPCM43 (Mcm43:Mcm41).
MNCM51 nb nb vss vss nmos W={Wcm5} L={Lcm5} m={Mcm51}
MNCM53 tail nb vss vss nmos W={Wcm5} L={Lcm5} m={Mcm53}
MNCM521 pb nb vss vss nmos W={Wcm5} L={Lcm5} m={Mcm52}
MPCM41 pb pb vdd vdd pmos W={Wcm4} L={Lcm4} m={Mcm41}
MPCM421 fl pb vdd vdd pmos W={Wcm4} L={Lcm4} m={Mcm42}
MPCM422 fr pb vdd vdd pmos W={Wcm4} L={Lcm4} m={Mcm42}
* Cascode gate biases: vbn from the nmos diode MNCB2 (one unit of the nmos
* cascode, fed by MPCM43), vbp from the pmos diode MPCB3 (one unit of the
* pmos cascode, fed by MNCM522, a copy of MNCM521). The diodes carry
* more current per unit than the cascodes, which leaves the devices under
* the cascodes about one overdrive of drain-source voltage (wide swing).
MPCM43 vbn pb vdd vdd pmos W={Wcm4} L={Lcm4} m={Mcm43}
MNCB2 vbn vbn vss vss nmos W={Wcm2} L={Lcm2}
MNCM522 vbp nb vss vss nmos W={Wcm5} L={Lcm5} m={Mcm52}
MPCB3 vbp vbp vdd vdd pmos W={Wcm3} L={Lcm3}
* Input pair folded into the pmos cascodes; inp drives the mirror-input side.
MND11 fl inp tail vss nmos W={Wd1} L={Ld1} m={Md1}
MND12 fr inn tail vss nmos W={Wd1} L={Ld1} m={Md1}
MPCM31 cl vbp fl vdd pmos W={Wcm3} L={Lcm3} m={Mcm3}
MPCM32 out vbp fr vdd pmos W={Wcm3} L={Lcm3} m={Mcm3}
* Wide-swing cascode mirror: the bottom devices take their gate from the
* drain of the input-side cascode (cl).
MNCM21 cl vbn sl vss nmos W={Wcm2} L={Lcm2} m={Mcm2}
MNCM22 out vbn sr vss nmos W={Wcm2} L={Lcm2} m={Mcm2}
MNCM11 sl cl vss vss nmos W={Wcm1} L={Lcm1} m={Mcm1}
MNCM12 sr cl vss vss nmos W={Wcm1} L={Lcm1} m={Mcm1}
IREF vdd nb {I0}
