"""The foreign boxes (``benchmarks/boxes``): each loads with its technology,
simulates its default design in one call, and draws targets from its
declared box; ``python -m benchmarks boxes --quick`` runs end to end."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from benchmarks.__main__ import main as benchmarks_main
from benchmarks.boxes.registry import BOXES_DIR, box_names, load_box
from sim.errors import UserInputError
from sim.format.technology import load_technology
from sim.sizing.session import ProblemOptions, open_session
from sim.sizing.simulator import Simulator
from sim.storage.store import SimulationStore

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
pytestmark = pytest.mark.skipif(shutil.which("ngspice") is None, reason="no ngspice")


def needs_shared(name: str):
    """The box ``name``; skipped when its technology file needs ../shared and
    that folder is absent (the PTM card lives there, outside the repo)."""
    box = load_box(name)
    if box.technology_path is not None and not SHARED.is_dir():
        pytest.skip(f"shared data folder absent: {SHARED}")
    return box


def test_there_are_at_least_three_boxes_each_citing_its_source():
    assert len(box_names()) >= 3
    for name in box_names():
        box = load_box(name)
        readme = (box.directory / "README.md").read_text()
        assert box.source and "github.com" in readme, name
        assert box.ceiling is None or 0.0 <= box.ceiling <= 1.0


@pytest.mark.parametrize("name", box_names())
def test_box_simulates_its_default_design_and_draws_targets(name):
    box = needs_shared(name)
    simulator = Simulator(
        box.circuit, box.tech, n_workers=1, store=SimulationStore(":memory:")
    )
    try:
        [result] = simulator.simulate([{}])  # every parameter at its default
    finally:
        simulator.close()
    assert result.ok, result.message
    session = open_session(
        ProblemOptions(box.circuit, box.tech), store=SimulationStore(":memory:")
    )
    try:
        spec_box = session.problem.box
    finally:
        session.close()
    assert set(spec_box.names) <= set(result.performance)
    targets = spec_box.sample(1000, 1)
    assert targets.shape == (1000, len(spec_box.names))
    low = np.asarray([s.low for s in spec_box.specs])
    high = np.asarray([s.high for s in spec_box.specs])
    assert np.all((targets >= low) & (targets <= high))
    assert np.array_equal(targets, spec_box.sample(1000, 1))  # the ceiling's draw


def test_a_box_technology_without_its_model_card_fails_in_one_line(tmp_path):
    yaml_files = sorted(BOXES_DIR.glob("*/ptm45.yaml"))
    assert yaml_files, "no box uses the PTM card"
    moved = tmp_path / "ptm45.yaml"
    shutil.copy(yaml_files[0], moved)  # its relative model path now leads nowhere
    with pytest.raises(UserInputError) as error:
        load_technology(moved)
    assert "model file not found" in str(error.value)
    assert "\n" not in str(error.value)


@pytest.mark.slow
def test_boxes_quick_runs_every_cell_once_and_skips_it_after(tmp_path, capsys):
    needs_shared(box_names()[0])
    argv = ["boxes", "--quick", "--method", "ours", "random-pool"]
    argv += ["--out", str(tmp_path)]
    assert benchmarks_main(argv) == 0
    results = sorted((tmp_path / "results").glob("*/*.json"))
    assert [p.stem for p in results] == ["ours-s0", "random-pool-s0"]
    rows = [json.loads(p.read_text()) for p in results]
    ours = rows[0]
    assert ours["designs_resimulated"] <= ours["targets"] == 20
    assert 0.0 <= ours["success_rate"] <= 1.0
    assert rows[1]["total_sims"] <= ours["total_sims"]  # equal budget, no more
    for name in ("boxes.md", "boxes.json", f"success_{box_names()[0]}.png"):
        assert (tmp_path / name).is_file()
    capsys.readouterr()
    assert benchmarks_main(argv) == 0
    assert capsys.readouterr().out.count(": done (") == 2
