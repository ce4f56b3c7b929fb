"""v0: electrical actions (gm/Id, fug, branch currents) sized through the
device gm/Id networks of ``surrogate.device``.

An action in ``[-1, 1]^n`` scales (``envs.definition.scale_action``) onto
``gmid_<group>`` (1/V, linear), ``fug_<group>`` (Hz, log), branch currents
``i<k>`` (A, log) and the circuit's geometric pass-through parameters; the
circuit's procedure (``envs.sizing_procedures``) then asks a ``Sizer`` for
mirror ratios and for W, L of each device group:
``DeviceModel.size(gmoverid, fug, i_d, vds, vbs) -> (W, L, Vgs)`` at the
terminal voltages the procedure estimates (default ``Vds = VDD / 2``,
``Vbs = 0``, GAC²E's assumption; table convention: magnitudes for pmos).
The ``Sizer`` also answers the inverse questions those estimates need: the
current of a sized device at given voltages, and the gate (or drain)
voltage at which a device carries a given current.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from pathlib import Path

import gymnasium as gym
import numpy as np

from envs import definition as d
from envs.actions import check_box_actions
from envs.sizing_procedures import PROCEDURES, ElectricalSpace
from sim.errors import UserInputError
from sim.format.circuit import Circuit, Parameter
from sim.format.technology import Technology
from surrogate.device.names import DEVICE_NAMES

# Per technology and polarity: gm/Id (1/V) and fug (Hz) ranges inside which
# the device networks (models/<tech>/<device>) find W and L within their
# characterised region at typical currents and lengths (mapped on the trained
# models; fug falls roughly as 1/L^2; sky130's pfet reaches gm/Id 15 only
# above the region's 1 nA/um floor). GAC²E's own default gm/Id range: 5-20.
#
# A role entry (``ElectricalSpace.roles``: "pair" is every circuit's input
# pair dp1) replaces its polarity's entries, so that the range is reachable
# by construction. Generic's pair: its gates sit at VCM = VDD/2 = 0.6 V and
# its source at the tail node, so Vgs_dp <= VCM - 0.1 V = 0.5 V leaves the
# tail mirror the networks' lowest characterised Vds (0.1 V; below it the
# mirror is in deep triode, flagged, and the sizing drifts). The nmos network
# gives Vgs 0.50 V at gm/Id 17 (Vbs = -0.1 V, Vds 0.4 V, fug 0.5-10 GHz;
# 0.60 V at 10, 0.74 V at 5), hence 17-20. On sky130 (VCM 0.9 V) the same
# rule would give about 11 (Vgs 0.80 V at fug 3 GHz, 0.96 V at gm/Id 5), but
# its random requests below it still size and simulate within 5 % median
# (``python -m envs.consistency``), so sky130 keeps 5-20: no pair entry.
ELECTRICAL_RANGES = {
    "generic": {
        "nmos": {"gmid": (5.0, 20.0), "fug": (5.0e8, 1.0e10)},
        "pmos": {"gmid": (5.0, 20.0), "fug": (2.0e8, 3.0e9)},
        "pair": {"gmid": (17.0, 20.0)},
    },
    "sky130": {
        "nmos": {"gmid": (5.0, 20.0), "fug": (3.0e8, 3.0e9)},
        "pmos": {"gmid": (5.0, 15.0), "fug": (1.0e8, 1.0e9)},
    },
}


def electrical_space(circuit: Circuit) -> ElectricalSpace:
    """The v0 space the circuit declares (its YAML's ``electrical_space``: a
    procedure of ``envs.sizing_procedures.PROCEDURES``), or a
    ``UserInputError`` if it declares none or an unknown one."""
    name = circuit.electrical_space
    if not name:
        raise UserInputError(
            f"circuit {circuit.name} declares no electrical (v0) sizing "
            "procedure (electrical_space in its YAML); use v1"
        )
    space = PROCEDURES.get(name)
    if space is None:
        raise UserInputError(
            f"circuit {circuit.name} declares electrical_space {name!r}; the "
            f"procedures are {', '.join(sorted(PROCEDURES))}"
        )
    return space


def electrical_parameters(circuit: Circuit, tech: Technology) -> tuple[Parameter, ...]:
    """The v0 action parameters of ``circuit``: every group's gm/Id, then every
    group's fug, then the branch currents, then geometric pass-throughs."""
    space = electrical_space(circuit)
    i0 = circuit.constants["I0"]
    ranges = ELECTRICAL_RANGES.get(tech.name, ELECTRICAL_RANGES["generic"])
    gmid, fug = [], []
    for group, (polarity, _) in space.groups.items():
        r = group_ranges(ranges, polarity, space.roles.get(group))
        low, high = r["gmid"]
        gmid.append(
            Parameter(f"gmid_{group}", low, high, (low + high) / 2, "1/V", "real")
        )
        low, high = r["fug"]
        default = math.sqrt(low * high)
        fug.append(Parameter(f"fug_{group}", low, high, default, "Hz", "real", "log"))
    currents = [
        Parameter(
            name, low * i0, high * i0, math.sqrt(low * high) * i0, "A", "real", "log"
        )
        for name, (low, high) in space.currents.items()
    ]
    geometric = [circuit.parameter(name) for name in space.geometric]
    return tuple(gmid + fug + currents + geometric)


