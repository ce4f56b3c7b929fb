"""Performance measures computed from simulator vectors, in plain numpy.

The measure functions by name, gathered from the modules that compute them:
``measures_ac`` (frequency domain), ``measures_op`` (supply and device
operating point) and ``measures_trace`` (transient, DC sweep, noise).
``sim.format.performance`` looks a measure kind's function up here by name.

Every measure returns a Python ``float`` (or ``int`` for region codes). A measure
that does not exist for a design (the gain never crosses 0 dB, the phase never
drops by 180 degrees, a zero denominator, an empty sweep) is ``NaN``: failures
are values, so these functions can run inside training loops without raising.
They raise ``ValueError`` only for malformed input that is a caller's bug and
never depends on the design (arrays of different shapes, frequencies not
positive and strictly ascending).

Units are SI (Hz, V, A, W, F, S); names ending in ``_db`` return dB and the
phase and gain margins are in degrees and dB as their docstrings say.

The conventions of each family (interpolation, phase reference, transient
windows) are in the docstring of its module.
"""

from __future__ import annotations

from sim.format.measures_ac import (
    dc_gain_db,
    gain_margin,
    phase_margin,
    rejection_db,
    unity_gain_bandwidth,
)
from sim.format.measures_op import (
    FIGURE_NAMES,
    SUBTHRESHOLD_SPAN,
    DeviceOperatingPoint,
    Region,
    device_figure_values,
    device_figures,
    difference,
    gm_over_id,
    node_voltage,
    operating_region,
    operating_regions,
    supply_current,
    supply_power,
    transit_frequency,
)
from sim.format.measures_trace import (
    DIRECTIONS,
    MIN_SWING,
    crossing,
    maximum,
    minimum,
    noise_density,
    overshoot,
    propagation_delay,
    slew_rate,
    tracking_range,
    transfer_crossing,
)

NAN = float("nan")

__all__ = [
    "dc_gain_db",
    "gain_margin",
    "phase_margin",
    "rejection_db",
    "unity_gain_bandwidth",
    "DeviceOperatingPoint",
    "FIGURE_NAMES",
    "Region",
    "SUBTHRESHOLD_SPAN",
    "device_figure_values",
    "device_figures",
    "difference",
    "gm_over_id",
    "node_voltage",
    "operating_region",
    "operating_regions",
    "supply_current",
    "supply_power",
    "transit_frequency",
    "DIRECTIONS",
    "MIN_SWING",
    "crossing",
    "maximum",
    "minimum",
    "noise_density",
    "overshoot",
    "propagation_delay",
    "slew_rate",
    "tracking_range",
    "transfer_crossing",
    "NAN",
]
