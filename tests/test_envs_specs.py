"""Targets: sampled from feasible spec ranges (met by an anchor design) and
``python -m envs.specs`` with its train/held-out split."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np
import pytest

from envs import definition as d
from envs.config import EnvConfig, build_problem
from envs.problem import restrict_to_specs
from envs.specs import main, sample_targets
from envs.targets import draw_target
from sim.circuit import load_circuit
from sim.sampling import random_designs
from sim.simulator import Simulator
from sim.specs import derive_feasible_specs, write_feasible
from sim.technology import load_technology

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def feasible_op2(tmp_path_factory, pool) -> Path:
    """Feasible specs of op2 on generic from 80 random designs."""
    tech = load_technology("generic")
    circuit = restrict_to_specs(load_circuit("op2", tech))
    directory = tmp_path_factory.mktemp("feasible")
    from sim.store import SimulationStore

    with SimulationStore(directory / "store.sqlite") as store:
        simulator = Simulator(circuit, tech, pool=pool, store=store)
        results = simulator.simulate(random_designs(circuit, 80, seed=0))
    feasible = derive_feasible_specs(circuit, "generic", "tt", results)
    path = directory / "feasible_generic.json"
    write_feasible(feasible, path)
    return path


def test_sampled_targets_are_met_by_an_anchor(feasible_op2):
    config = EnvConfig("op2", "generic", feasible_specs=str(feasible_op2))
    definition = build_problem(config).definition
    assert len(definition.anchors) > 1
    targets = sample_targets(definition, 300, seed=0)
    assert targets.shape == (300, 4) and targets.dtype == np.float32
    for target in targets:
        assert np.all(target >= definition.spec_low * (1 - 1e-6))
        assert np.all(target <= definition.spec_high * (1 + 1e-6))
        # float32 rounding: an anchor meets it within 1e-5 relative
        slack = np.where(definition.lower, 1 + 1e-5, 1 - 1e-5)
        met = d.terminated(definition.anchors * slack, target, definition.lower)
        assert met.any()
    # the env's own (NumPy) draws are the same targets as the jitted batch
    keys = jax.random.split(jax.random.key(0), 3)
    for key, target in zip(keys, targets[:3], strict=True):
        np.testing.assert_allclose(draw_target(key, definition), target, rtol=1e-5)


def test_specs_cli_writes_a_train_and_held_out_split(tmp_path, feasible_op2):
    out = tmp_path / "targets.json"
    argv = ["--env", "jaxsizer/op2-generic-v1", "--n", "50", "--seed", "3"]
    argv += ["--out", str(out), "--feasible-specs", str(feasible_op2)]
    assert main(argv) == 0
    doc = json.loads(out.read_text())
    assert (len(doc["train"]), len(doc["held_out"])) == (40, 10)
    assert doc["ranges_from"] == "feasible specs" and doc["anchors"] > 1
    assert set(doc["specs"]) == {"a_0", "ugbw", "pm", "power"}
    assert doc["specs"]["power"]["bound"] == "upper"
    train = {tuple(t.values()) for t in doc["train"]}
    held = {tuple(t.values()) for t in doc["held_out"]}
    assert len(train) == 40 and len(held) == 10 and not train & held
    # the same seed gives the same file, another seed other targets
    again = tmp_path / "again.json"
    main([*argv[:-4], "--out", str(again), "--feasible-specs", str(feasible_op2)])
    assert json.loads(again.read_text()) == doc
    argv[5] = "4"
    main(argv)
    assert json.loads(out.read_text())["train"] != doc["train"]


def test_specs_cli_refuses_bad_input(tmp_path, capsys):
    out = str(tmp_path / "t.json")
    assert main(["--env", "jaxsizer/op99-generic-v1", "--out", out]) == 2
    assert "unknown env id" in capsys.readouterr().err
    assert main(["--env", "jaxsizer/op2-generic-v1", "--n", "0", "--out", out]) == 2
    assert main(["--env", "jaxsizer/custom-v1", "--out", out]) == 2
    assert "needs --circuit and --tech" in capsys.readouterr().err


def test_python_m_envs_specs(tmp_path):
    out = tmp_path / "nand4.json"
    result = subprocess.run(
        [sys.executable, "-m", "envs.specs", "--env", "jaxsizer/nand4-sky130-v1"]
        + ["--n", "20", "--seed", "0", "--out", str(out), "--held-out", "0.25"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    doc = json.loads(out.read_text())
    assert (len(doc["train"]), len(doc["held_out"])) == (15, 5)
    assert doc["specs"]["vs0"]["bound"] == "point"
