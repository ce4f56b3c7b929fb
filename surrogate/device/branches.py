"""Where the inverse map is not single-valued: branch separation per point.

For a swept point (L0, Vgs0) at some (Vds, Vbs), walk along the table's
lengths at the same (Vds, Vbs): on each length's curve, fug rises with Vgs, so
the point's fug fixes one Vgs there, and ``g(L)`` is the gm/Id at that Vgs
minus the point's. Every sign change of ``g`` between neighbouring lengths is
another length that reaches the same (gm/Id, fug). The separation is the
spread of those lengths, in decades (0 where the point's length is the only
one). sky130's pfet, whose gm/Id is not monotonic in Vgs in moderate
inversion, has many points with two branches far apart in L.
"""

from __future__ import annotations

import numpy as np

from surrogate.device.table import SweepTable


def branch_separation(table: SweepTable, mask: np.ndarray) -> np.ndarray:
    """log10(L_max / L_min) over the lengths reaching each masked point's
    (gm/Id, fug) at its own (Vds, Vbs); ``mask`` selects points of
    ``table.columns()`` (one width). Returns ``[mask.sum()]`` decades."""
    if len(table.w) != 1:
        raise ValueError("branch_separation needs a table of one width")
    with np.errstate(divide="ignore", invalid="ignore"):
        gm, i_d, cgg = (
            table.data[q][0].astype(np.float64) for q in ("gm", "id", "cgg")
        )
        gmid = gm / i_d  # [L, Vbs, Vds, Vgs]
        log_fug = np.log10(gm / (2 * np.pi * cgg))
    n_l, n_b, n_d, n_g = gmid.shape
    points = np.stack(np.unravel_index(np.flatnonzero(mask), (n_l, n_b, n_d, n_g)), 1)
    log_l = np.log10(table.l)
    out = np.zeros(len(points))
    for ib in range(n_b):
        for idv in range(n_d):
            rows = np.flatnonzero((points[:, 1] == ib) & (points[:, 2] == idv))
            if not len(rows):
                continue
            il, ig = points[rows, 0], points[rows, 3]
            g0, f0 = gmid[il, ib, idv, ig], log_fug[il, ib, idv, ig]
            g = np.full((n_l, len(rows)), np.nan)
            for jl in range(n_l):
                f_curve, g_curve = log_fug[jl, ib, idv], gmid[jl, ib, idv]
                ok = np.isfinite(f_curve) & np.isfinite(g_curve)
                if ok.sum() < 2:
                    continue
                f_curve, g_curve = f_curve[ok], g_curve[ok]
                top = int(np.argmax(f_curve)) + 1  # fug rises with Vgs up to here
                f_curve, g_curve = f_curve[:top], g_curve[:top]
                inside = (f0 >= f_curve.min()) & (f0 <= f_curve.max())
                g[jl, inside] = np.interp(f0[inside], f_curve, g_curve) - g0[inside]
            a, b = g[:-1], g[1:]
            cross = np.isfinite(a) & np.isfinite(b) & (a * b < 0)
            t = np.where(cross, a / np.where(cross, a - b, 1.0), 0.0)
            roots = np.where(
                cross, log_l[:-1, None] + t * np.diff(log_l)[:, None], np.nan
            )
            own = log_l[il]
            hi = np.fmax(np.nanmax(np.vstack([roots, own]), axis=0), own)
            lo = np.fmin(np.nanmin(np.vstack([roots, own]), axis=0), own)
            out[rows] = hi - lo
    return out
