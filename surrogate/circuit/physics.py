"""Device-physics inputs of circuit surrogates, from the device forward networks.

An MLP fitted on a few thousand designs has to learn transistor physics
(gm/Id and output conductance against current density, length and Vds) from
those designs alone. The device networks of ``surrogate.device`` learned it
from dense sweeps. For circuits with an *estimator* here, each design's bias
point is estimated from its sizes (mirrored currents, diode voltages, the
tail node's equilibrium) with the forward networks, and what they give there
becomes extra inputs of the ensemble: per device gm/Id (1/V) and
log10(gds/Id) (log10 1/V), node voltages (V), branch currents (log10 A) and a
first-order dc gain (dB). No simulation is involved; it is pure JAX.

The ensemble sees ``[surrogate_features, scaled physics]``; the distilled
network learns the ensemble from the plain features alone, so the
environment's inner loop pays nothing for this. Before use, the copied
forward networks are fine-tuned (``fine_tune``) on the training designs' own
operating points. Measured on op2 sky130 with 3,000 designs (450 held out,
same split and settings): a_0's median error went from 0.645 to 0.403 dB,
ugbw's from 2.8 % to 2.2 %.

Estimators (``ESTIMATORS``, by name): ``op2``. A circuit names its own in its
YAML (``surrogate_physics: op2``, ``sim.format.circuit.Circuit.surrogate_physics``);
circuits that name none fit without physics.
Units: SI; pmos voltages and currents are magnitudes (the device networks'
convention).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from sim.errors import UserInputError
from surrogate.device.mlp import mlp_apply

# scaled features are clipped to this window (designs beyond the fitted range)
CLIP = (-0.25, 1.25)
_GRID = 96  # points of the voltage grids the equilibria are solved on
_MIN_VDS = 0.1  # V: the forward networks' smallest swept Vds
# how far past the swept maximum the forward networks are trusted (log10 W,
# log10 L, Vgs, Vds, Vbs): log10(4/3) lets sky130's 4 um lengths through
EXTRAPOLATE = jnp.array([0.0, 0.13, 0.0, 0.0, 0.0], jnp.float32)


def device_network(net) -> dict:
    """A ``surrogate.device.model_file.Network`` as a pytree of float32 arrays."""
    f32 = lambda a: jnp.asarray(a, jnp.float32)  # noqa: E731
    return {
        "layers": [(f32(k), f32(b)) for k, b in net.layers],
        "x_min": f32(net.x_min),
        "x_max": f32(net.x_max),
        "y_min": f32(net.y_min),
        "y_max": f32(net.y_max),
    }


def forward(net: dict, w, l, vgs, vds, vbs) -> jax.Array:  # noqa: E741
    """Forward network at broadcast arrays (m, m, V, V, V) -> ``[..., 4]`` of
    gm/Id (1/V), log10 fug (Hz), log10 Id/W (A/m), log10 gds/W (S/m).
    Inputs are clipped to the swept box, widened by ``EXTRAPOLATE``."""
    w, l, vgs, vds, vbs = jnp.broadcast_arrays(w, l, vgs, vds, vbs)  # noqa: E741
    x = jnp.stack([jnp.log10(w), jnp.log10(l), vgs, vds, vbs], -1)
    x = jnp.clip(x, net["x_min"], net["x_max"] + EXTRAPOLATE)
    scaled = (x - net["x_min"]) / (net["x_max"] - net["x_min"])
    y = mlp_apply(net["layers"], scaled.reshape(-1, 5))
    y = y * (net["y_max"] - net["y_min"]) + net["y_min"]
    return y.reshape(x.shape[:-1] + (4,))


def _crossing(grid: jax.Array, f: jax.Array) -> jax.Array:
    """Where ``f`` [..., G] (rising along ``grid`` [G]) crosses 0, by linear
    interpolation; the grid's end where it never does."""
    above = f >= 0
    k = jnp.clip(jnp.argmax(above, axis=-1), 1, grid.shape[0] - 1)
    f0 = jnp.take_along_axis(f, (k - 1)[..., None], -1)[..., 0]
    f1 = jnp.take_along_axis(f, k[..., None], -1)[..., 0]
    t = jnp.clip(f0 / jnp.where(f0 == f1, -1.0, f0 - f1), 0.0, 1.0)
    v = grid[k - 1] + t * (grid[k] - grid[k - 1])
    return jnp.where(above.all(-1), grid[0], jnp.where(above.any(-1), v, grid[-1]))


