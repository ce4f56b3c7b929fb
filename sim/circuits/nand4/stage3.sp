* Switching voltage of stage 3: the source VX drives the stage's input node
* (x3) directly and is swept over the supply; it overrides the output of
* stage 2 (whose input, the chain input, is held at 0 V by VIN).
VDD vdd 0 {VDD}
VSS vss 0 0
VX x3 0 0
VIN in 0 0
