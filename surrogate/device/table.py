"""The device lookup table: a 5-D grid of ngspice operating points.

Axes ``[W, L, Vbs, Vds, Vgs]`` (metres, volts; see ``sweep`` for the sign
convention); quantities ``id, gm, gds, cgg, vth, vdsat`` (A, S, S, F, V, V) as
float32 arrays of that shape, NaN where a sweep failed. ``cgg`` is ngspice's
intrinsic gate capacitance (no overlap capacitance), so ``fug = gm / (2 pi
cgg)`` is the intrinsic transit frequency.

Stored as a compressed ``.npz`` (see ``surrogate/device/README.md``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

QUANTITIES = ("id", "gm", "gds", "cgg", "vth", "vdsat")
AXES = ("w", "l", "vbs", "vds", "vgs")
TABLE_FORMAT = 1


@dataclass
class SweepTable:
    """Operating points of one device on a grid (see the module docstring)."""

    tech: str
    device: str
    polarity: str
    corner: str
    temperature: float
    w: np.ndarray  # [n_w] m
    l: np.ndarray  # noqa: E741 - [n_l] m
    vbs: np.ndarray  # [n_vbs] V
    vds: np.ndarray  # [n_vds] V
    vgs: np.ndarray  # [n_vgs] V
    data: dict[str, np.ndarray]  # quantity -> [n_w, n_l, n_vbs, n_vds, n_vgs]
    failures: tuple[str, ...] = ()
    info: dict = field(default_factory=dict)  # free-form provenance

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(getattr(self, a)) for a in AXES)

    # -- persistence -------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write a compressed npz (float32 quantities, float64 axes)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = {
            "format": TABLE_FORMAT,
            "tech": self.tech,
            "device": self.device,
            "polarity": self.polarity,
            "corner": self.corner,
            "temperature": self.temperature,
            "failures": list(self.failures),
            "info": self.info,
        }
        arrays = {f"axis_{a}": np.asarray(getattr(self, a), np.float64) for a in AXES}
        arrays.update({q: self.data[q].astype(np.float32) for q in QUANTITIES})
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez_compressed(tmp, meta=np.array(json.dumps(meta)), **arrays)
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> SweepTable:
        with np.load(Path(path), allow_pickle=False) as npz:
            meta = json.loads(str(npz["meta"]))
            if meta.get("format") != TABLE_FORMAT:
                raise ValueError(
                    f"{path}: unsupported table format {meta.get('format')}"
                )
            axes = {a: npz[f"axis_{a}"] for a in AXES}
            data = {q: npz[q] for q in QUANTITIES}
        return cls(
            tech=meta["tech"],
            device=meta["device"],
            polarity=meta["polarity"],
            corner=meta["corner"],
            temperature=meta["temperature"],
            data=data,
            failures=tuple(meta["failures"]),
            info=meta.get("info", {}),
            **axes,
        )

    # -- derived columns -----------------------------------------------------------
    def columns(self) -> dict[str, np.ndarray]:
        """Flat float64 columns of every grid point (length ``prod(shape)``).

        Coordinates ``w, l, vbs, vds, vgs`` and quantities, plus the derived
        ``gmoverid`` (1/V), ``fug`` (Hz), ``idoverw`` (A/m), ``gdsoverw``
        (S/m). Points where a derived column is undefined hold NaN.
        """
        grids = np.meshgrid(*(getattr(self, a) for a in AXES), indexing="ij")
        out = {
            a: g.ravel().astype(np.float64) for a, g in zip(AXES, grids, strict=True)
        }
        for q in QUANTITIES:
            out[q] = self.data[q].ravel().astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            ids = np.where(out["id"] > 0, out["id"], np.nan)
            cgg = np.where(out["cgg"] > 0, out["cgg"], np.nan)
            out["gmoverid"] = out["gm"] / ids
            out["fug"] = out["gm"] / (2 * np.pi * cgg)
            out["idoverw"] = ids / out["w"]
            out["gdsoverw"] = np.where(out["gds"] > 0, out["gds"], np.nan) / out["w"]
        return out

    def slice_width(self, index: int) -> SweepTable:
        """The table at one width."""
        return SweepTable(
            tech=self.tech,
            device=self.device,
            polarity=self.polarity,
            corner=self.corner,
            temperature=self.temperature,
            w=self.w[index : index + 1],
            l=self.l,
            vbs=self.vbs,
            vds=self.vds,
            vgs=self.vgs,
            data={q: v[index : index + 1] for q, v in self.data.items()},
            failures=self.failures,
            info=self.info,
        )
