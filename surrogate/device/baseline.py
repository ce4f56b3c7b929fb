"""Linear interpolation on the swept table: the baseline the networks must beat.

A request ``(gm/Id, log10 fug, Vds, Vbs)`` is answered by linear interpolation
in the ``(gm/Id, log10 fug)`` plane of each of the four swept ``(Vds, Vbs)``
nodes around it (a Delaunay triangulation of that plane's in-region points),
then bilinear interpolation across Vds and Vbs. A full 4-D Delaunay
triangulation of the table is too slow (tens of minutes), this is seconds.
Queries outside a plane's triangulation give NaN (reported as not covered).
"""

from __future__ import annotations

import numpy as np
from scipy.interpolate import LinearNDInterpolator

from surrogate.device.dataset import Region, inverse_arrays, region_mask
from surrogate.device.table import SweepTable


class PlaneInterpolator:
    """Inverse map by table interpolation; ``table`` holds one width."""

    def __init__(self, table: SweepTable, region: Region) -> None:
        columns = table.columns()
        mask = region_mask(columns, region)
        x, y = inverse_arrays(columns, mask)
        self.vds = np.asarray(table.vds)
        self.vbs = np.asarray(table.vbs)
        self._lo = x[:, :2].min(axis=0)
        self._span = x[:, :2].max(axis=0) - self._lo
        self._planes: dict[tuple[int, int], LinearNDInterpolator | None] = {}
        for i_d, vds in enumerate(self.vds):
            for i_b, vbs in enumerate(self.vbs):
                sel = np.isclose(x[:, 2], vds) & np.isclose(x[:, 3], vbs)
                if sel.sum() < 4:
                    self._planes[i_d, i_b] = None
                    continue
                points = (x[sel, :2] - self._lo) / self._span
                self._planes[i_d, i_b] = LinearNDInterpolator(points, y[sel])

    @staticmethod
    def _bracket(axis: np.ndarray, value: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Lower node index and weight of the upper node (axis may decrease)."""
        order = np.argsort(axis)
        sorted_axis = axis[order]
        k = np.clip(np.searchsorted(sorted_axis, value) - 1, 0, len(axis) - 2)
        t = (value - sorted_axis[k]) / (sorted_axis[k + 1] - sorted_axis[k])
        t = np.where((t < -1e-9) | (t > 1 + 1e-9), np.nan, np.clip(t, 0, 1))
        return np.stack([order[k], order[k + 1]], axis=1), t

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """``x`` [n, 4] inverse inputs -> [n, 4] outputs (NaN: not covered)."""
        x = np.asarray(x, np.float64)
        plane_xy = (x[:, :2] - self._lo) / self._span
        d_idx, d_t = self._bracket(self.vds, x[:, 2])
        b_idx, b_t = self._bracket(self.vbs, x[:, 3])
        out = np.zeros((len(x), 4))
        for a in range(2):
            for b in range(2):
                weight = (d_t if a else 1 - d_t) * (b_t if b else 1 - b_t)
                value = np.full((len(x), 4), np.nan)
                keys = np.stack([d_idx[:, a], b_idx[:, b]], axis=1)
                for key in {tuple(k) for k in keys}:
                    plane = self._planes.get(key)
                    rows = np.all(keys == key, axis=1)
                    if plane is not None:
                        value[rows] = plane(plane_xy[rows])
                # a zero weight must not turn a neighbour's NaN into the answer's
                contribution = weight[:, None] * value
                contribution[weight == 0] = 0.0
                out += contribution
        return out
