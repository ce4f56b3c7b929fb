"""Circuit-level surrogates: sizing -> performance, trained on ngspice results."""
