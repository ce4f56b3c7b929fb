* Open loop: a 1 TH inductor closes the loop at DC (the follower sets the
* operating point); a 1 TF capacitor grounds inn for AC and noise, so v(out)
* is the open-loop response to 1 V AC at inp and the noise analysis refers the
* output noise to VIN (input-referred density in inoise_spectrum).
VDD vdd 0 {VDD}
VSS vss 0 0
VCM cm 0 {VDD/2}
VIN inp cm dc 0 ac 1
LFB out inn 1T
CFB inn 0 1T
CL out 0 {CL}
