"""SPICE environments on real ngspice: every id passes gymnasium's checker,
targets, constraints, logs, failures, bad input and the AutoCkt variant."""

from __future__ import annotations

import json
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import envs  # noqa: F401 - registers the ids
from envs.definition import SUCCESS_BONUS
from envs.registration import env_ids
from envs.spice_env import SpiceEnv
from sim.errors import UserInputError

SPEC_IDS = [i for i in env_ids(aliases=False) if "custom" not in i]
# the quick suite checks one id per kind of space and circuit family; the rest
# run with the slow tests (CI's second step)
QUICK_IDS = {
    "jaxsizer/op2-generic-geometric-v0",
    "jaxsizer/op2-sky130-electrical-v0",
    "jaxsizer/twostage-generic-autockt-v0",
    "jaxsizer/st1-generic-geometric-v0",
    "jaxsizer/nand4-sky130-geometric-v0",
}
CHECKED_IDS = [
    i if i in QUICK_IDS else pytest.param(i, marks=pytest.mark.slow) for i in SPEC_IDS
]
EASY_OP2 = {"a_0": 1.0, "ugbw": 1.0, "pm": 1.0, "power": 1.0}  # met by any design


def _device_models_missing(env_id: str) -> str | None:
    """Why a v0 id cannot run here (its device model files are absent), if so."""
    if not env_id.endswith("-electrical-v0"):
        return None
    from envs.electrical import missing_device_models

    tech = env_id.split("/")[1].rsplit("-", 3)[1]
    missing = missing_device_models(tech)
    return f"device gm/Id network files absent: {missing}" if missing else None


def make(env_id: str = "jaxsizer/op2-generic-geometric-v0", **kwargs) -> gym.Env:
    """An env on the process's shared one-worker pool (fast to create)."""
    kwargs.setdefault("pool", "shared")
    kwargs.setdefault("max_steps", 5)
    return gym.make(env_id, **kwargs).unwrapped


@pytest.mark.parametrize("env_id", CHECKED_IDS)
def test_check_env_passes_for_every_registered_id(env_id):
    reason = _device_models_missing(env_id)
    if reason:
        pytest.skip(reason)
    env = make(env_id)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*Box observation space.*")
            check_env(env, skip_render_check=True)
        obs, info = env.reset(seed=1)
        assert env.observation_space.contains(obs)
        assert list(info["observation"]) == env.observation_layout
        assert len(env.observation_layout) == obs.shape[0]
    finally:
        env.close()


def test_custom_circuit_and_technology(cs_amp, ptm45_tech):
    env = make("jaxsizer/custom-v1", circuit=str(cs_amp), tech=str(ptm45_tech))
    try:
        check_env(env, skip_render_check=True)
        _, info = env.reset(seed=0)
        assert info["status"] == "ok" and set(info["target"]) == {"gain"}
    finally:
        env.close()


def test_observation_reward_and_termination_follow_the_definition():
    env = make(target=EASY_OP2, random_target=False)
    try:
        obs, info = env.reset(seed=0)
        perf = info["performance"]
        assert obs[env.observation_layout.index("performance_a_0")] == pytest.approx(
            perf["a_0"], rel=1e-6
        )
        k = env.observation_layout.index("performance_ugbw")
        assert obs[k] == pytest.approx(np.log10(perf["ugbw"]), rel=1e-6)
        assert info["observation"]["target_power"] == pytest.approx(0.0)  # log10(1)
        _, reward, terminated, truncated, info = env.step(np.zeros(12, np.float32))
        assert terminated and not truncated and all(info["met"].values())
        d = [abs(1.0 - info["performance"][s]) / 1.0 for s in EASY_OP2]
        d = np.minimum(d, 10.0)
        expected = float(np.sum(np.tanh(d))) + SUCCESS_BONUS  # the met step's bonus
        assert reward == pytest.approx(expected, rel=1e-6)
    finally:
        env.close()


def test_truncation_at_max_steps():
    env = make(target={**EASY_OP2, "a_0": 1e6}, random_target=False, max_steps=2)
    try:
        env.reset(seed=0)
        *_, terminated, truncated, _ = env.step(np.zeros(12, np.float32))
        assert not terminated and not truncated
        *_, terminated, truncated, _ = env.step(np.zeros(12, np.float32))
        assert not terminated and truncated
    finally:
        env.close()


def test_fixed_and_noisy_targets():
    fixed = {"a_0": 40.0, "ugbw": 5e6, "pm": 60.0, "power": 2e-4}
    env = make(target=fixed)
    noisy = make(target=fixed, noisy_target=True)
    try:
        for seed in (0, 1):
            assert env.reset(seed=seed)[1]["target"] == pytest.approx(fixed, rel=1e-6)
        a = noisy.reset(seed=0)[1]["target"]
        b = noisy.reset()[1]["target"]
        assert a != b and noisy.reset(seed=0)[1]["target"] == a
        for target in (a, b):
            for spec, value in fixed.items():
                assert target[spec] == pytest.approx(value, rel=0.05)
        # a target for one episode through reset options
        other = {**fixed, "a_0": 30.0}
        assert env.reset(options={"target": other})[1]["target"]["a_0"] == 30.0
    finally:
        env.close()
        noisy.close()


