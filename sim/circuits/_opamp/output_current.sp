* Output current: as swing.sp but the output is held at VDD/2 by VOUT; the
* current it absorbs, swept over the differential input, gives the largest
* sourced (i_out_max, > 0) and sunk (i_out_min, < 0) output currents.
VDD vdd 0 {VDD}
VSS vss 0 0
VCM cm 0 {VDD/2}
VID inp cm 0
VINN inn cm 0
VOUT out 0 {VDD/2}