def group_ranges(
    ranges: dict, polarity: str, role: str | None
) -> dict[str, tuple[float, float]]:
    """A group's ``{"gmid": (1/V, 1/V), "fug": (Hz, Hz)}``: its polarity's
    ranges in one technology's ``ranges``, with its role's entries on top."""
    return {**ranges[polarity], **ranges.get(role or "", {})}


def missing_device_models(tech_name: str) -> list[str]:
    """The ``model.json`` files v0 needs for a technology that do not exist."""
    from surrogate.device.model_file import model_dir

    names = DEVICE_NAMES.get(tech_name, {})
    paths = [model_dir(tech_name, device) / "model.json" for device in names.values()]
    return [str(p) for p in paths if not p.is_file()]


def load_device_models(tech: Technology) -> dict:
    """``{polarity: DeviceModel}`` of a technology (``surrogate.device``), one
    load (and one compilation of its jitted solver) per process."""
    from surrogate.device.model_file import model_dir

    if tech.name not in DEVICE_NAMES:
        raise UserInputError(
            f"no device gm/Id networks for technology {tech.name}: v0 needs "
            f"{' or '.join(DEVICE_NAMES)} (use v1)"
        )
    directories = {
        polarity: str(model_dir(tech.name, device))
        for polarity, device in DEVICE_NAMES[tech.name].items()
    }
    return _device_models(tuple(sorted(directories.items())))


@functools.cache
def _device_models(directories: tuple[tuple[str, str], ...]) -> dict:
    """``{polarity: DeviceModel}`` loaded from ``(polarity, directory)`` pairs
    (the user's fitted model or the shipped one, per device)."""
    from surrogate.device.model_file import read_model_json
    from surrogate.device.sizing import DeviceModel

    return {
        polarity: DeviceModel(Path(path), read_model_json(Path(path)))
        for polarity, path in directories
    }


