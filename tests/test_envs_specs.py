"""Targets: drawn uniformly from the circuit's declared box (ranges, scales,
fixed bounds), the same in every environment, and ``python -m envs.specs``
with its train/held-out split."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np
import pytest

from envs.config import EnvConfig, build_problem
from envs.specs import main
from envs.targets import draw_by_key, draw_target
from sim.format.circuit import load_circuit
from sim.format.technology import load_technology
from sim.sizing.problem import problem_for

REPO = Path(__file__).resolve().parents[1]


def _problem(circuit: str, tech: str):
    technology = load_technology(tech)
    return problem_for(load_circuit(circuit, technology), tech, "tt")


def test_box_targets_follow_the_declared_ranges_and_scales():
    problem = _problem("twostage", "generic")
    box = problem.box
    targets = draw_by_key(jax.random.key(0), problem, 4000).astype(np.float64)
    assert targets.shape == (4000, 4)
    for k, spec in enumerate(box.specs):
        values = targets[:, k]
        if spec.fixed:  # pm >= 60 deg: every target is the bound itself
            np.testing.assert_allclose(values, spec.low, rtol=1e-6)
            continue
        assert values.min() >= spec.low * (1 - 1e-6)
        assert values.max() <= spec.high * (1 + 1e-6)
        # the quartiles of a uniform draw on the spec's scale
        low, high = (
            (np.log(spec.low), np.log(spec.high))
            if spec.scale == "log"
            else (spec.low, spec.high)
        )
        on_scale = np.log(values) if spec.scale == "log" else values
        position = (on_scale - low) / (high - low)
        np.testing.assert_allclose(
            np.quantile(position, [0.25, 0.5, 0.75]), [0.25, 0.5, 0.75], atol=0.03
        )
    # a log spec's geometric middle, not its arithmetic one, is the median
    ugbw = targets[:, box.names.index("ugbw")]
    spec = box.spec("ugbw")
    assert abs(np.median(ugbw) / np.sqrt(spec.low * spec.high) - 1) < 0.08


def test_every_environment_draws_the_same_box_targets():
    problem = _problem("op2", "generic")
    batch = draw_by_key(jax.random.key(5), problem, 3)
    keys = jax.random.split(jax.random.key(5), 3)
    for key, target in zip(keys, batch, strict=True):
        np.testing.assert_allclose(draw_target(key, problem), target, rtol=1e-5)
    env_problem = build_problem(EnvConfig("op2", "generic")).definition
    assert env_problem.box == problem.box


def test_specs_cli_writes_a_train_and_held_out_split(tmp_path):
    out = tmp_path / "targets.json"
    argv = ["--env", "jaxsizer/op2-generic-v1", "--n", "50", "--seed", "3"]
    assert main([*argv, "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert (len(doc["train"]), len(doc["held_out"])) == (40, 10)
    assert set(doc["box"]) == {"a_0", "ugbw", "pm", "power"}
    assert doc["box"]["power"]["bound"] == "upper"
    train = {tuple(t.values()) for t in doc["train"]}
    held = {tuple(t.values()) for t in doc["held_out"]}
    assert len(train) == 40 and len(held) == 10 and not train & held
    again = tmp_path / "again.json"
    main([*argv, "--json", str(again)])
    assert json.loads(again.read_text()) == doc
    argv[5] = "4"
    main([*argv, "--json", str(out)])
    assert json.loads(out.read_text())["train"] != doc["train"]


def test_specs_cli_refuses_bad_input(tmp_path, capsys):
    out = str(tmp_path / "t.json")
    assert main(["--env", "jaxsizer/op99-generic-v1", "--json", out]) == 2
    assert "unknown circuit 'op99'" in capsys.readouterr().err
    assert main(["--env", "jaxsizer/op2-generic-surrogate-v0", "--json", out]) == 2
    assert "bad env id" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stop:
        main(["--env", "jaxsizer/op2-generic-v1", "--n", "0", "--json", out])
    assert stop.value.code == 2
    assert main(["--env", "jaxsizer/custom-v1", "--json", out]) == 2
    assert "give --env, or --circuit and --tech" in capsys.readouterr().err


def test_python_m_envs_specs_with_a_user_circuit_path(tmp_path):
    out = tmp_path / "nand4.json"
    circuit = REPO / "sim" / "circuits" / "nand4" / "circuit.yaml"
    result = subprocess.run(
        [sys.executable, "-m", "envs.specs", "--circuit", str(circuit)]
        + ["--tech", "sky130", "--n", "20", "--seed", "0", "--json", str(out)]
        + ["--held-out", "0.25"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    doc = json.loads(out.read_text())
    assert (len(doc["train"]), len(doc["held_out"])) == (15, 5)
