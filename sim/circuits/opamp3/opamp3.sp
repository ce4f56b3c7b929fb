* opamp3: OpenFASOC's sky130 two-stage op-amp with a source-follower output
* stage, at schematic level. Nodes: inp inn out vdd vss; internal: tail,
* x1 x2 (first-stage outputs), v1 vc (pmos load mid nodes; vc takes the
* compensation capacitor), cso (second-stage output), cc (between the
* routing resistor and the capacitor), dpb csb osb (bias mirror inputs).
* Every transistor is written as one device of finger width W and length L
* with m = fingers x multipliers (OpenFASOC's fet netlist does the same).
* Input stage: nmos pair, tail from a 1:1 nmos mirror fed by IDP. inp drives
* MND2, whose drain x2 drives the second stage: out is non-inverting in inp.
IDP vdd dpb {IDP}
MNDB1 dpb dpb vss vss nmos W={Wdpb} L={Ldpb} m={Fdpb}
MNDB2 tail dpb vss vss nmos W={Wdpb} L={Ldpb} m={Fdpb}
MND1 x1 inn tail vss nmos W={Wdp} L={Ldp} m={Fdp}
MND2 x2 inp tail vss nmos W={Wdp} L={Ldp} m={Fdp}
* First-stage load (OpenFASOC's differential-to-single-ended converter): four
* pmos with one shared gate x1; the upper pair (m = 8, fixed by the layout)
* sits under the lower pair (m = 2 x Fpl), the lower left one is the diode.
MPL1T v1 x1 vdd vdd pmos W={Wpl} L={Lpl} m={MTOP}
MPL2T vc x1 vdd vdd pmos W={Wpl} L={Lpl} m={MTOP}
MPL1B x1 x1 v1 vdd pmos W={Wpl} L={Lpl} m={2*Fpl}
MPL2B x2 x1 vc vdd pmos W={Wpl} L={Lpl} m={2*Fpl}
* Second stage: pmos common source (two halves of Fcs fingers x Mcs
* multipliers) loaded by an nmos mirror whose output has Mcsb times the
* reference's size (two halves each), fed by ICS.
MPCS cso x2 vdd vdd pmos W={Wcs} L={Lcs} m={2*Fcs*Mcs}
ICS vdd csb {ICS}
MNCSB1 csb csb vss vss nmos W={Wcsb} L={Lcsb} m={2*Fcsb}
MNCSB2 cso csb vss vss nmos W={Wcsb} L={Lcsb} m={2*Fcsb*Mcsb}
* Compensation: the MIM array (Rows x 2 caps of Wmim x Lmim at CMIM F/m²)
* from cso to the low-impedance load node vc, in series with the routing
* resistance RROUTE / Rmult (ideal elements).
RC cso cc {RROUTE/Rmult}
CC cc vc {CMIM*Wmim*Lmim*NCOL*Rows}
* Output stage: nmos source follower (bulk at vss) biased by a 1:1 nmos
* mirror fed by IOS.
MNOS vdd cso out vss nmos W={Wos} L={Los} m={Fos}
IOS vdd osb {IOS}
MNOSB1 osb osb vss vss nmos W={Wosb} L={Losb} m={Fosb}
MNOSB2 out osb vss vss nmos W={Wosb} L={Losb} m={Fosb}