def _vgs_grid(net: dict) -> jax.Array:
    return jnp.linspace(net["x_min"][2] + 0.02, net["x_max"][2], _GRID)


def diode_vgs(net: dict, w, l, i_unit) -> jax.Array:  # noqa: E741
    """Vgs (V) of a diode-connected unit (Vds = Vgs, Vbs = 0) of width ``w``
    carrying ``i_unit`` (A); arrays [B]."""
    grid = _vgs_grid(net)
    y = forward(net, w[:, None], l[:, None], grid, grid, 0.0)
    return _crossing(grid, y[..., 2] + jnp.log10(w / i_unit)[:, None])


def unit_current(net: dict, w, l, vgs, vds, vbs=0.0) -> jax.Array:  # noqa: E741
    """Drain current (A) of one unit of width ``w``."""
    return w * 10.0 ** forward(net, w, l, vgs, vds, vbs)[..., 2]


def op2_bias(p: dict, nets: dict, vdd, c: dict) -> tuple[dict, list]:
    """op2 (symmetrical OTA): each device's estimated bias point and the
    estimate's node voltages (V) and branch currents (log10 A).

    The bias diode MNCM11 carries I0; the tail node settles where the pair
    (gates at VDD/2, body effect) takes what MNCM12 sinks there; the pmos
    diodes carry half of it, MPCM212 mirrors it into the nmos diode MNCM31
    (two passes over the nodes x and z), and the output sits at VDD/2 (the
    testbench's DC follower). Returns ``({device: (polarity, w, l, vgs, vds,
    vbs)}, [v_tail, v_x, v_z, vgs_MNCM11, vsg_MPCM211, log10 I_tail,
    log10 I_z])``, arrays [B].
    """
    nmos, pmos = nets["nmos"], nets["pmos"]
    i0, vcm = c["I0"], vdd / 2
    vg1 = diode_vgs(nmos, p["Wcm1"], p["Lcm1"], i0 / p["Mcm11"])
    tail_grid = jnp.linspace(0.02, vcm - 0.05, _GRID)
    vx = jnp.full_like(vg1, vdd - 0.8)
    for _ in range(2):
        sink = p["Mcm12"][:, None] * unit_current(
            nmos, p["Wcm1"][:, None], p["Lcm1"][:, None], vg1[:, None], tail_grid
        )
        pair = (
            2
            * c["Md"]
            * unit_current(
                nmos,
                p["Wdp1"][:, None],
                p["Ldp1"][:, None],
                vcm - tail_grid,
                jnp.maximum(vx[:, None] - tail_grid, _MIN_VDS),
                -tail_grid,
            )
        )
        tail = _crossing(tail_grid, jnp.log10(sink) - jnp.log10(pair))
        i_tail = p["Mcm12"] * unit_current(nmos, p["Wcm1"], p["Lcm1"], vg1, tail)
        vsg2 = diode_vgs(pmos, p["Wcm2"], p["Lcm2"], i_tail / 2 / p["Mcm21"])
        vx = vdd - vsg2
    vz = jnp.full_like(vg1, vdd / 3)
    for _ in range(2):
        i_z = p["Mcm22"] * unit_current(
            pmos, p["Wcm2"], p["Lcm2"], vsg2, jnp.maximum(vdd - vz, _MIN_VDS)
        )
        vz = diode_vgs(nmos, p["Wcm3"], p["Lcm3"], i_z / c["Mcm31"])
    zero = jnp.zeros_like(vg1)
    biases = {
        "MNCM11": ("nmos", p["Wcm1"], p["Lcm1"], vg1, vg1, zero),
        "MNCM12": ("nmos", p["Wcm1"], p["Lcm1"], vg1, tail, zero),
        "MND11": (
            "nmos",
            p["Wdp1"],
            p["Ldp1"],
            vcm - tail,
            jnp.maximum(vx - tail, _MIN_VDS),
            -tail,
        ),
        "MPCM211": ("pmos", p["Wcm2"], p["Lcm2"], vsg2, vsg2, zero),
        "MPCM212": (
            "pmos",
            p["Wcm2"],
            p["Lcm2"],
            vsg2,
            jnp.maximum(vdd - vz, _MIN_VDS),
            zero,
        ),
        "MPCM222": ("pmos", p["Wcm2"], p["Lcm2"], vsg2, vdd - vcm + zero, zero),
        "MNCM31": ("nmos", p["Wcm3"], p["Lcm3"], vz, vz, zero),
        "MNCM32": ("nmos", p["Wcm3"], p["Lcm3"], vz, vcm + zero, zero),
    }
    extras = [tail, vx, vz, vg1, vsg2, jnp.log10(i_tail), jnp.log10(i_z)]
    return biases, extras


