* Propagation delays: VIN steps 0 -> VDD at 1 ns and back at 6.05 ns
* (50 ps edges) into the trigger loaded by CL; t_phl is measured on the
* rising input (output falls), t_plh on the falling input (output rises),
* both between the VDD/2 crossings of input and output.
VDD vdd 0 {VDD}
VSS vss 0 0
VIN in 0 dc 0 pulse(0 {VDD} 1n 50p 50p 5n 10n)
CL out 0 {CL}
