* Follower with the same 1 V AC at inp and, in series with the feedback, at
* inn: the differential input is -v(out), so v(out) = Acm / (1 + Adm), 1/CMRR.
VDD vdd 0 {VDD}
VSS vss 0 0
VCM cm 0 {VDD/2}
VCP inp cm dc 0 ac 1
VCN inn out dc 0 ac 1
CL out 0 {CL}