def op2_summary(devices: dict) -> list[jax.Array]:
    """First-order dc gain (dB): gm_pair * B / (gds_MPCM222 + gds_MNCM32),
    where B * I_half = I_out, so gm/Id of the pair over the summed gds/Id."""
    load = 10.0 ** devices["MPCM222"][1] + 10.0 ** devices["MNCM32"][1]
    return [20.0 * jnp.log10(devices["MND11"][0] / load)]


@dataclass(frozen=True)
class Estimator:
    """One circuit's physics: ``bias`` (designs -> device bias points and
    extras), ``summary`` (device gm/Id and log10 gds/Id -> closed-form
    figures), the names of the extras and summaries, the circuit constants
    read, and ``instances``: circuit device -> the bias point it shares (for
    fine-tuning on its operating-point entries)."""

    bias: Callable
    summary: Callable
    extras: tuple[str, ...]
    summaries: tuple[str, ...]
    constants: tuple[str, ...]
    instances: dict[str, str]

    @property
    def devices(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.instances.values()))

    @property
    def feature_names(self) -> tuple[str, ...]:
        per_device = tuple(
            f"{d}:{k}" for d in self.devices for k in ("gmoverid", "log10_gds_id")
        )
        return self.extras + per_device + self.summaries


ESTIMATORS: dict[str, Estimator] = {
    "op2": Estimator(
        bias=op2_bias,
        summary=op2_summary,
        extras=(
            "v_tail",
            "v_x",
            "v_z",
            "vgs_MNCM11",
            "vsg_MPCM211",
            "log10_i_tail",
            "log10_i_z",
        ),
        summaries=("a_0_first_order_dB",),
        constants=("I0", "Md", "Mcm31"),
        instances={
            "MNCM11": "MNCM11",
            "MNCM12": "MNCM12",
            "MND11": "MND11",
            "MND12": "MND11",
            "MPCM211": "MPCM211",
            "MPCM221": "MPCM211",
            "MPCM212": "MPCM212",
            "MPCM222": "MPCM222",
            "MNCM31": "MNCM31",
            "MNCM32": "MNCM32",
        },
    ),
}
OP2_FEATURES = ESTIMATORS["op2"].feature_names


@struct.dataclass
class Physics:
    """Everything the physics inputs need, as a pytree (jit- and save-able).

    ``log_low``/``log_high`` [n]: the log bounds of ``surrogate_features``, to
    recover SI parameters from its [0, 1] positions; ``low``/``high`` [F]: the
    raw features' scaling (0.5th and 99.5th percentiles of the fitted designs).
    """

    nmos: dict
    pmos: dict
    vdd: jax.Array
    constants: dict
    log_low: jax.Array
    log_high: jax.Array
    low: jax.Array
    high: jax.Array
    circuit: str = struct.field(pytree_node=False)  # the estimator's name
    names: tuple[str, ...] = struct.field(pytree_node=False)  # parameter order

    @property
    def feature_names(self) -> tuple[str, ...]:
        return ESTIMATORS[self.circuit].feature_names


def bias_points(physics: Physics, params: jax.Array) -> tuple[dict, list]:
    """``ESTIMATORS[circuit].bias`` of SI designs ``params`` [B, n]."""
    p = {name: params[:, k] for k, name in enumerate(physics.names)}
    nets = {"nmos": physics.nmos, "pmos": physics.pmos}
    return ESTIMATORS[physics.circuit].bias(p, nets, physics.vdd, physics.constants)


