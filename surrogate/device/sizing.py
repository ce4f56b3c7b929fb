"""The sizing helper: (gm/Id, fug, Id, Vds, Vbs) -> (W, L, Vgs) for one device.

``DeviceModel.load(tech, device)`` reads a trained model directory (no
training code needed). ``size`` is vectorised over arrays:

1. the inverse network (GAC²E's map, at the reference width) gives a first
   ``L``, ``Vgs`` and ``Id/W``, hence ``W = Id / (Id/W)`` — one guess per
   component of its mixture head, most probable first (sky130's pfet reaches
   some (gm/Id, fug) on two branches);
2. a damped Newton solve on the forward network (which knows the width) makes
   ``gm/Id``, ``fug`` and ``Id`` of the sized device match the request, so
   narrow-width effects (large in sky130) are accounted for;
3. the request is checked against the characterised region: each input inside
   the range the networks were trained on, the solve converged, and the
   answer's L, W and Vgs inside the swept ranges. ``size`` refuses requests
   that fail (``OutOfRegionError``, one line naming the first bad request);
   ``sizing`` returns everything with a ``valid`` mask and reasons instead.

Units: SI (1/V, Hz, A, V, m). pmos: gm/Id, fug, |Id|, |Vds| and |Vgs| are
magnitudes and Vbs = V(B) - V(S) >= 0 (reverse bias); nmos: Vbs <= 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from sim.errors import UserInputError
from surrogate.device.mixture import split_mixture
from surrogate.device.mlp import mlp_apply
from surrogate.device.model_file import (
    Network,
    load_network,
    model_dir,
    read_model_json,
)

# Newton tolerances: |relative gm/Id error|, |log10 fug error|, |log10 Id error|.
TOLERANCE = (0.005, 0.005, 0.002)
_ITERATIONS = 30


_VBS_HINT = {
    "nmos": " (nmos: Vbs = V(B) - V(S) <= 0)",
    "pmos": " (pmos: |Vbs| = V(B) - V(S) >= 0)",
}


class OutOfRegionError(UserInputError):
    """A sizing request outside the characterised region of a device model."""


class Sizing(NamedTuple):
    """Result of ``DeviceModel.sizing``; arrays of the request's shape.

    ``w``, ``l`` (m), ``vgs`` (V, magnitude for pmos), ``gds`` (S) and the
    model's ``gmoverid`` (1/V), ``fug`` (Hz) at that sizing; ``valid`` is False
    where the request is outside the characterised region, with ``reason``.
    """

    w: np.ndarray
    l: np.ndarray  # noqa: E741 - GAC²E's name
    vgs: np.ndarray
    gds: np.ndarray
    gmoverid: np.ndarray
    fug: np.ndarray
    valid: np.ndarray
    reason: np.ndarray  # str; "" where valid


def _scaled_apply(net: Network, x: jax.Array) -> jax.Array:
    lo, span = jnp.asarray(net.x_min), jnp.asarray(net.x_max - net.x_min)
    ylo, yspan = jnp.asarray(net.y_min), jnp.asarray(net.y_max - net.y_min)
    xs = ((x - lo) / span).astype(jnp.float32)
    return mlp_apply(net.layers, xs) * yspan.astype(jnp.float32) + ylo.astype(
        jnp.float32
    )


def _inverse_apply(net: Network, x: jax.Array) -> tuple[jax.Array, ...]:
    """Inverse network on raw inputs ``x`` [n, 4] -> the point answer [n, 4],
    every component's answer [n, K, 4] (most probable first) and the
    components' probabilities [n, K], in the public units of
    ``INVERSE_OUTPUTS`` (L in metres). A point regression has ``K = 1``."""
    lo, span = jnp.asarray(net.x_min), jnp.asarray(net.x_max - net.x_min)
    ylo = jnp.asarray(net.y_min, jnp.float32)
    yspan = jnp.asarray(net.y_max - net.y_min, jnp.float32)
    raw = mlp_apply(net.layers, ((x - lo) / span).astype(jnp.float32))
    if net.mixture_components:
        log_w, means, _ = split_mixture(raw, net.mixture_components, len(ylo))
    else:
        log_w, means = jnp.zeros((raw.shape[0], 1)), raw[:, None, :]
    order = jnp.argsort(-log_w, axis=1)
    means = jnp.take_along_axis(means, order[:, :, None], axis=1) * yspan + ylo
    if net.outputs[1] == "log10(l)":  # format /2 learns log10(L), returns L
        means = means.at[:, :, 1].set(10 ** means[:, :, 1])
    weights = jnp.exp(jnp.take_along_axis(log_w, order, axis=1))
    return means[:, 0], means, weights


@dataclass(frozen=True)
class Bounds:
    """The characterised region's box (raw units)."""

    inputs_min: np.ndarray  # inverse inputs: gm/Id, log10 fug, vds, vbs
    inputs_max: np.ndarray
    log_w: tuple[float, float]
    log_l: tuple[float, float]
    vgs: tuple[float, float]
    log_idoverw_min: float


