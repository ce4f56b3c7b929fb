"""The exploration notebooks (notebooks/*.ipynb): committed without outputs,
and each runs top to bottom in quick mode (JAXSIZER_QUICK=1) on real ngspice,
showing and saving every figure it promises."""

from __future__ import annotations

import json

import pytest

from tests.conftest import REPO

NOTEBOOKS = REPO / "notebooks"
FIGURES = {
    "01_device_gmid": {"gmid_charts", "network_error"},
    "02_circuit_surrogate": {"accuracy", "what_if", "bode"},
    "03_training_run": {"training_curves", "held_out_vs_sims", "spec_plane"},
    "04_your_circuit": {"random_designs", "sized_design"},
}


def test_every_notebook_is_listed():
    assert {p.stem for p in NOTEBOOKS.glob("*.ipynb")} == set(FIGURES)


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_committed_notebook_has_no_outputs(name):
    """Outputs and execution counts stay out of git (run, don't commit them)."""
    notebook = json.loads((NOTEBOOKS / f"{name}.ipynb").read_text())
    assert notebook["nbformat"] == 4
    for index, cell in enumerate(notebook["cells"]):
        where = f"{name}.ipynb cell {index}"
        assert cell.get("outputs", []) == [], f"{where} has outputs"
        assert cell.get("execution_count") is None, f"{where} has an execution count"
        assert "execution" not in cell.get("metadata", {}), f"{where}: timings"


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(FIGURES))
def test_notebook_runs_in_quick_mode(name, tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    figures = tmp_path / "figures"
    monkeypatch.setenv("JAXSIZER_QUICK", "1")
    monkeypatch.setenv("JAXSIZER_FIGURES", str(figures))
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # the notebooks' scratch directories
    monkeypatch.delenv("JAXSIZER_RUN", raising=False)
    monkeypatch.delenv("MPLBACKEND", raising=False)
    if name == "03_training_run":
        # exercises the baselines plot; the file format of benchmarks/box_targets.py
        baselines = tmp_path / "baselines.json"
        rows = [
            {"method": "random (shared pool)", "success_rate": 0.3, "total_sims": 400},
            {"method": "CMA-ES per target", "success_rate": 0.6, "total_sims": 900},
        ]
        baselines.write_text(json.dumps({"targets": 20, "ceiling": 0.98, "rows": rows}))
        monkeypatch.setenv("JAXSIZER_BASELINES", str(baselines))
    notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    before = set(NOTEBOOKS.iterdir())
    client = nbclient.NotebookClient(
        notebook,
        timeout=900,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    client.execute()  # raises CellExecutionError with the failing cell's traceback
    outputs = [o for cell in notebook.cells for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o["output_type"] == "error"]
    shown = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(shown) == len(FIGURES[name])
    saved = {p.stem for p in figures.glob("*.png") if p.stat().st_size > 1000}
    assert saved == FIGURES[name]
    assert set(NOTEBOOKS.iterdir()) <= before  # quick mode writes to temp dirs only
