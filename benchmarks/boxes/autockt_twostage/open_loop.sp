* Open-loop testbench after AutoCkt's: no feedback, both inputs biased at the
* common mode VCM, a differential AC drive of 1 V split +-0.5 V (two sources
* 180 degrees apart), load CL from out to ground, VDD and a grounded vss.
VDD vdd 0 {VDD}
VSS vss 0 0
VINP inp 0 dc {VCM} ac 0.5
VINN inn 0 dc {VCM} ac 0.5 180
CL out 0 {CL}
