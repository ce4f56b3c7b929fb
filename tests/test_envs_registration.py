"""Gymnasium ids: the action space in the name, no gymnasium warning on making
any registered id, ``max_episode_steps`` on the spec without a second
truncation, finite observation bounds, plain paths and numbers as kwargs."""

from __future__ import annotations

import sqlite3
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.envs.registration import registry

import envs  # noqa: F401 - registers the ids
from envs.config import NO_STEP_LIMIT
from envs.registration import alias_ids, env_ids, surrogate_env_ids
from envs.spaces import OBSERVATION_LIMIT, observation_bounds
from envs.spice_env import SpiceEnv
from envs.vector_env import SpiceVectorEnv
from sim.errors import UserInputError
from sim.sizing.session import parse_env_id
from surrogate.circuit.store import surrogate_dir

ALL_IDS = sorted(i for i in registry if i.startswith("jaxsizer/"))
HARD_OP2 = {"a_0": 1e6, "ugbw": 1.0, "pm": 1.0, "power": 1.0}  # never met


def _kwargs(env_id: str, cs_amp, ptm45_tech) -> dict | None:
    """What making ``env_id`` needs here, or None when it cannot be made."""
    if env_id in surrogate_env_ids():
        if "run-surrogate" in env_id:
            return None  # needs a trained run: tests/test_gymnax_env.py
        kwargs = surrogate_env_ids()[env_id]
        stored = surrogate_dir(kwargs["tech"], kwargs["circuit"])
        return {} if (stored / "surrogate.json").is_file() else None
    if "custom" in env_id:
        return {"circuit": str(cs_amp), "tech": str(ptm45_tech), "pool": "shared"}
    if env_id.endswith("-electrical-v0"):
        from envs.electrical import missing_device_models

        if missing_device_models(env_ids()[env_id]["tech"]):
            return None
    return {"pool": "shared"}


def test_ids_name_the_action_space_and_old_ids_are_aliases():
    ids = env_ids(aliases=False)
    assert "jaxsizer/op2-sky130-geometric-v0" in ids
    assert ids["jaxsizer/op2-sky130-electrical-v0"]["variant"] == "v0"
    assert ids["jaxsizer/twostage-generic-autockt-v0"]["variant"] == "autockt"
    assert all(i.endswith("-v0") for i in ids)  # one version per env
    aliases = alias_ids()
    assert aliases["jaxsizer/op2-sky130-v1"] == "jaxsizer/op2-sky130-geometric-v0"
    for alias, target in aliases.items():
        assert registry[alias].kwargs == registry[target].kwargs
    # GAC²E's electrical -v0 would be "out of date" next to -v1: not registered
    assert "jaxsizer/op2-sky130-v0" not in registry
    assert "jaxsizer/twostage-generic-autockt-v1" not in registry
    assert set(ALL_IDS) == set(env_ids()) | set(surrogate_env_ids())


@pytest.mark.slow
def test_making_every_registered_id_emits_no_gymnasium_warning(cs_amp, ptm45_tech):
    made = 0
    for env_id in ALL_IDS:
        kwargs = _kwargs(env_id, cs_amp, ptm45_tech)
        if kwargs is None:
            continue
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            env = gym.make(env_id, **kwargs)
        try:
            assert [str(w.message) for w in caught] == [], env_id
            assert env.spec.max_episode_steps == 200, env_id
            space = env.observation_space
            assert np.all(np.isfinite(space.low)) and np.all(np.isfinite(space.high))
        finally:
            env.close()
        made += 1
    assert made >= len(env_ids(aliases=False)) - 10  # a few v0 may lack models