class Sizer:
    """What a sizing procedure may ask, for a batch of B electrical actions.

    ``s["gmid_dp1"]`` etc.: the action values ``[B]``; ``constant``: a circuit
    constant; ``mirror``/``clip``: integer multipliers within the circuit's
    (constrained) bounds; ``size``/``diode``: W, L ``[B]`` (m) of a group for
    a drain current per multiplier unit ``[B]`` (A) at given terminal voltages
    (``vgs[group]`` then holds its gate-source voltage); ``unit_current``: the
    drain current of a sized group at other terminal voltages (forward
    network), for mirrors whose output sits at another Vds than their input;
    ``gate_voltage``: the Vgs at which one unit of a sized group carries a
    current (bias diodes, replicas); ``mos_current``: the current of a device
    that is not a sized group (MOS resistors); ``flag``: record why a row
    left the characterised region (``issues``). Voltages are magnitudes for
    pmos (the device models' convention); ``[B, k]`` arrays are k candidate
    operating points per row (for equilibria solved on a grid).
    """

    xp = np

    def __init__(self, actions: ElectricalActions, values: np.ndarray) -> None:
        self._actions = actions
        self._values = dict(zip(actions.scale.names, values.T, strict=True))
        self._batch = values.shape[0]
        self.vdd = actions.vdd
        self.vgs: dict[str, np.ndarray] = {}
        self._sized: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._issues: dict[str, np.ndarray] = {}

    def __getitem__(self, name: str) -> np.ndarray:
        return self._values[name]

    @property
    def issues(self) -> np.ndarray:
        """Per row, why a group's last sizing left the characterised region."""
        out = np.full(self._batch, "", dtype=object)
        for reasons in self._issues.values():
            out = np.where(out == "", reasons, out)
        return out

    def full(self, value: float) -> np.ndarray:
        return np.full(self._batch, float(value))

    def constant(self, name: str) -> float:
        return self._actions.circuit.constants[name]

    def bounds(self, name: str) -> tuple[float, float]:
        k = self._actions.circuit.parameter_names.index(name)
        return self._actions.design_low[k], self._actions.design_high[k]

    def clip(self, name: str, value) -> np.ndarray:
        """``value`` ``[B]`` rounded and clipped to integer parameter ``name``."""
        low, high = self.bounds(name)
        return np.clip(np.round(np.asarray(value, np.float64)), low, high)

    def mirror(self, reference: str, **ratios) -> dict[str, np.ndarray]:
        """Integer multipliers for ``output / reference`` current ratios ``[B]``.

        Tries every allowed value of ``reference``; each output gets the
        nearest allowed integer for that choice; keeps the reference value with
        the smallest summed |log ratio error| (ties: the smallest).
        """
        low, high = self.bounds(reference)
        best_error = np.full(self._batch, np.inf)
        best = {reference: self.full(low), **{k: self.full(1.0) for k in ratios}}
        for ref in np.arange(low, high + 1.0):
            error = np.zeros(self._batch)
            choice = {}
            for name, ratio in ratios.items():
                ratio = np.maximum(np.asarray(ratio, np.float64), 1e-12)
                choice[name] = self.clip(name, ratio * ref)
                error += np.abs(np.log(choice[name] / ref) - np.log(ratio))
            better = error < best_error - 1e-12
            best_error = np.where(better, error, best_error)
            best[reference] = np.where(better, ref, best[reference])
            for name in ratios:
                best[name] = np.where(better, choice[name], best[name])
        return best

    def _model(self, group: str):
        polarity = self._actions.space_definition.groups[group][0]
        return self._actions.models[polarity]

    def _column(self, value) -> np.ndarray:
        return np.asarray(value, np.float64) * np.ones(self._batch)

    def size(
        self, group: str, current, vds=None, vbs=0.0
    ) -> tuple[np.ndarray, np.ndarray]:
        """W, L (m) ``[B]`` of ``group`` at its gm/Id and fug for ``current``
        per unit, at ``vds`` (default VDD/2, as GAC²E) and ``vbs`` (V).

        Voltages are clipped into the model's characterised range; a request
        outside it still gets the model's nearest answer, and ``issues``
        records why, per row.
        """
        model = self._model(group)
        low, high = model.bounds.inputs_min, model.bounds.inputs_max
        vds = self.vdd / 2 if vds is None else vds
        result = model.sizing(
            self[f"gmid_{group}"],
            self[f"fug_{group}"],
            self._column(current),
            np.clip(self._column(vds), low[2], high[2]),
            np.clip(self._column(vbs), low[3], high[3]),
        )
        self._issues[group] = np.where(
            np.asarray(result.valid, bool),
            "",
            np.asarray([f"{group}: {r}" for r in np.ravel(result.reason)], object),
        )
        self.flag(
            f"{group} vds",
            self._column(vds) < low[2],
            f"{group}: Vds < {low[2]:.2g} V (no headroom)",
        )
        width, length = np.asarray(result.w), np.asarray(result.l)
        self.vgs[group] = np.asarray(result.vgs, np.float64)
        self._sized[group] = (width, length)
        return width, length

    def diode(self, group: str, current, vbs=0.0) -> tuple[np.ndarray, np.ndarray]:
        """``size`` for a diode-connected device (Vds = Vgs, two passes)."""
        self.size(group, current, None, vbs)
        return self.size(group, current, self.vgs[group], vbs)

    def flag(self, key: str, mask, reason: str) -> None:
        """Record ``reason`` in ``issues`` for the rows where ``mask`` ``[B]``
        holds (``key``: one entry per check; a later flag replaces it)."""
        self._issues[key] = np.where(
            np.asarray(mask, bool) & np.ones(self._batch, bool), reason, ""
        ).astype(object)

    def unit_current(
        self, group: str, vgs, vds, vbs=0.0, role: str | None = "output"
    ) -> np.ndarray:
        """Drain current (A) ``[B]`` (or ``[B, k]``: k candidates per row) per
        unit of the sized ``group`` at ``vgs``, ``vds``, ``vbs`` (V), from the
        forward network; a ``vds`` below the characterised range (no headroom
        left) is recorded in ``issues`` under ``role`` (one record per group
        and role; None: not recorded)."""
        model = self._model(group)
        width, length = self._sized[group]
        vgs, vds, vbs = self._rows(vgs, vds, vbs)
        if role is not None:
            vds_min = model.bounds.inputs_min[2]
            self.flag(
                f"{group} {role}",
                vds < vds_min,
                f"{group}: a mirrored device is left Vds < {vds_min:.2g} V (headroom)",
            )
        width, length = _expand(width, vds), _expand(length, vds)
        return device_current(model, width, length, vgs, vds, vbs)

    def _rows(self, *values) -> list[np.ndarray]:
        """``values`` (scalars, ``[B]`` or ``[B, k]``) broadcast to one shape,
        a ``[B]`` array along the batch axis."""
        arrays = [np.asarray(v, np.float64) for v in values]
        arrays = [a if a.ndim == 2 else self._column(a) for a in arrays]
        if all(a.ndim == 1 for a in arrays):
            return arrays
        shape = np.broadcast_shapes(*(a.shape + (1,) * (2 - a.ndim) for a in arrays))
        return [_expand(a, np.empty(shape)) for a in arrays]

    def gate_voltage(self, group: str, current, vds=None, vbs=0.0) -> np.ndarray:
        """Vgs (V) at which ONE unit of the sized ``group`` carries ``current``
        (A); ``vds`` None: diode-connected (Vds = Vgs). ``current`` may be
        ``[B]`` or ``[B, k]`` (k candidates per row); the answer has its shape.
        """
        model = self._model(group)
        width, length = self._sized[group]
        current = np.asarray(current, np.float64)
        if current.ndim < 2:
            current = self._column(current)
        width, length = _expand(width, current), _expand(length, current)
        low = np.full(current.shape, model.forward.x_min[2])
        high = np.full(current.shape, model.forward.x_max[2])

        def terminals(x):
            return x, x if vds is None else _expand(vds, x), _expand(vbs, x)

        return _solve(model, width, length, current, low, high, terminals)

    def mos_current(self, polarity: str, width, length, vgs, vds, vbs) -> np.ndarray:
        """Drain current (A) of one device of ``width``, ``length`` (m) that is
        not a sized group (e.g. a MOS resistor) at ``vgs``, ``vds``, ``vbs``
        (V, models' convention); shapes as ``unit_current``."""
        vgs, vds, vbs = self._rows(vgs, vds, vbs)
        width, length = (_expand(self._column(v), vds) for v in (width, length))
        return device_current(
            self._actions.models[polarity], width, length, vgs, vds, vbs
        )


