* Unity-gain follower with 1 V AC on the negative supply: v(out) is 1/PSRR-.
VDD vdd 0 {VDD}
VSS vss 0 dc 0 ac 1
VIN inp 0 {VDD/2}
VFB out inn 0
CL out 0 {CL}
