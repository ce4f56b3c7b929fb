"""What the networks learn: the characterised region and the (X, Y) columns.

Inverse map (GAC²E's): ``[gmoverid, log10(fug), vds, vbs] ->
[log10(idoverw), l, log10(gdsoverw), vgs]`` at the reference width.
The inverse network learns ``INVERSE_TARGETS`` (L as log10(L), so its error
is relative across the 20x range of lengths) and answers in
``INVERSE_OUTPUTS``.
Forward map (used to polish and check a sizing): ``[log10(w), log10(l), vgs,
vds, vbs] -> [gmoverid, log10(fug), log10(idoverw), log10(gdsoverw)]``.
Units: 1/V, Hz, V, A/m, m, S/m.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

INVERSE_INPUTS = ("gmoverid", "log10(fug)", "vds", "vbs")
INVERSE_OUTPUTS = ("log10(idoverw)", "l", "log10(gdsoverw)", "vgs")
INVERSE_TARGETS = ("log10(idoverw)", "log10(l)", "log10(gdsoverw)", "vgs")
FORWARD_INPUTS = ("log10(w)", "log10(l)", "vgs", "vds", "vbs")
FORWARD_OUTPUTS = ("gmoverid", "log10(fug)", "log10(idoverw)", "log10(gdsoverw)")


@dataclass(frozen=True)
class Region:
    """Operating points kept for training (and so the region a request may use).

    Weak inversion below ``idoverw_min`` is left out: there gm/Id is flat, so
    (gm/Id, fug) no longer pins down L and Vgs, and leakage bends the curves.
    ``gmoverid_min`` drops deep strong inversion; ``vds_min`` the edge of the
    triode region where gm/Id changes steeply with Vds.
    """

    idoverw_min: float = 1e-3  # A/m, i.e. 1 nA/um
    gmoverid_min: float = 3.0  # 1/V
    vds_min: float = 0.1  # V


INVERSE_REGION = Region()
FORWARD_REGION = Region(idoverw_min=2e-4, gmoverid_min=2.5, vds_min=0.075)
"""The forward network covers a margin around the inverse region for Newton."""


def region_mask(columns: dict[str, np.ndarray], region: Region) -> np.ndarray:
    """Boolean mask of the points of ``Table.columns()`` inside ``region``."""
    with np.errstate(invalid="ignore"):
        finite = np.ones_like(columns["id"], dtype=bool)
        for name in ("gmoverid", "fug", "idoverw", "gdsoverw"):
            finite &= np.isfinite(columns[name]) & (columns[name] > 0)
        return (
            finite
            & (columns["idoverw"] >= region.idoverw_min)
            & (columns["gmoverid"] >= region.gmoverid_min)
            & (columns["vds"] >= region.vds_min - 1e-9)
        )


def inverse_arrays(
    columns: dict[str, np.ndarray], mask: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``X`` [n, 4], ``Y`` [n, 4] of the inverse map (float64)."""
    c = {k: v[mask] for k, v in columns.items()}
    x = np.stack([c["gmoverid"], np.log10(c["fug"]), c["vds"], c["vbs"]], axis=1)
    y = np.stack(
        [np.log10(c["idoverw"]), c["l"], np.log10(c["gdsoverw"]), c["vgs"]], axis=1
    )
    return x, y


def inverse_targets(y: np.ndarray) -> np.ndarray:
    """``INVERSE_OUTPUTS`` [n, 4] -> ``INVERSE_TARGETS`` [n, 4] (L -> log10 L)."""
    out = np.array(y, np.float64)
    out[:, 1] = np.log10(out[:, 1])
    return out


def forward_arrays(
    columns: dict[str, np.ndarray], mask: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``X`` [n, 5], ``Y`` [n, 4] of the forward map (float64)."""
    c = {k: v[mask] for k, v in columns.items()}
    x = np.stack(
        [np.log10(c["w"]), np.log10(c["l"]), c["vgs"], c["vds"], c["vbs"]], axis=1
    )
    y = np.stack(
        [
            c["gmoverid"],
            np.log10(c["fug"]),
            np.log10(c["idoverw"]),
            np.log10(c["gdsoverw"]),
        ],
        axis=1,
    )
    return x, y


def errors(predicted: np.ndarray, true: np.ndarray) -> dict[str, np.ndarray]:
    """Per-point |error| of inverse-map outputs, as the acceptance states them.

    ``log10(idoverw)``/``log10(gdsoverw)``: absolute, in decades; ``l``:
    relative; ``vgs``: absolute, volts.
    """
    e = np.abs(predicted - true)
    return {
        "log10(idoverw)": e[:, 0],
        "l": e[:, 1] / np.abs(true[:, 1]),
        "log10(gdsoverw)": e[:, 2],
        "vgs": e[:, 3],
    }