def _expand(value, like: np.ndarray) -> np.ndarray:
    """``value`` (scalar or ``[B]``) broadcast against ``like`` ``[B, ...]``."""
    value = np.asarray(value, np.float64)
    return np.broadcast_to(
        value.reshape(value.shape + (1,) * (like.ndim - value.ndim)), like.shape
    )


def device_current(model, width, length, vgs, vds, vbs) -> np.ndarray:
    """Drain current (A) of one device of ``width``, ``length`` (m) at ``vgs``,
    ``vds``, ``vbs`` (V, arrays of one shape), from the forward network.

    Outside the characterised region: the current scales with W, with 1/L
    above the longest length, and below the lowest Vds (triode, e.g. a tail
    mirror without headroom or a MOS resistor) as ``_triode`` extends it.
    """
    low, high = model.forward.x_min, model.forward.x_max
    shape = np.shape(vgs)
    log_w, log_l = np.log10(np.maximum(width, 1e-12)), np.log10(length)
    vds_floor = low[3]
    x = np.stack(
        [
            np.clip(log_w, low[0], high[0]),
            np.clip(log_l, low[1], high[1]),
            np.clip(vgs, low[2], high[2]),
            np.clip(vds, vds_floor, high[3]),
            np.clip(vbs, low[4], high[4]),
        ],
        axis=-1,
    ).reshape(-1, 5)
    y = model.predict_forward(x)
    density = 10.0 ** y[:, 2].reshape(shape)
    slope = 10.0 ** (y[:, 3] - y[:, 2]).reshape(shape)  # gds / Id (1/V)
    long = 10.0 ** np.minimum(high[1] - log_l, 0.0)
    triode = _triode(np.asarray(vds, np.float64), vds_floor, slope)
    return width * density * long * triode


