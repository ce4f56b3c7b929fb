* Unity-gain follower (inn tied to out). DC at VDD/2 for the systematic offset;
* VIN steps by VDD/4 around VDD/2 at 0.1 us and back at 5.1 us for slew rate
* and overshoot; VDD carries 1 V AC, so v(out) in the ac analysis is 1/PSRR+;
* a DC sweep of VIN over the supply gives the input common-mode range.
VDD vdd 0 dc {VDD} ac 1
VSS vss 0 0
VIN inp 0 dc {VDD/2} pulse({3*VDD/8} {5*VDD/8} 0.1u 1n 1n 5u 20u)
VFB out inn 0
CL out 0 {CL}