def test_random_targets_depend_on_the_seed_only():
    env = make()
    try:
        a = env.reset(seed=3)[1]["target"]
        b = env.reset(seed=4)[1]["target"]
        assert a != b and env.reset(seed=3)[1]["target"] == a
    finally:
        env.close()


def test_design_constraints_fix_narrow_and_override_constants():
    env = make(
        design_constraints={
            "Wdp1": 4e-6,
            "Ldp1": [0.2e-6, 0.3e-6],
            "Mcm12": [2, 4],
            "l_max": 1e-6,
            "I0": 20e-6,
        }
    )
    try:
        env.reset(seed=0)
        rng = np.random.default_rng(0)
        for _ in range(3):
            action = rng.uniform(-1, 1, 12).astype(np.float32)
            params = env.step(action)[4]["params"]
            assert params["Wdp1"] == pytest.approx(4e-6)
            assert 0.2e-6 * (1 - 1e-9) <= params["Ldp1"] <= 0.3e-6 * (1 + 1e-9)
            assert 2 <= params["Mcm12"] <= 4
            assert all(params[p] <= 1e-6 * (1 + 1e-9) for p in ("Lcm1", "Lcm2"))
        assert env.simulator.circuit.constants["I0"] == 20e-6
    finally:
        env.close()
    for bad, message in [
        ({"Wnope": 1e-6}, "unknown key 'Wnope'"),
        ({"Wdp1": 1.0}, "leaves Wdp1's range"),
        ({"Ldp1": [3e-7, 2e-7]}, "low"),
        ({"Mcm12": "two"}, "must be a number"),
    ]:
        with pytest.raises(UserInputError, match=message):
            make(design_constraints=bad)


def test_logs_are_written(tmp_path):
    data, params = tmp_path / "log" / "data.jsonl", tmp_path / "log" / "failed.jsonl"
    env = make(data_log_path=str(data), params_log_path=str(params), max_steps=2)
    try:
        env.reset(seed=0)
        env.step(np.zeros(12, np.float32))
        env.step(np.ones(12, np.float32))
        env.reset()
    finally:
        env.close()
    rows = [json.loads(line) for line in data.read_text().splitlines()]
    assert [(r["kind"], r["episode"], r["step"]) for r in rows] == [
        ("reset", 0, 0),
        ("step", 0, 1),
        ("step", 0, 2),
        ("reset", 1, 0),
    ]
    assert rows[1]["action"] == [0.0] * 12 and rows[2]["truncated"]
    assert set(rows[1]["performance"]) >= {"a_0", "ugbw", "pm", "power"}
    # no failures so far: no failure log
    assert not params.exists() or params.read_text() == ""


def test_failed_simulation_gives_penalty_status_and_replay_record(tmp_path):
    params = tmp_path / "failed.jsonl"
    env = SpiceEnv(
        "op2", "generic", "v1", timeout=1e-4, params_log_path=str(params), max_steps=3
    )
    try:
        obs, info = env.reset(seed=0, options={"target": EASY_OP2})
        assert info["status"] == "timeout"
        assert np.all(np.isfinite(obs))
        obs, reward, terminated, _, info = env.step(np.zeros(12, np.float32))
        assert info["status"] == "timeout" and not terminated
        assert np.all(np.isfinite(obs)) and np.isfinite(reward)
        assert reward == pytest.approx(-4 * 10.0**2)  # FAIL_DISTANCE per spec
        assert all(v is None for v in info["performance"].values())
    finally:
        env.close()
    records = [json.loads(line) for line in params.read_text().splitlines()]
    assert len(records) == 2 and records[1]["status"] == "timeout"
    assert records[1]["params"] == info["params"]
    assert records[1]["circuit"] == "op2" and records[1]["technology"] == "generic"