def _triode(vds: np.ndarray, floor: float, slope: np.ndarray) -> np.ndarray:
    """Current below the lowest characterised Vds ``floor`` (V), relative to
    the current there: ``(1 - exp(-a vds)) / (1 - exp(-a floor))``, the
    weak-inversion shape, with ``a`` (1/V) matching the network's gds/Id
    ``slope`` at the floor (linear when the slope asks for it); 1 above."""
    r = np.clip(slope * floor, 1e-6, 1.0 - 1e-6)  # = x / (e^x - 1), x = a floor
    x = np.where(r > 0.5, 2.0 * (1.0 - r), -np.log(r) + np.log(-np.log(r) + 1.0))
    for _ in range(8):  # Newton on log(x) - log(e^x - 1) - log(r)
        g = np.log(x) - np.log(np.expm1(x)) - np.log(r)
        dg = 1.0 / x - 1.0 / (1.0 - np.exp(-x))
        x = np.maximum(x - g / dg, 1e-6)
    ratio = -np.expm1(-x * np.maximum(vds, 0.0) / floor) / -np.expm1(-x)
    return np.where(vds >= floor, 1.0, ratio)


def _take(a: np.ndarray, k: np.ndarray) -> np.ndarray:
    """``a[..., k]`` per leading index."""
    return np.take_along_axis(a, k[..., None], -1)[..., 0]


_GRID = 16  # points per refinement of the voltage search


