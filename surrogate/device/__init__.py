"""Device gm/Id networks: sweeps, lookup tables, networks and the sizing helper."""
