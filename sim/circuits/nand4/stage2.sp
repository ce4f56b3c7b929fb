* Switching voltage of stage 2: the source VX drives the stage's input node
* (x2) directly and is swept over the supply; it overrides the output of
* stage 1 (whose input, the chain input, is held at 0 V by VIN).
VDD vdd 0 {VDD}
VSS vss 0 0
VX x2 0 0
VIN in 0 0