def raw_physics(physics: Physics, params: jax.Array) -> jax.Array:
    """Unscaled physics features ``[B, F]`` of SI designs ``params`` [B, n]:
    the extras, gm/Id and log10(gds/Id) per device, the summaries."""
    estimator = ESTIMATORS[physics.circuit]
    biases, extras = bias_points(physics, params)
    nets = {"nmos": physics.nmos, "pmos": physics.pmos}
    devices = {}
    for name, (polarity, *point) in biases.items():
        y = forward(nets[polarity], *point)
        devices[name] = (y[..., 0], y[..., 3] - y[..., 2])
    columns = list(extras)
    for name in estimator.devices:
        columns += list(devices[name])
    columns += estimator.summary(devices)
    return jnp.stack(columns, -1)


def physics_inputs(physics: Physics, features: jax.Array) -> jax.Array:
    """Ensemble inputs ``[B, n + F]`` from ``surrogate_features`` [B, n]."""
    params = jnp.exp(physics.log_low + features * (physics.log_high - physics.log_low))
    raw = raw_physics(physics, params)
    scaled = (raw - physics.low) / (physics.high - physics.low)
    scaled = jnp.clip(jnp.nan_to_num(scaled, nan=0.5), *CLIP)
    return jnp.concatenate([features, scaled.astype(features.dtype)], -1)


def physics_for(circuit, technology, scale, root: Path | None = None) -> Physics | None:
    """The unscaled ``Physics`` of a circuit on a technology, or None where
    the circuit declares no estimator (``surrogate_physics``) or the
    technology has no device networks (an unknown estimator name is a
    ``UserInputError``).
    ``circuit``: ``sim.format.circuit.Circuit``; ``technology``: its ``Technology``;
    ``scale``: the v1 ``ActionScale``. Call ``fit_scaling`` before use."""
    from surrogate.circuit.dataset import feature_bounds
    from surrogate.device.model_file import load_network, model_dir, read_model_json
    from surrogate.device.names import DEVICE_NAMES

    name = circuit.surrogate_physics
    if name and name not in ESTIMATORS:
        raise UserInputError(
            f"circuit {circuit.name} declares surrogate_physics {name!r}; the "
            f"estimators are {', '.join(sorted(ESTIMATORS))}"
        )
    if not name or technology.name not in DEVICE_NAMES:
        return None
    nets = {}
    for polarity, device in DEVICE_NAMES[technology.name].items():
        directory = model_dir(technology.name, device, root)
        if not (directory / "model.json").is_file():
            return None
        nets[polarity] = device_network(
            load_network(directory, read_model_json(directory)["forward"])
        )
    needed = ESTIMATORS[name].constants
    low, high = feature_bounds(scale)
    n_features = len(ESTIMATORS[name].feature_names)
    return Physics(
        nmos=nets["nmos"],
        pmos=nets["pmos"],
        vdd=jnp.float32(technology.vdd),
        constants={k: jnp.float32(circuit.constants[k]) for k in needed},
        log_low=jnp.asarray(np.log(low), jnp.float32),
        log_high=jnp.asarray(np.log(high), jnp.float32),
        low=jnp.zeros(n_features, jnp.float32),
        high=jnp.ones(n_features, jnp.float32),
        circuit=name,
        names=tuple(scale.names),
    )


def _in_chunks(function, physics: Physics, rows: np.ndarray, chunk: int = 4096):
    """``function(physics, rows)`` jitted, over ``chunk``-row slices (numpy)."""
    run = jax.jit(function)
    parts = [
        np.asarray(run(physics, jnp.asarray(rows[i : i + chunk], jnp.float32)))
        for i in range(0, len(rows), chunk)
    ]
    return np.concatenate(parts)


def fit_scaling(physics: Physics, params: np.ndarray) -> Physics:
    """``physics`` scaled on designs ``params`` [N, n] (SI)."""
    raw = _in_chunks(raw_physics, physics, params)
    low = np.nanpercentile(raw, 0.5, axis=0)
    high = np.nanpercentile(raw, 99.5, axis=0)
    high = np.where(high - low > 1e-6, high, low + 1.0)
    return physics.replace(
        low=jnp.asarray(low, jnp.float32), high=jnp.asarray(high, jnp.float32)
    )


