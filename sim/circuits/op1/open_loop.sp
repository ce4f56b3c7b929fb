* Open-loop AC testbench: a 1 TH inductor closes the loop at DC (unity-gain
* follower sets the operating point), a 1 TF capacitor grounds inn for AC, so
* v(out) is the open-loop response to 1 V AC at inp.
VDD vdd 0 {VDD}
IREF vdd nbias {I0}
VCM cm 0 {VDD/2}
VIN inp cm dc 0 ac 1
LFB out inn 1T
CFB inn 0 1T
CL out 0 {CL}
