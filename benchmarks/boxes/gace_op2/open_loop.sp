* Open loop at the common mode VDD/2: a 1 TH inductor closes the loop for the
* operating point only, a 1 TF capacitor grounds inn for AC; 1 V AC at inp.
VDD vdd 0 {VDD}
VSS vss 0 0
VCM cm 0 {VDD/2}
VIN inp cm dc 0 ac 1
LFB out inn 1T
CFB inn 0 1T
CL out 0 {CL}
