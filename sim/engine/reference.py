"""Run a deck in a fresh ``ngspice -b`` process: the reference the pool must match.

Used by the pool-vs-batch equality test and by ``python -m sim bench`` to time
the cold-process alternative.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import numpy as np

from sim.engine.job import Analysis


def _control_block(analyses: tuple[Analysis, ...], out_dir: Path) -> list[str]:
    lines = [".control", "set num_threads=1", "set filetype=ascii"]
    noise_runs = 0
    for analysis in analyses:
        lines.append(analysis.command)
        if analysis.command.split()[0].lower() == "noise":
            # noise makes two plots; the spectra live in the first of them
            noise_runs += 1
            lines.append(f"setplot noise{2 * noise_runs - 1}")
        names = []
        for i, vector in enumerate(analysis.vectors):
            if _is_scale(vector):
                continue  # written as the plot's scale (first variable)
            names.append(f"jx{i}")
            lines.append(f"let jx{i} = {vector}")
        lines.append(f"write {out_dir / (analysis.name + '.raw')} {' '.join(names)}")
    lines += ["quit", ".endc"]
    return lines


def _is_scale(vector: str) -> bool:
    return vector in ("frequency", "time") or vector.endswith("-sweep")


def parse_ascii_raw(text: str) -> dict[str, np.ndarray]:
    """Vectors of an ngspice ASCII rawfile (one plot), float64 or complex128."""
    lines = text.splitlines()
    names: list[str] = []
    n_vars = n_points = 0
    complex_data = False
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("Flags:"):
            complex_data = "complex" in line
        elif line.startswith("No. Variables:"):
            n_vars = int(line.split(":")[1])
        elif line.startswith("No. Points:"):
            n_points = int(line.split(":")[1])
        elif line.startswith("Variables:"):
            names = [lines[i + 1 + k].split()[1] for k in range(n_vars)]
            i += n_vars
        elif line.startswith("Values:"):
            break
        i += 1
    tokens = " ".join(lines[i + 1 :]).split()
    values = np.zeros((n_points, n_vars), np.complex128 if complex_data else np.float64)
    pos = 0
    for point in range(n_points):
        pos += 1  # point index
        for var in range(n_vars):
            token = tokens[pos]
            if complex_data:
                re, im = token.split(",")
                values[point, var] = complex(float(re), float(im))
            else:
                values[point, var] = float(token)
            pos += 1
    # ``let jx0 = v(b)`` is written as "v(jx0)": index by the bare name too.
    out = {name: values[:, k] for k, name in enumerate(names)}
    out["__scale__"] = values[:, 0]
    for k, name in enumerate(names):
        if name[:2] in ("v(", "i(") and name.endswith(")"):
            out.setdefault(name[2:-1], values[:, k])
    return out


def run_batch(
    deck: str, analyses: tuple[Analysis, ...], timeout: float = 120.0
) -> dict[str, np.ndarray]:
    """Simulate ``deck`` (params already set) with ``ngspice -b``.

    Returns vectors keyed ``"<analysis>:<vector>"`` like the pool does.
    Raises ``RuntimeError`` when ngspice fails.
    """
    with tempfile.TemporaryDirectory(prefix="jaxsizer-ref-") as tmp:
        out_dir = Path(tmp)
        body = deck.rstrip().removesuffix(".end").rstrip().splitlines()
        text = "\n".join(body + _control_block(analyses, out_dir) + [".end", ""])
        (out_dir / "deck.sp").write_text(text)
        proc = subprocess.run(
            ["ngspice", "-b", str(out_dir / "deck.sp")],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=out_dir,
        )
        vectors: dict[str, np.ndarray] = {}
        for analysis in analyses:
            raw_file = out_dir / f"{analysis.name}.raw"
            if not raw_file.exists():
                raise RuntimeError(
                    f"ngspice -b wrote no {raw_file.name}: "
                    f"{proc.stdout[-500:]} {proc.stderr[-500:]}"
                )
            raw = parse_ascii_raw(raw_file.read_text())
            for i, vector in enumerate(analysis.vectors):
                key = raw["__scale__"] if _is_scale(vector) else raw[f"jx{i}"]
                vectors[f"{analysis.name}:{vector}"] = key
        return vectors