def test_alias_and_module_prefixed_ids_reset_without_warnings():
    for env_id in ("jaxsizer/op2-generic-v1", "envs:jaxsizer/op2-generic-geometric-v0"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            env = gym.make(env_id, pool="shared")
            obs, _ = env.reset(seed=0)
            env.step(env.action_space.sample())
        env.close()
        assert [str(w.message) for w in caught] == [], env_id
        assert env.observation_space.contains(obs)


def test_time_limit_is_the_only_truncation_under_make():
    env = gym.make("jaxsizer/op2-generic-geometric-v0", pool="shared", target=HARD_OP2)
    assert env.unwrapped.config.max_steps == NO_STEP_LIMIT  # the env defers
    env.close()
    env = gym.make(
        "jaxsizer/op2-generic-geometric-v0",
        pool="shared",
        target=HARD_OP2,
        max_episode_steps=3,
    )
    try:
        env.reset(seed=0)
        ends = [env.step(np.zeros(12, np.float32))[2:4] for _ in range(3)]
        assert ends == [(False, False), (False, False), (False, True)]
    finally:
        env.close()
    # max_episode_steps above 200 is honoured: the env does not cut at 200
    env = gym.make(
        "jaxsizer/op2-generic-geometric-v0", pool="shared", max_episode_steps=500
    )
    assert env.unwrapped.config.max_steps == NO_STEP_LIMIT
    env.close()


def test_direct_envs_and_make_vec_still_truncate_themselves():
    env = SpiceEnv("op2", "generic", pool="shared", target=HARD_OP2, max_steps=2)
    try:
        env.reset(seed=0)
        assert env.step(np.zeros(12, np.float32))[3] is False
        assert env.step(np.zeros(12, np.float32))[3] is True
    finally:
        env.close()
    assert SpiceEnv("op2", "generic", pool="shared").config.max_steps == 200
    venv = gym.make_vec("jaxsizer/op2-generic-geometric-v0", num_envs=2, pool="shared")
    assert isinstance(venv, SpiceVectorEnv)
    assert venv.config.max_steps == 200  # the spec's max_episode_steps
    venv.close()
    venv = gym.make_vec(
        "jaxsizer/op2-generic-v1", num_envs=2, pool="shared", max_episode_steps=7
    )
    assert venv.config.max_steps == 7
    venv.close()


def test_observation_bounds_are_finite_and_observations_inside():
    env = SpiceEnv("op2", "sky130", pool="shared", figures="specs")
    try:
        low, high = observation_bounds(env.definition)
        layout = env.observation_layout
        for name, lo, hi in zip(layout, low, high, strict=True):
            if name.startswith("distance_"):
                assert (lo, hi) == (0.0, 10.0)
            else:
                assert (lo, hi) == (-OBSERVATION_LIMIT, OBSERVATION_LIMIT)
        obs, _ = env.reset(seed=0)
        assert env.observation_space.contains(obs)
        for _ in range(3):
            obs, *_ = env.step(env.action_space.sample())
            assert env.observation_space.contains(obs)
    finally:
        env.close()


def test_store_accepts_a_plain_path(tmp_path):
    path = tmp_path / "sub" / "env-store.sqlite"
    env = gym.make("jaxsizer/op2-generic-geometric-v0", pool="shared", store=str(path))
    env.reset(seed=0)
    env.step(np.zeros(12, np.float32))
    env.close()
    with sqlite3.connect(path) as db:
        (rows,) = db.execute("SELECT COUNT(*) FROM simulations").fetchone()
    assert rows >= 1
    venv = gym.make_vec(
        "jaxsizer/op2-generic-v1", num_envs=2, pool="shared", store=path
    )
    venv.reset(seed=0)
    venv.close()


def test_numbers_as_ints_where_floats_are_expected():
    env = gym.make(
        "jaxsizer/op2-generic-geometric-v0",
        pool="shared",
        temperature=27,
        timeout=30,
        target={"a_0": 1, "ugbw": 1, "pm": 1, "power": 1},
        random_target=False,
        max_steps=5.0,
        design_constraints={"I0": 20e-6},
    )
    try:
        config = env.unwrapped.config
        assert isinstance(config.temperature, float) and config.temperature == 27.0
        assert isinstance(config.timeout, float) and config.max_steps == 5
        _, info = env.reset(seed=0)
        assert info["status"] == "ok" and info["target"]["a_0"] == 1.0
    finally:
        env.close()
    with pytest.raises(UserInputError, match="max_steps"):
        gym.make("jaxsizer/op2-generic-geometric-v0", pool="shared", max_steps=2.5)


def test_parse_env_id_takes_every_spice_id():
    assert parse_env_id("jaxsizer/op2-sky130-geometric-v0") == ("op2", "sky130")
    assert parse_env_id("envs:jaxsizer/twostage-generic-v1") == ("twostage", "generic")
    assert parse_env_id("jaxsizer/op2-sky130-electrical-v0") == ("op2", "sky130")
    for other in ("jaxsizer/op2-sky130-v0", "jaxsizer/op2-sky130-surrogate-v0"):
        with pytest.raises(UserInputError, match="geometric"):
            parse_env_id(other)
    with pytest.raises(UserInputError, match="--circuit and --tech"):
        parse_env_id("jaxsizer/custom-geometric-v0")
