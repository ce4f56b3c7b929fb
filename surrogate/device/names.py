"""The device model of each polarity, per technology (no JAX import here)."""

# used by the v0 spaces (envs.electrical) and the circuit physics inputs
DEVICE_NAMES = {
    "generic": {"nmos": "nmos", "pmos": "pmos"},
    "sky130": {"nmos": "nfet_01v8", "pmos": "pfet_01v8"},
}
