"""How each measure of a circuit YAML is fed from simulation vectors.

A circuit's ``measures:`` entry names a kind below (``measure: slew_rate``),
the analysis it reads (``analysis: step.tran``) and its arguments: names of
vectors (``output: v(out)``) and numbers (``start: 0``). The kind says which
function of ``sim.format.measures`` computes the figure and how: with the analysis'
scale vector first (frequency, time or the DC sweep variable), then the
vectors, then the numbers as keywords.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Scale vector of each analysis type, read together with the data vectors.
SCALES = {"ac": "frequency", "noise": "frequency", "tran": "time", "dc": "v-sweep"}


@dataclass(frozen=True)
class MeasureKind:
    """One measure function and the arguments a circuit YAML must give it.

    ``analysis`` is the analysis type it reads (``op`` takes scalars; others
    pass their scale vector first); ``vectors`` and ``numbers`` are the YAML
    argument names holding vector names and numbers; ``optional`` ones may be
    omitted (numbers then take the defaults given, ``None`` meaning VDD/2).
    """

    function: str
    analysis: str
    vectors: tuple[str, ...] = ()
    optional_vectors: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()
    optional_numbers: dict[str, float | None] = field(default_factory=dict)
    words: dict[str, tuple[str, ...]] = field(default_factory=dict)


_AC = {"vectors": ("output",), "optional_vectors": ("input",)}

KINDS: dict[str, MeasureKind] = {
    # small-signal frequency response (ac): response = output / input
    "dc_gain": MeasureKind("dc_gain_db", "ac", **_AC),
    "unity_gain_bandwidth": MeasureKind("unity_gain_bandwidth", "ac", **_AC),
    "phase_margin": MeasureKind("phase_margin", "ac", **_AC),
    "gain_margin": MeasureKind("gain_margin", "ac", **_AC),
    "rejection": MeasureKind("rejection_db", "ac", **_AC),
    # operating point (op): scalars
    "supply_current": MeasureKind("supply_current", "op", ("source",)),
    "supply_power": MeasureKind("supply_power", "op", ("source",)),
    "node_voltage": MeasureKind("node_voltage", "op", ("node",)),
    "difference": MeasureKind("difference", "op", ("node", "reference")),
    # transient (tran): time first
    "slew_rate": MeasureKind(
        "slew_rate", "tran", ("output",), numbers=("start", "stop")
    ),
    "overshoot": MeasureKind(
        "overshoot", "tran", ("output",), numbers=("start", "stop")
    ),
    "delay": MeasureKind(
        "propagation_delay",
        "tran",
        ("input", "output"),
        numbers=("start", "stop"),
        optional_numbers={"level": None},
    ),
    # noise: spectral density at one frequency
    "noise_density": MeasureKind(
        "noise_density", "noise", ("spectrum",), numbers=("frequency",)
    ),
    # dc sweeps: sweep variable first
    "minimum": MeasureKind("minimum", "dc", ("output",)),
    "maximum": MeasureKind("maximum", "dc", ("output",)),
    "crossing": MeasureKind(
        "crossing",
        "dc",
        ("output",),
        optional_numbers={"level": None},
        words={"direction": ("rising", "falling", "either")},
    ),
    "transfer_crossing": MeasureKind(
        "transfer_crossing",
        "dc",
        ("input", "output"),
        optional_numbers={"level": None},
    ),
    "tracking_range": MeasureKind(
        "tracking_range",
        "dc",
        ("output",),
        optional_numbers={"tolerance": 0.05},
        words={"end": ("low", "high")},
    ),
}

# Computed from the sizing (and the operating point), not from an analysis:
# kind -> its required arguments.
DESIGN_KINDS: dict[str, tuple[str, ...]] = {
    "area": (),
    # "pairs": matched pairs "A/B,C/D", the input pair first (sim.format.netlist)
    "offset_pelgrom": ("pairs",),
}
