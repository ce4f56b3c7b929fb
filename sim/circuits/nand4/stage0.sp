* Switching voltage of stage 0: the source VX drives the stage's input node
* (in) directly and is swept over the supply; it is the chain input.
VDD vdd 0 {VDD}
VSS vss 0 0
VX in 0 0

