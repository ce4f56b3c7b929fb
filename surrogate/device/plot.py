"""PNG of a device model: gm/Id vs Id/W and fug vs gm/Id for a few lengths."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from surrogate.device.dataset import INVERSE_REGION, region_mask
from surrogate.device.table import SweepTable


def plot_device(model, table: SweepTable, path: Path, n_lengths: int = 4) -> Path:
    """Swept points (dots) and the forward network (lines) at the reference
    width, Vbs = 0 and Vds = mid-supply; writes ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = table.columns()
    vds = table.vds[np.argmin(np.abs(table.vds - table.vds.max() / 2))]
    vbs = table.vbs[np.argmin(np.abs(table.vbs))]
    inside = region_mask(cols, INVERSE_REGION)
    picks = np.unique(np.linspace(0, len(table.l) - 1, n_lengths).round().astype(int))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    for k, index in enumerate(picks):
        length = table.l[index]
        color = f"C{k}"
        sel = (
            inside
            & np.isclose(cols["l"], length)
            & np.isclose(cols["vds"], vds)
            & np.isclose(cols["vbs"], vbs)
        )
        label = f"L = {length * 1e6:.3g} um"
        ax1.semilogx(cols["idoverw"][sel], cols["gmoverid"][sel], "o", ms=3, c=color)
        ax2.semilogy(cols["gmoverid"][sel], cols["fug"][sel], "o", ms=3, c=color)
        vgs = np.linspace(cols["vgs"][sel].min(), cols["vgs"][sel].max(), 200)
        x = np.stack(
            [
                np.full_like(vgs, np.log10(model.reference_width)),
                np.full_like(vgs, np.log10(length)),
                vgs,
                np.full_like(vgs, vds),
                np.full_like(vgs, vbs),
            ],
            axis=1,
        )
        y = model.predict_forward(x)
        ax1.semilogx(10 ** y[:, 2], y[:, 0], "-", c=color, label=label)
        ax2.semilogy(y[:, 0], 10 ** y[:, 1], "-", c=color, label=label)
    ax1.set_xlabel("Id/W (A/m)")
    ax1.set_ylabel("gm/Id (1/V)")
    ax2.set_xlabel("gm/Id (1/V)")
    ax2.set_ylabel("fug = gm/(2 pi cgg) (Hz)")
    for ax in (ax1, ax2):
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(
        f"{model.tech} {model.device}: W = {model.reference_width * 1e6:g} um, "
        f"|Vds| = {vds:.3g} V, Vbs = {vbs:.3g} V (dots: ngspice, lines: network)"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