def _solve(model, width, length, current, low, high, terminals) -> np.ndarray:
    """The voltage x in ``[low, high]`` at which one device carries
    ``current`` (A), with ``terminals(x) -> (vgs, vds, vbs)`` and a current
    rising with x. Two grid refinements and a linear interpolation of log
    current; clipped to the interval."""
    target = np.log(np.maximum(current, 1e-18))[..., None]
    steps = np.linspace(0.0, 1.0, _GRID)
    low, high = np.asarray(low, np.float64), np.asarray(high, np.float64)
    for _ in range(2):
        x = low[..., None] + (high - low)[..., None] * steps
        wide = (width[..., None], length[..., None])
        i_d = device_current(model, *np.broadcast_arrays(*wide, *terminals(x)))
        f = np.log(np.maximum(i_d, 1e-18)) - target
        above = f >= 0.0
        k = np.clip(np.where(above.any(-1), above.argmax(-1), _GRID - 1), 1, _GRID - 1)
        low, high = _take(x, k - 1), _take(x, k)
        f_low, f_high = _take(f, k - 1), _take(f, k)
    t = np.clip(-f_low / np.where(f_high > f_low, f_high - f_low, 1.0), 0.0, 1.0)
    return low + t * (high - low)


class ElectricalActions:
    """v0: ``[-1, 1]^n`` onto gm/Id, fug and currents, sized to W/L/M."""

    variant = "v0"

    def __init__(
        self,
        circuit: Circuit,
        tech: Technology,
        parameters: Sequence[Parameter],
        design_low: np.ndarray,
        design_high: np.ndarray,
    ) -> None:
        self.circuit = circuit
        self.space_definition = electrical_space(circuit)
        self.parameters = tuple(parameters)
        self.scale = d.ActionScale.from_parameters(self.parameters)
        self.space = gym.spaces.Box(-1.0, 1.0, (len(self.parameters),), np.float32)
        self.design_low, self.design_high = design_low, design_high
        self.vdd = tech.vdd
        self.tech = tech
        self._models: dict | None = None
        if tech.name not in DEVICE_NAMES:
            raise UserInputError(
                f"no device gm/Id networks for technology {tech.name}: v0 needs "
                f"{' or '.join(DEVICE_NAMES)} (use v1)"
            )
        missing = missing_device_models(tech.name)
        if missing:
            raise UserInputError(
                f"v0 needs the device gm/Id networks {', '.join(missing)}; train "
                "them with `python -m surrogate.fit device --tech ... --device ...`"
            )
        self.default = np.asarray([p.default for p in circuit.parameters])
        self.last_issues = np.zeros(0, dtype=object)  # per row of the last batch

    @property
    def models(self) -> dict:
        """``{polarity: DeviceModel}``, loaded on first use (no JAX work before
        a step: a forking ``AsyncVectorEnv`` builds one env in its parent)."""
        if self._models is None:
            self._models = load_device_models(self.tech)
        return self._models

    def check(self, actions, batch: tuple[int, ...] = ()) -> np.ndarray:
        return check_box_actions(actions, batch + self.space.shape)

    def initial_state(self, design: np.ndarray) -> np.ndarray:
        return np.zeros(0, np.int32)

    def electrical(self, actions: np.ndarray) -> dict[str, np.ndarray]:
        """The electrical values ``{name: [B]}`` of actions ``[B, n]``."""
        values = d.scale_action(actions, self.scale)
        return dict(zip(self.scale.names, values.T, strict=True))

    def designs(
        self, actions: np.ndarray, state: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Designs ``[B, n_params]`` (circuit order; non-finite sizes fall back
        to the parameter's default) for actions ``[B, n]``."""
        values = d.scale_action(actions, self.scale)
        sizer = Sizer(self, values)
        sized = self.space_definition.procedure(sizer)
        self.last_issues = sizer.issues
        for name in self.space_definition.geometric:
            sized[name] = sizer[name]
        columns = []
        for k, name in enumerate(self.circuit.parameter_names):
            column = np.asarray(sized.get(name, self.default[k]), np.float64)
            column = np.broadcast_to(column, (values.shape[0],))
            columns.append(np.where(np.isfinite(column), column, self.default[k]))
        return np.stack(columns, axis=1), state
