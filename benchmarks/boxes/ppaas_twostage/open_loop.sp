* Open-loop testbench after PPAAS's (and AutoCkt's): no feedback, both inputs
* at the common mode VDD/2, a 1 V differential AC drive split +-0.5 V, load CL.
VDD vdd 0 {VDD}
VSS vss 0 0
VINP inp 0 dc {VDD/2} ac 0.5
VINN inn 0 dc {VDD/2} ac 0.5 180
CL out 0 {CL}
