"""``--space geometric|electrical|autockt`` (aliases v1, v0): parsed once in
``sim.sizing.session``, read from an ``--env`` id, recorded in a run, and honoured by
the commands that build an env or a policy (``envs.specs``, ``envs.bench``,
``python -m train`` and ``--spice-ppo``, ``train.size``/``train.eval``)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from envs.sizing_space import PolicyActions, space_session, space_variant
from sim.errors import OneLineArgumentParser, UserInputError
from sim.sizing.session import (
    ProblemOptions,
    add_problem_options,
    env_id_parts,
    open_session,
    options_from_args,
    parse_space,
)
from tests.conftest import REPO


def _options(*argv: str) -> ProblemOptions:
    parser = OneLineArgumentParser(prog="test")
    add_problem_options(parser)
    return options_from_args(parser.parse_args(list(argv)))


def test_space_names_and_aliases():
    assert parse_space("v1") == "geometric"
    assert parse_space("V0") == "electrical"
    assert parse_space("autockt") == "autockt"
    assert [space_variant(s) for s in ("geometric", "v0", "autockt")] == [
        "v1",
        "v0",
        "autockt",
    ]
    with pytest.raises(UserInputError, match="geometric, electrical, autockt"):
        parse_space("v2")


def test_the_env_id_names_the_space_and_flags_take_precedence():
    assert _options("--env", "jaxsizer/op2-generic-electrical-v0").space == (
        "electrical"
    )
    assert _options("--env", "jaxsizer/op2-generic-v1").space == "geometric"
    assert _options("--env", "jaxsizer/twostage-generic-autockt-v0").space == (
        "autockt"
    )
    options = _options("--env", "jaxsizer/op2-generic-electrical-v0", "--space", "v1")
    assert (options.circuit, options.space) == ("op2", "geometric")
    assert _options("--circuit", "op2", "--tech", "generic").space == "geometric"
    custom = _options(
        "--env", "jaxsizer/custom-autockt-v0", "--circuit", "op2", "--tech", "sky130"
    )
    assert (custom.circuit, custom.tech, custom.space) == ("op2", "sky130", "autockt")
    assert env_id_parts("envs:jaxsizer/op2-sky130-v1") == ("op2", "sky130", "geometric")
    with pytest.raises(UserInputError, match="space"):
        env_id_parts("jaxsizer/op2-sky130-surrogate-v0")


def test_a_bad_space_is_one_line_and_exit_2():
    done = subprocess.run(
        [sys.executable, "-m", "envs.specs", "--space", "v2", "--json", "x.json"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "unknown space 'v2'" in lines[0]


def test_the_stored_surrogate_bench_refuses_a_space_it_has_no_surrogate_in(capsys):
    from envs.surrogate_bench import main

    assert main(["--env", "jaxsizer/op2-sky130-electrical-v0"]) == 2
    assert "stored surrogates are geometric" in capsys.readouterr().err


def test_problem_options_record_the_space():
    options = ProblemOptions("op2", "generic", space="v0")
    assert options.space == "electrical"
    assert options.to_json()["space"] == "electrical"
    assert ProblemOptions.from_json(options.to_json()) == options
    old = {k: v for k, v in options.to_json().items() if k != "space"}
    assert ProblemOptions.from_json(old).space == "geometric"  # runs from before


def test_envs_specs_checks_and_records_the_space(tmp_path):
    from envs.specs import main

    out = tmp_path / "t.json"
    env_id = "jaxsizer/op2-generic-electrical-v0"
    assert main(["--env", env_id, "--n", "5", "--json", str(out)]) == 0
    document = json.loads(out.read_text())
    assert document["space"] == "electrical" and document["env"] == env_id
    # twostage has no electrical sizing procedure: one line, exit 2
    argv = ["--circuit", "twostage", "--tech", "generic", "--space", "v0"]
    assert main([*argv, "--n", "5", "--json", str(out)]) == 2


@pytest.mark.parametrize("space", ["geometric", "electrical", "autockt"])
def test_each_space_sizes_and_simulates_the_same_circuit(space):
    session = open_session(ProblemOptions("op2", "generic", space=space), workers=1)
    try:
        fingerprint = session.fingerprint
        spaced = space_session(session)
        names = spaced.problem.scale.names
        assert names[0] == ("gmid_cm1" if space == "electrical" else "Ldp1")
        # the box trainer's route: a sizing in the space, simulated
        evaluation = spaced.simulator.simulate(
            [spaced.problem.design(spaced.default_sizing)]
        )[0]
        assert evaluation.ok and set(names) <= set(evaluation.params)
        # the PPO-on-SPICE route: a batch of box actions through the action map
        circuit, tech = session.simulator.circuit, session.simulator.technology
        actions = PolicyActions(space, circuit, tech)
        design, state = actions.start()
        states = np.stack([state, state])
        box = np.asarray([np.full(actions.size, 0.9), np.full(actions.size, -0.9)])
        designs, states = actions.designs(box, states)
        assert set(designs[0]) == set(circuit.parameter_names)
        assert designs[0] != designs[1]
        assert all(e.ok for e in session.simulator.simulate(designs))
    finally:
        session.close()
    geometric = open_session(ProblemOptions("op2", "generic"), workers=1)
    try:  # a run's fingerprint tells the spaces apart
        assert (fingerprint == geometric.fingerprint) == (space == "geometric")
    finally:
        geometric.close()


def test_autockt_reads_a_box_action_as_a_step_on_the_grid():
    session = open_session(ProblemOptions("twostage", "generic"), workers=1)
    try:
        circuit, tech = session.simulator.circuit, session.simulator.technology
        actions = PolicyActions("autockt", circuit, tech)
        start, state = actions.start()
        steps = np.asarray([[-0.9, -0.1, 0.1, 0.9, 0.0, 0.0, 0.0]])
        designs, moved = actions.designs(steps, state[None])
        assert list(moved[0] - state) == [-1, 0, 0, 1, 0, 0, 0]
        assert designs[0]["mp1"] == start["mp1"] - 1
        assert designs[0]["mn3"] == start["mn3"] + 1
    finally:
        session.close()


def test_a_run_refuses_another_space_on_resume(tmp_path, capsys):
    from train.__main__ import main
    from train.config import TrainConfig, config_to_dict

    run = tmp_path / "run"
    run.mkdir()
    problem = ProblemOptions("op2", "generic", space="autockt").to_json()
    config = TrainConfig(problem=problem, run=str(run))
    (run / "config.json").write_text(json.dumps(config_to_dict(config)))
    for flags in (["--space", "v1"], ["--env", "jaxsizer/op2-generic-electrical-v0"]):
        assert main(["--run", str(run), "--resume", *flags]) == 2
        error = capsys.readouterr().err.strip().splitlines()
        assert len(error) == 1 and "trained in the autockt space" in error[0]


TINY = [
    "--sim-budget",
    "40",
    "--initial-samples",
    "24",
    "--round-targets",
    "8",
    "--round-sims",
    "4",
    "--held-out",
    "4",
    "--eval-every",
    "1",
    "--max-rounds",
    "1",
    "--policy-updates",
    "1",
    "--walk-steps",
    "2",
    "--episode-steps",
    "2",
    "--table-size",
    "16",
    "--surrogate-hidden",
    "16",
    "--surrogate-members",
    "2",
    "--surrogate-max-epochs",
    "10",
    "--ppo-n-envs",
    "4",
    "--ppo-n-steps",
    "2",
    "--ppo-hidden",
    "8",
    "--ppo-minibatches",
    "1",
    "--ppo-epochs",
    "1",
    "--workers",
    "1",
]


def _run(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", *argv], cwd=REPO, capture_output=True, text=True
    )


@pytest.mark.slow
@pytest.mark.parametrize("space", ["electrical", "autockt"])
def test_the_box_trainer_and_the_sizer_work_in_each_space(tmp_path, space):
    run = tmp_path / "run"
    env_id = f"jaxsizer/op2-generic-{space}-v0"
    done = _run("train", "--env", env_id, "--run", str(run), *TINY)
    assert done.returncode == 0, done.stderr
    assert json.loads((run / "config.json").read_text())["problem"]["space"] == space
    lines = (run / "verified.jsonl").read_text().splitlines()
    verified = [json.loads(line) for line in lines]
    if space == "electrical":  # the records carry the electrical values too
        assert "gmid_dp1" in verified[0]["params"] and "Wdp1" in verified[0]["params"]
    import gymnasium as gym

    import envs  # noqa: F401  (registers the ids)

    env = gym.make("jaxsizer/run-surrogate-v0", run=str(run))  # the run's space
    n_actions = 10 if space == "electrical" else 12
    assert env.action_space.shape == (n_actions,)
    env.reset(seed=0)
    assert np.isfinite(env.step(env.action_space.sample())[1])
    env.close()
    out = tmp_path / "sized"
    target = "a_0>=30dB ugbw>=20MHz"
    done = _run(
        "train.size", "--run", str(run), "--target", target, "--max-sims", "1",
        "--out", str(out), "--workers", "1",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    params = json.loads((out / "result.json").read_text())["params"]
    assert "Wdp1" in params and "gmid_dp1" not in params  # a circuit design
    assert (out / "op2_sized.subckt").is_file()


@pytest.mark.slow
@pytest.mark.parametrize("space", ["electrical", "autockt"])
def test_ppo_on_spice_trains_and_evaluates_in_each_space(tmp_path, space):
    from train.spice_baseline import evaluate_baseline

    run = tmp_path / "run"
    done = _run(
        "train", "--spice-ppo", "--circuit", "op2", "--tech", "generic",
        "--space", space, "--run", str(run), "--sim-budget", "16",
        "--ppo-n-envs", "4", "--ppo-n-steps", "2", "--ppo-minibatches", "1",
        "--ppo-epochs", "1", "--ppo-hidden", "8", "--episode-steps", "2",
        "--workers", "1",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    session = open_session(ProblemOptions("op2", "generic"), workers=1)
    targets = session.problem.box.sample(2, 0)
    session.close()
    met, sims = evaluate_baseline(str(run), targets, 2, workers=1)
    assert met.shape == sims.shape == (2,) and np.all((sims >= 1) & (sims <= 2))
