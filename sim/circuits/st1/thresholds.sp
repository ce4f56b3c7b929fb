* Switching thresholds: VIN is swept up (0 -> VDD) and down (VDD -> 0) in two
* DC analyses; each starts from the unique operating point at its first
* value and follows its branch of the hysteresis, so the output falls at
* v_ih on the way up and rises at v_il on the way down.
VDD vdd 0 {VDD}
VSS vss 0 0
VIN in 0 0