def with_physics(data, physics: Physics):
    """A ``CircuitDataset`` whose ``inputs`` [N, n + F] carry the physics."""
    from dataclasses import replace

    return replace(data, inputs=_in_chunks(physics_inputs, physics, data.inputs))


# -- fine-tuning on the circuit's own operating points ----------------------------
def operating_truth(data, instances: dict[str, str]) -> dict[str, np.ndarray] | None:
    """SPICE gm/Id (1/V) and log10(gds/Id) per circuit device, ``[N, 2]``
    each (NaN where missing), from a ``CircuitDataset``'s operating-point
    entries; None when the dataset lacks them."""
    names = list(data.output_names)
    out = {}
    for device in instances:
        columns = [f"{device}:{k}" for k in ("gmoverid", "gds", "id")]
        if any(c not in names for c in columns):
            return None
        raw = []
        for c in columns:
            k = names.index(c)
            y = data.outputs[:, k]
            raw.append(np.abs(data.sign[k] * 10.0**y) if data.log_mask[k] else y)
        gmid, gds, i_d = (np.abs(r) for r in raw)
        with np.errstate(divide="ignore", invalid="ignore"):
            pair = np.stack([gmid, np.log10(gds / i_d)], -1)
        ok = data.valid[:, None] & np.isfinite(pair) & (gmid > 0)[:, None]
        out[device] = np.where(ok, pair, np.nan)
    return out


def _tuning_set(physics: Physics, params: np.ndarray, truth: dict, index) -> dict:
    """Per polarity: forward-network inputs ``[M, 5]`` (raw: w, l, vgs, vds,
    vbs at the estimated bias) and SPICE targets ``[M, 2]`` of designs
    ``index``, every circuit device pooled."""
    biases = bias_points(physics, jnp.asarray(params[index], jnp.float32))[0]
    instances = ESTIMATORS[physics.circuit].instances
    x = {"nmos": [], "pmos": []}
    t = {"nmos": [], "pmos": []}
    for device, key in instances.items():
        polarity, *point = biases[key]
        point = np.stack(
            [np.broadcast_to(np.asarray(v), (len(index),)) for v in point], -1
        )
        target = truth[device][index]
        keep = np.isfinite(target).all(-1)
        x[polarity].append(point[keep])
        t[polarity].append(target[keep])
    return {
        pol: (
            jnp.asarray(np.concatenate(x[pol]), jnp.float32),
            jnp.asarray(np.concatenate(t[pol]), jnp.float32),
        )
        for pol in x
    }


def _tuning_loss(layers: dict, physics: Physics, sets: dict, anchors: dict):
    """L1 on gm/Id (relative) and log10(gds/Id), plus staying at the original
    network's log10 fug and log10 Id/W (which set the bias estimate)."""
    total, count = 0.0, 0
    for polarity, (x, t) in sets.items():
        net = {**getattr(physics, polarity), "layers": layers[polarity]}
        y = forward(net, *(x[:, i] for i in range(5)))
        fit = jnp.abs(y[:, 0] / t[:, 0] - 1) + jnp.abs(y[:, 3] - y[:, 2] - t[:, 1])
        keep = jnp.abs(y[:, 1:3] - anchors[polarity]).sum(-1)
        total = total + (fit + keep).sum()
        count += x.shape[0]
    return total / max(count, 1)