@pytest.mark.parametrize(
    "action, message",
    [
        (np.zeros(11, np.float32), "shape"),
        (np.zeros((1, 12), np.float32), "shape"),
        (np.zeros(12, np.int64), "floating point"),
        (np.full(12, np.nan, np.float32), "NaN"),
        ("abc", "shape"),
    ],
)
def test_bad_actions_are_refused(action, message):
    env = make()
    try:
        env.reset(seed=0)
        with pytest.raises(UserInputError, match=message):
            env.step(action)
    finally:
        env.close()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"circuit": "op99"}, "unknown circuit 'op99'"),
        ({"tech": "tsmc7"}, "tsmc7"),
        ({"variant": "v7"}, "variant 'v7'"),
        ({"max_steps": 0}, "max_steps"),
        ({"figures": "some"}, "figures"),
        ({"target": {"a_0": "40Hz"}}, "'Hz' is not a unit"),
        ({"target": {**EASY_OP2, "gain": 3.0}}, "gain is not a spec"),
        ({"target": {**EASY_OP2, "pm": "high"}}, "cannot read 'high'"),
        ({"target": {**EASY_OP2, "pm": float("nan")}}, "finite"),
        ({"target": [40.0, 1e6, 60.0, 1e-4]}, "must be an object"),
        ({"random_target": False}, "needs a target"),
        ({"pool": "everyone"}, "pool must be"),
        ({"corner": "xx"}, "xx"),
        ({"maxsteps": 3}, "unknown keyword argument\\(s\\) \\['maxsteps'\\]"),
    ],
)
def test_bad_configuration_is_refused(kwargs, message):
    with pytest.raises(UserInputError, match=message):
        SpiceEnv(**{"pool": "shared", **kwargs})


def test_bad_reset_target_is_refused():
    env = make()
    try:
        with pytest.raises(UserInputError, match="not a spec"):
            env.reset(options={"target": {"gain": 1.0}})
    finally:
        env.close()


def test_autockt_variant_steps_on_the_grid():
    env = make("jaxsizer/twostage-generic-autockt-v0", max_steps=10)
    try:
        assert isinstance(env.action_space, gym.spaces.MultiDiscrete)
        assert env.action_space.nvec.tolist() == [3] * 7
        _, info = env.reset(seed=0)
        start = info["params"]
        assert start["mp1"] == 10 and start["cc"] == pytest.approx(4.7e-12)
        up = np.array([2, 1, 1, 0, 1, 1, 2])
        _, _, _, _, info = env.step(up)
        p = info["params"]
        assert (p["mp1"], p["mn1"], p["mn3"]) == (11, 8, 9)
        assert p["cc"] == pytest.approx(6.8e-12)  # one grid step up
        for bad in (np.full(7, 3), np.ones(7, np.float32), np.ones(6, np.int64)):
            with pytest.raises(UserInputError):
                env.step(bad)
    finally:
        env.close()


def test_autockt_reward_does_not_punish_overshoot_and_ends_when_met():
    easy = {"a_0": 1.0, "ugbw": 1.0, "pm": 1.0, "i_supply": 1.0}
    env = make("jaxsizer/twostage-generic-autockt-v0", target=easy)
    try:
        env.reset(seed=0)
        _, reward, terminated, _, info = env.step(np.ones(7, np.int64))
        assert terminated and reward == 10.0
        hard = {**easy, "a_0": 1e3}  # unreachable gain: a shortfall only
        _, info = env.reset(options={"target": hard})
        _, reward, terminated, _, info = env.step(np.ones(7, np.int64))
        a_0 = info["performance"]["a_0"]
        assert not terminated
        assert reward == pytest.approx((a_0 - 1e3) / (abs(a_0) + 1e3), rel=1e-5)
    finally:
        env.close()


def test_nand4_uses_the_distance_reward():
    env = make("jaxsizer/nand4-generic-v1")
    try:
        _, info = env.reset(seed=0)
        _, reward, *_ , info = env.step(np.zeros(5, np.float32))  # fmt: skip
        perf, target = info["performance"], info["target"]
        expected = -sum(abs(target[s] - perf[s]) / target[s] for s in target)
        assert reward == pytest.approx(expected, rel=1e-5)
    finally:
        env.close()


def test_figures_specs_runs_only_what_the_specs_need():
    env = make(figures="specs")
    try:
        _, info = env.reset(seed=0)
        names = set(info["performance"])
        assert {"a_0", "ugbw", "pm", "power"} <= names
        assert not names & {"sr_r", "cmrr", "vn_1Hz", "A", "voff_stat"}
        circuit = env.simulator.circuit
        assert [tb.name for tb in circuit.testbenches] == ["open_loop"]
        assert [a.name for a in circuit.testbenches[0].analyses] == ["op", "ac"]
    finally:
        env.close()


def test_corner_is_passed_to_the_simulator():
    typical, fast = (
        make("jaxsizer/op2-sky130-v1"),
        make("jaxsizer/op2-sky130-v1", corner="ff"),
    )
    try:
        assert (typical.simulator.corner, fast.simulator.corner) == ("tt", "ff")
        p_tt = typical.reset(seed=0)[1]["performance"]["ugbw"]
        p_ff = fast.reset(seed=0)[1]["performance"]["ugbw"]
        assert p_ff != p_tt
    finally:
        typical.close()
        fast.close()


def test_gymnasium_entry_point_is_declared():
    """For gymnasium versions that load plugins (< 1.0); 1.x needs ``envs:``."""
    import importlib
    import tomllib
    from pathlib import Path

    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    entry = tomllib.loads(pyproject.read_text())["project"]["entry-points"]
    module, function = entry["gymnasium.envs"]["jaxsizer"].split(":")
    assert callable(getattr(importlib.import_module(module), function))
