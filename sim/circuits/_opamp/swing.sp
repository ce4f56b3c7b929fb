* Output swing: open loop, inn at VDD/2, the differential input swept by VID;
* the output's extremes are v_ol and v_oh.
VDD vdd 0 {VDD}
VSS vss 0 0
VCM cm 0 {VDD/2}
VID inp cm 0
VINN inn cm 0
CL out 0 {CL}