def _make_solver(forward: Network, bounds: Bounds):
    lo = jnp.array([bounds.log_w[0], bounds.log_l[0], bounds.vgs[0]], jnp.float32)
    hi = jnp.array([bounds.log_w[1], bounds.log_l[1], bounds.vgs[1]], jnp.float32)
    step_limit = jnp.array([0.3, 0.2, 0.1], jnp.float32)

    def predict(z, vds, vbs):
        x = jnp.stack([z[0], z[1], z[2], vds, vbs])[None]
        return _scaled_apply(forward, x)[0]

    def residual(z, target):
        gmid, log_fug, log_id, vds, vbs = target
        y = predict(z, vds, vbs)
        return jnp.stack([(y[0] - gmid) / gmid, y[1] - log_fug, y[2] + z[0] - log_id])

    jacobian = jax.jacfwd(residual)

    def solve_one(z0, target):
        def body(_, z):
            r = residual(z, target)
            j = jacobian(z, target)
            jtj = j.T @ j
            damping = 1e-6 * jnp.trace(jtj) + 1e-12
            dz = jnp.linalg.solve(jtj + damping * jnp.eye(3), -j.T @ r)
            dz = dz * jnp.minimum(1.0, jnp.min(step_limit / (jnp.abs(dz) + 1e-12)))
            return jnp.clip(z + dz, lo, hi)

        z = jax.lax.fori_loop(0, _ITERATIONS, body, jnp.clip(z0, lo, hi))
        return z, residual(z, target), predict(z, target[3], target[4])

    return jax.jit(jax.vmap(solve_one))


