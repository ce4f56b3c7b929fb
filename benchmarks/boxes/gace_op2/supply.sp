* Unity-gain follower at VDD/2 with 1 V AC on VDD: v(out) is 1/PSRR+.
VDD vdd 0 dc {VDD} ac 1
VSS vss 0 0
VIN inp 0 {VDD/2}
VFB out inn 0
CL out 0 {CL}
