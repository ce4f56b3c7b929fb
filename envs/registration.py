"""Gymnasium ids: ``jaxsizer/<circuit>-<tech>-v<variant>``."""

from __future__ import annotations

import gymnasium as gym

from sim.circuit import builtin_circuits

TECHNOLOGIES = ("generic", "sky130")
ONLY_GENERIC = frozenset({"twostage"})


def env_ids() -> list[str]:
    """Every registered id."""
    ids = []
    for circuit in builtin_circuits():
        for tech in TECHNOLOGIES:
            if tech != "generic" and circuit in ONLY_GENERIC:
                continue
            ids.append(f"jaxsizer/{circuit}-{tech}-v1")
    return ids


def register_envs() -> None:
    """Register the SPICE environments (idempotent)."""
    for env_id in env_ids():
        if env_id in gym.registry:
            continue
        circuit, tech = env_id.split("/")[1].rsplit("-", 2)[:2]
        gym.register(
            env_id,
            entry_point="envs.spice_env:SpiceEnv",
            kwargs={"circuit": circuit, "tech": tech, "variant": "v1"},
            max_episode_steps=None,
        )
    if "jaxsizer/custom-v1" not in gym.registry:
        gym.register(
            "jaxsizer/custom-v1",
            entry_point="envs.spice_env:SpiceEnv",
            kwargs={"variant": "v1"},
        )
