"""Gymnasium ids of the SPICE environments.

- ``jaxsizer/<circuit>-<tech>-v1``: geometric (W, L, M, ...) for every built-in
  circuit on ``generic`` and ``sky130`` (``twostage``: generic only);
- ``jaxsizer/<circuit>-<tech>-v0``: electrical (gm/Id, fug, branch currents)
  for the op-amps with a sizing procedure (``envs.sizing_procedures``);
- ``jaxsizer/twostage-generic-autockt-v1``: AutoCkt's discrete steps;
- ``jaxsizer/custom-v1`` / ``jaxsizer/custom-autockt-v1``: a user's circuit
  and technology (``circuit=``, ``tech=`` paths).

Every id has ``entry_point`` ``SpiceEnv`` and ``vector_entry_point``
``SpiceVectorEnv``, so ``gymnasium.make_vec(id, n)`` is the native batched env.

How ``gymnasium.make`` finds them: gymnasium >= 1.0 no longer loads
``gymnasium.envs`` entry-point plugins, so either ``import envs`` first or use
the module-prefixed id ``gymnasium.make("envs:jaxsizer/op2-sky130-v1")``
(gymnasium imports ``envs``, which registers). The ``gymnasium.envs`` entry
point declared in ``pyproject.toml`` serves gym/gymnasium versions that still
load plugins (before 1.0).
"""

from __future__ import annotations

from gymnasium.envs.registration import register, registry

from envs.sizing_procedures import PROCEDURES
from sim.circuit import builtin_circuits

TECHNOLOGIES = ("generic", "sky130")
ONLY_GENERIC = frozenset({"twostage"})  # its unit devices are sized for generic
AUTOCKT_CIRCUITS = frozenset({"twostage"})
ENTRY_POINT = "envs.spice_env:SpiceEnv"
VECTOR_ENTRY_POINT = "envs.vector_env:SpiceVectorEnv"


def env_ids() -> dict[str, dict[str, str]]:
    """Every built-in id and the kwargs it stands for."""
    ids: dict[str, dict[str, str]] = {}
    for circuit in builtin_circuits():
        for tech in TECHNOLOGIES:
            if tech != "generic" and circuit in ONLY_GENERIC:
                continue
            base = {"circuit": circuit, "tech": tech}
            ids[f"jaxsizer/{circuit}-{tech}-v1"] = {**base, "variant": "v1"}
            if circuit in PROCEDURES:
                ids[f"jaxsizer/{circuit}-{tech}-v0"] = {**base, "variant": "v0"}
            if circuit in AUTOCKT_CIRCUITS:
                ids[f"jaxsizer/{circuit}-{tech}-autockt-v1"] = {
                    **base,
                    "variant": "autockt",
                }
    ids["jaxsizer/custom-v1"] = {"variant": "v1"}
    ids["jaxsizer/custom-autockt-v1"] = {"variant": "autockt"}
    return ids


def register_envs() -> None:
    """Register the SPICE environments (idempotent)."""
    for env_id, kwargs in env_ids().items():
        if env_id in registry:
            continue
        register(
            env_id,
            entry_point=ENTRY_POINT,
            vector_entry_point=VECTOR_ENTRY_POINT,
            kwargs=kwargs,
            max_episode_steps=None,  # the env truncates itself (max_steps)
        )