def fine_tune(
    physics: Physics,
    data,
    fit_index: np.ndarray,
    check_index: np.ndarray,
    steps: int = 600,
    learning_rate: float = 3e-4,
) -> tuple[Physics, dict]:
    """Fine-tune the copied forward networks on the circuit's own operating
    points: SPICE's gm/Id and gds/Id of every device of designs ``fit_index``
    at the estimated bias points (``check_index`` picks the best step).

    Device networks are fitted to a device alone at swept biases; inside the
    circuit the estimate's bias errors and sky130's size bins add a few
    percent on gds/Id, which the output devices turn into a_0 errors. Every
    design's ten devices are pooled per polarity, so 2,250 designs give
    ~13,500 nmos and ~9,000 pmos examples. Returns the tuned physics and the
    check loss before and after (None if ``data`` has no op entries).
    """
    import optax

    truth = operating_truth(data, ESTIMATORS[physics.circuit].instances)
    if truth is None:
        return physics, {"check_loss_before": None, "check_loss_after": None}
    fit = _tuning_set(physics, data.params, truth, fit_index)
    check = _tuning_set(physics, data.params, truth, check_index)
    original = {"nmos": physics.nmos["layers"], "pmos": physics.pmos["layers"]}

    def anchors_of(sets):
        out = {}
        for polarity, (x, _) in sets.items():
            y = forward(getattr(physics, polarity), *(x[:, i] for i in range(5)))
            out[polarity] = y[:, 1:3]
        return out

    fit_anchor, check_anchor = anchors_of(fit), anchors_of(check)
    tx = optax.adam(learning_rate)
    state = tx.init(original)

    @jax.jit
    def step(layers, state):
        loss, grads = jax.value_and_grad(_tuning_loss)(layers, physics, fit, fit_anchor)
        updates, state = tx.update(grads, state, layers)
        return optax.apply_updates(layers, updates), state, loss

    check_loss = jax.jit(
        lambda layers: _tuning_loss(layers, physics, check, check_anchor)
    )
    before = best = float(check_loss(original))
    layers, best_layers = original, original
    for i in range(steps):
        layers, state, _ = step(layers, state)
        if (i + 1) % 20 == 0:
            current = float(check_loss(layers))
            if current < best:
                best, best_layers = current, layers
    tuned = physics.replace(
        nmos={**physics.nmos, "layers": best_layers["nmos"]},
        pmos={**physics.pmos, "layers": best_layers["pmos"]},
    )
    return tuned, {"check_loss_before": before, "check_loss_after": best}


_SCALING = ("x_min", "x_max", "y_min", "y_max")


# -- files ------------------------------------------------------------------------
def physics_to_files(physics: Physics) -> tuple[dict, dict[str, np.ndarray]]:
    """``surrogate.json``'s ``physics`` entry and the arrays of ``physics.npz``."""
    meta = {
        "circuit": physics.circuit,
        "parameters": list(physics.names),
        "feature_names": list(physics.feature_names),
        "vdd": float(physics.vdd),
        "constants": {k: float(v) for k, v in physics.constants.items()},
        "low": [float(v) for v in physics.low],
        "high": [float(v) for v in physics.high],
        "log_low": [float(v) for v in physics.log_low],
        "log_high": [float(v) for v in physics.log_high],
    }
    arrays = {}
    for polarity in ("nmos", "pmos"):
        net = getattr(physics, polarity)
        for i, (kernel, bias) in enumerate(net["layers"]):
            arrays[f"{polarity}_layer{i}_kernel"] = np.asarray(kernel)
            arrays[f"{polarity}_layer{i}_bias"] = np.asarray(bias)
        for key in _SCALING:
            arrays[f"{polarity}_{key}"] = np.asarray(net[key])
    return meta, arrays


def physics_from_files(meta: dict, arrays) -> Physics:
    """Inverse of ``physics_to_files`` (``arrays``: the opened npz)."""
    f32 = lambda a: jnp.asarray(a, jnp.float32)  # noqa: E731
    nets = {}
    for polarity in ("nmos", "pmos"):
        layers, i = [], 0
        while f"{polarity}_layer{i}_kernel" in arrays:
            prefix = f"{polarity}_layer{i}"
            layers.append(
                (f32(arrays[f"{prefix}_kernel"]), f32(arrays[f"{prefix}_bias"]))
            )
            i += 1
        scaling = {k: f32(arrays[f"{polarity}_{k}"]) for k in _SCALING}
        nets[polarity] = {"layers": layers, **scaling}
    return Physics(
        nmos=nets["nmos"],
        pmos=nets["pmos"],
        vdd=jnp.float32(meta["vdd"]),
        constants={k: jnp.float32(v) for k, v in meta["constants"].items()},
        log_low=f32(meta["log_low"]),
        log_high=f32(meta["log_high"]),
        low=f32(meta["low"]),
        high=f32(meta["high"]),
        circuit=meta["circuit"],
        names=tuple(meta["parameters"]),
    )