class DeviceModel:
    """A trained device model: the inverse network, the forward network, ranges."""

    def __init__(self, directory: Path, meta: dict) -> None:
        self.directory = directory
        self.meta = meta
        self.tech: str = meta["tech"]
        self.device: str = meta["device"]
        self.polarity: str = meta["polarity"]
        self.reference_width: float = meta["reference_width"]
        self.inverse = load_network(directory, meta["inverse"])
        self.forward = load_network(directory, meta["forward"])
        ranges = meta["ranges"]
        self.bounds = Bounds(
            inputs_min=np.asarray(meta["inverse"]["x_min"]),
            inputs_max=np.asarray(meta["inverse"]["x_max"]),
            log_w=tuple(np.log10(ranges["w"])),
            log_l=tuple(np.log10(ranges["l"])),
            vgs=tuple(ranges["vgs"]),
            log_idoverw_min=float(np.log10(meta["region"]["idoverw_min"])),
        )
        self._solve = _make_solver(self.forward, self.bounds)
        self._inverse = jax.jit(lambda x: _inverse_apply(self.inverse, x))
        self._forward = jax.jit(lambda x: _scaled_apply(self.forward, x))

    @classmethod
    def load(cls, tech: str, device: str, root: Path | None = None) -> DeviceModel:
        """The model of ``device`` (e.g. ``nfet_01v8``) of ``tech`` (e.g. sky130)."""
        directory = model_dir(tech, device, root)
        return cls(directory, read_model_json(directory))

    # -- the networks as GAC²E's users know them ----------------------------------
    def predict_inverse(self, x: np.ndarray) -> np.ndarray:
        """``[n, 4]`` of [gmoverid, log10(fug), vds, vbs] -> ``[n, 4]`` of
        [log10(idoverw), l, log10(gdsoverw), vgs] (A/m, m, S/m, V); no checks.
        Where the map has several branches this is the most probable one."""
        return np.asarray(self._inverse(jnp.asarray(x, jnp.float32))[0], np.float64)

    def inverse_components(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every branch of the inverse map: ``[n, K, 4]`` answers (as
        ``predict_inverse``), most probable first, and ``[n, K]`` their
        probabilities; ``K = 1`` for a point-regression model."""
        _, means, weights = self._inverse(jnp.asarray(x, jnp.float32))
        return np.asarray(means, np.float64), np.asarray(weights, np.float64)

    def predict_forward(self, x: np.ndarray) -> np.ndarray:
        """``[n, 5]`` of [log10(w), log10(l), vgs, vds, vbs] -> ``[n, 4]`` of
        [gmoverid, log10(fug), log10(idoverw), log10(gdsoverw)]; no checks."""
        return np.asarray(self._forward(jnp.asarray(x, jnp.float32)), np.float64)

    # -- sizing -------------------------------------------------------------------
    def sizing(self, gmoverid, fug, i_d, vds, vbs) -> Sizing:
        """Size every request; never raises on region (see ``Sizing.valid``)."""
        arrays = np.broadcast_arrays(
            *(np.asarray(a, np.float64) for a in (gmoverid, fug, i_d, vds, vbs))
        )
        shape = arrays[0].shape
        g, f, i, d, b = (a.ravel() for a in arrays)
        reason = np.full(g.shape, "", dtype=object)
        finite = np.isfinite(g) & np.isfinite(f) & np.isfinite(i) & np.isfinite(d)
        finite &= np.isfinite(b) & (f > 0) & (i > 0) & (g > 0)
        reason[~finite] = "gm/Id, fug and Id must be positive finite numbers"
        safe = np.where(finite[:, None], np.stack([g, f, i, d, b], 1), 1.0)
        g, f, i, d, b = safe.T
        x = np.stack([g, np.log10(f), d, b], axis=1)
        self._check_inputs(x, reason)

        guesses, _ = self.inverse_components(x)  # [n, K, 4]
        z0 = np.stack(
            [
                np.log10(i)[:, None] - guesses[:, :, 0],
                np.log10(np.clip(guesses[:, :, 1], 1e-9, None)),
                guesses[:, :, 3],
            ],
            axis=2,
        )
        target = np.stack([g, np.log10(f), np.log10(i), d, b], axis=1)
        z, r, y = self._solve_from_starts(z0, target)
        self._check_solution(z, r, y, reason)
        valid = reason == ""
        out = Sizing(
            w=10 ** z[:, 0],
            l=10 ** z[:, 1],
            vgs=z[:, 2],
            gds=10 ** (y[:, 3] + z[:, 0]),
            gmoverid=y[:, 0],
            fug=10 ** y[:, 1],
            valid=valid,
            reason=reason,
        )
        return Sizing(*(np.reshape(a, shape) for a in out))

    def _solve_from_starts(self, z0: np.ndarray, target: np.ndarray):
        """Newton from each of the inverse network's guesses ``z0`` [n, K, 3]
        (log10 W, log10 L, Vgs; most probable first), then from three fixed
        lengths with the first guess's W and Vgs, since (gm/Id, fug) can be
        reached twice (sky130's pfet reaches some pairs at both L = 0.15 um
        and L = 3 um): the first start that converges wins, else the one with
        the smallest residual."""
        lo, hi = self.bounds.log_l
        starts = [z0[:, k] for k in range(z0.shape[1])]
        for fraction in (0.1, 0.5, 0.9):
            other = z0[:, 0].copy()
            other[:, 1] = lo + fraction * (hi - lo)
            starts.append(other)
        n = len(z0)
        z, r, y = (
            np.asarray(a, np.float64).reshape(len(starts), n, -1)
            for a in self._solve(
                jnp.asarray(np.concatenate(starts), jnp.float32),
                jnp.asarray(np.tile(target, (len(starts), 1))),
            )
        )
        score = np.max(np.abs(r) / np.asarray(TOLERANCE), axis=2)  # [starts, n]
        converged = score <= 1.0
        pick = np.where(
            converged.any(axis=0), np.argmax(converged, axis=0), score.argmin(axis=0)
        )
        rows = np.arange(n)
        return z[pick, rows], r[pick, rows], y[pick, rows]

    def size(self, gmoverid, fug, i_d, vds, vbs) -> tuple[np.ndarray, ...]:
        """``(W, L, Vgs)`` (m, m, V) for each request; raises
        ``OutOfRegionError`` if any request is outside the characterised region."""
        result = self.sizing(gmoverid, fug, i_d, vds, vbs)
        bad = np.flatnonzero(~np.ravel(result.valid))
        if len(bad):
            k = bad[0]
            request = [
                np.ravel(np.broadcast_to(a, result.valid.shape))[k]
                for a in (gmoverid, fug, i_d, vds, vbs)
            ]
            values = ", ".join(
                f"{name}={value:.4g}"
                for name, value in zip(
                    ("gm/Id", "fug", "Id", "Vds", "Vbs"), request, strict=True
                )
            )
            raise OutOfRegionError(
                f"{self.tech} {self.device}: request {k} ({values}) is outside the "
                f"characterised region: {np.ravel(result.reason)[k]}"
                + (
                    f" ({len(bad)} of {result.valid.size} requests refused)"
                    if len(bad) > 1
                    else ""
                )
            )
        return result.w, result.l, result.vgs

    # -- region checks ----------------------------------------------------------
    def _check_inputs(self, x: np.ndarray, reason: np.ndarray) -> None:
        lo, hi = self.bounds.inputs_min, self.bounds.inputs_max
        names = ("gm/Id", "log10(fug)", "Vds", "Vbs")
        units = ("1/V", "", "V", "V")
        slack = 1e-6 * (hi - lo)
        for k in range(4):
            outside = (x[:, k] < lo[k] - slack[k]) | (x[:, k] > hi[k] + slack[k])
            for row in np.flatnonzero(outside & (reason == "")):
                reason[row] = (
                    f"{names[k]} = {x[row, k]:.4g} {units[k]} is outside the "
                    f"characterised range [{lo[k]:.4g}, {hi[k]:.4g}]"
                    + (_VBS_HINT[self.polarity] if k == 3 else "")
                ).replace("  ", " ")

    def _check_solution(self, z, r, y, reason: np.ndarray) -> None:
        b = self.bounds
        tol = np.asarray(TOLERANCE)
        converged = np.all(np.abs(r) <= tol, axis=1)
        edge = 1e-4
        at_lo_l = z[:, 1] <= b.log_l[0] + edge
        at_hi_l = z[:, 1] >= b.log_l[1] - edge
        at_lo_w = z[:, 0] <= b.log_w[0] + edge
        at_hi_w = z[:, 0] >= b.log_w[1] - edge
        for row in np.flatnonzero(~converged & (reason == "")):
            if at_lo_w[row] or at_hi_w[row]:
                side = "below" if at_lo_w[row] else "above"
                reason[row] = (
                    f"the current needs a width {side} the characterised range "
                    f"[{10 ** b.log_w[0]:.3g}, {10 ** b.log_w[1]:.3g}] m"
                )
            elif at_lo_l[row] or at_hi_l[row]:
                side = "below" if at_lo_l[row] else "above"
                reason[row] = (
                    f"gm/Id and fug together need a length {side} the swept range "
                    f"[{10 ** b.log_l[0]:.3g}, {10 ** b.log_l[1]:.3g}] m"
                )
            else:
                reason[row] = (
                    "no characterised operating point has this gm/Id and fug at "
                    "this Vds and Vbs"
                )
        weak = y[:, 2] < b.log_idoverw_min - 0.05
        for row in np.flatnonzero(weak & (reason == "")):
            reason[row] = (
                f"the operating point is in weak inversion below Id/W = "
                f"{10**b.log_idoverw_min:.3g} A/m (not characterised)"
            )
