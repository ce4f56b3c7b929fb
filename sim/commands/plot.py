"""``python -m sim plot``: Bode plot and step response of one design (PNG)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sim.errors import UserInputError
from sim.sizing.simulator import Simulator


def _find(circuit, function: str):
    return next((m for m in circuit.measures if m.function == function), None)


def plot_design(simulator: Simulator, design: dict, out: Path) -> list[Path]:
    """Write ``<out>`` (Bode plot) and, if the circuit has a step testbench,
    ``<out stem>_step.png``. Returns the files written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    circuit = simulator.circuit
    gain = _find(circuit, "dc_gain")
    if gain is None:
        raise UserInputError(f"circuit {circuit.name} has no ac gain measure to plot")
    slew = _find(circuit, "slew_rate")
    extra = {}
    if slew is not None:
        extra[f"{slew.testbench}.{slew.analysis}"] = ["v(inp)"]
    try:
        waves = simulator.waveforms(design, extra)
    except RuntimeError as error:
        raise UserInputError(f"simulation failed: {error}") from None
    figures = simulator.simulate_one(design).performance
    ac = waves[gain.testbench]
    freq = np.real(ac[f"{gain.analysis}:frequency"])
    response = ac[f"{gain.analysis}:{gain.args['output']}"]
    magnitude = 20 * np.log10(np.abs(response))
    phase = np.degrees(np.unwrap(np.angle(response)))
    fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(7, 6))
    top.semilogx(freq, magnitude)
    top.axhline(0, color="grey", lw=0.8)
    top.set_ylabel("gain (dB)")
    ugbw = figures.get("ugbw", float("nan"))
    if np.isfinite(ugbw):
        for axis in (top, bottom):
            axis.axvline(ugbw, color="tab:red", ls="--", lw=0.8)
    bottom.semilogx(freq, phase - phase[0])
    bottom.set_ylabel("phase from DC (deg)")
    bottom.set_xlabel("frequency (Hz)")
    title = (
        f"{circuit.name} on {simulator.technology.name} ({simulator.corner}): "
        f"A0 {figures.get('a_0', float('nan')):.1f} dB, "
        f"UGBW {ugbw / 1e6:.3g} MHz, PM {figures.get('pm', float('nan')):.1f}°"
    )
    top.set_title(title, fontsize=10)
    for axis in (top, bottom):
        axis.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    written = [out]
    if slew is not None:
        tran = waves[slew.testbench]
        time = np.real(tran[f"{slew.analysis}:time"])
        fig, axis = plt.subplots(figsize=(7, 3.5))
        axis.plot(
            time * 1e6,
            np.real(tran[f"{slew.analysis}:v(inp)"]),
            label="in",
            color="grey",
        )
        axis.plot(
            time * 1e6,
            np.real(tran[f"{slew.analysis}:{slew.args['output']}"]),
            label="out",
        )
        axis.set_xlabel("time (µs)")
        axis.set_ylabel("V")
        axis.set_title(
            f"follower step: slew {figures.get('sr_r', float('nan')) / 1e6:.3g}"
            f" / {figures.get('sr_f', float('nan')) / 1e6:.3g} V/µs",
            fontsize=10,
        )
        axis.legend()
        axis.grid(alpha=0.3)
        fig.tight_layout()
        step = out.with_name(out.stem + "_step.png")
        fig.savefig(step, dpi=120)
        plt.close(fig)
        written.append(step)
    return written
