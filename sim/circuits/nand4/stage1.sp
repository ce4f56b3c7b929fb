* Switching voltage of stage 1: the source VX drives the stage's input node
* (x1) directly and is swept over the supply; it overrides the output of
* stage 0 (whose input, the chain input, is held at 0 V by VIN).
VDD vdd 0 {VDD}
VSS vss 0 0
VX x1 0 0
VIN in 0 0
