"""Gymnasium ids of the environments: the action space is in the name.

- ``jaxsizer/<circuit>-<tech>-geometric-v0``: W, L, M, R, C in ``[-1, 1]^n``
  for every built-in circuit on ``generic`` and ``sky130`` (``twostage``:
  generic only);
- ``jaxsizer/<circuit>-<tech>-electrical-v0``: gm/Id, fug and branch currents
  for the op-amps with a sizing procedure (``envs.sizing_procedures``);
- ``jaxsizer/<circuit>-<tech>-autockt-v0``: AutoCkt's discrete steps
  (``twostage``);
- ``jaxsizer/custom-geometric-v0`` / ``jaxsizer/custom-autockt-v0``: a
  user's circuit and technology (``circuit=``, ``tech=`` paths);
- ``jaxsizer/<circuit>-<tech>-surrogate-v0``: the pure-JAX surrogate env
  (geometric space) behind a gymnasium wrapper (``envs.gymnax_env``), on the
  stored surrogate ``<models>/<tech>/<circuit>/`` (the user's fitted one,
  else the shipped one: ``surrogate.model_paths``); ``jaxsizer/run-surrogate-v0``
  on a trained run's surrogate (``run=`` path).

The version suffix is gymnasium's: ``-v0`` is the first version of each env.
Aliases (``ALIASES``): ``jaxsizer/<circuit>-<tech>-v1`` and
``jaxsizer/custom-v1`` (GAC²E's geometric ids) make the geometric envs. The
GAC²E-style electrical ``-v0`` and ``...-autockt-v1`` ids are gone: gymnasium
reads ``-v0``/``-v1`` of one name as two versions of one env and warns that
the lower one "is out of date", so they could not stay without a warning.

Every SPICE id has ``entry_point`` ``SpiceEnv`` and ``vector_entry_point``
``SpiceVectorEnv`` (``gymnasium.make_vec(id, n)`` is the native batched env),
and ``max_episode_steps`` 200 (GAC²E's episode): ``gymnasium.make`` wraps the
env in ``TimeLimit``, and the ids pass ``max_steps=None`` so that the env
does not truncate a second time (``max_steps=N`` still truncates earlier).

How ``gymnasium.make`` finds them: gymnasium >= 1.0 no longer loads
``gymnasium.envs`` entry-point plugins, so either ``import envs`` first or use
the module-prefixed id ``gymnasium.make("envs:jaxsizer/op2-sky130-geometric-v0")``
(gymnasium imports ``envs``, which registers). The ``gymnasium.envs`` entry
point declared in ``pyproject.toml`` serves gym/gymnasium versions that still
load plugins (before 1.0).
"""

from __future__ import annotations

from gymnasium.envs.registration import register, registry

from envs.config import DEFAULT_MAX_STEPS
from envs.sizing_procedures import PROCEDURES
from sim.format.circuit import builtin_circuits

TECHNOLOGIES = ("generic", "sky130")
ONLY_GENERIC = frozenset({"twostage"})  # its unit devices are sized for generic
AUTOCKT_CIRCUITS = frozenset({"twostage"})
ENTRY_POINT = "envs.spice_env:SpiceEnv"
VECTOR_ENTRY_POINT = "envs.vector_env:SpiceVectorEnv"
SURROGATE_ENTRY_POINT = "envs.gymnax_env:SurrogateGymEnv"
RUN_SURROGATE_ID = "jaxsizer/run-surrogate-v0"


def _circuits() -> list[tuple[str, str]]:
    """Every built-in (circuit, technology) pair."""
    return [
        (circuit, tech)
        for circuit in builtin_circuits()
        for tech in TECHNOLOGIES
        if tech == "generic" or circuit not in ONLY_GENERIC
    ]


def env_ids(aliases: bool = True) -> dict[str, dict[str, str]]:
    """Every SPICE env id and the kwargs it stands for (with the ``ALIASES``
    unless ``aliases=False``)."""
    ids: dict[str, dict[str, str]] = {}
    for circuit, tech in _circuits():
        base = {"circuit": circuit, "tech": tech}
        ids[f"jaxsizer/{circuit}-{tech}-geometric-v0"] = {**base, "variant": "v1"}
        if circuit in PROCEDURES:
            ids[f"jaxsizer/{circuit}-{tech}-electrical-v0"] = {**base, "variant": "v0"}
        if circuit in AUTOCKT_CIRCUITS:
            ids[f"jaxsizer/{circuit}-{tech}-autockt-v0"] = {
                **base,
                "variant": "autockt",
            }
    ids["jaxsizer/custom-geometric-v0"] = {"variant": "v1"}
    ids["jaxsizer/custom-autockt-v0"] = {"variant": "autockt"}
    if aliases:
        for alias, target in alias_ids().items():
            ids[alias] = ids[target]
    return ids


def alias_ids() -> dict[str, str]:
    """Old (GAC²E-style) id -> the id it makes."""
    aliases = {
        f"jaxsizer/{circuit}-{tech}-v1": f"jaxsizer/{circuit}-{tech}-geometric-v0"
        for circuit, tech in _circuits()
    }
    aliases["jaxsizer/custom-v1"] = "jaxsizer/custom-geometric-v0"
    return aliases


def surrogate_env_ids() -> dict[str, dict[str, str]]:
    """Every surrogate env id and its kwargs (``envs.gymnax_env``)."""
    ids = {
        f"jaxsizer/{circuit}-{tech}-surrogate-v0": {"circuit": circuit, "tech": tech}
        for circuit, tech in _circuits()
    }
    ids[RUN_SURROGATE_ID] = {}
    return ids


def register_envs() -> None:
    """Register every id (idempotent)."""
    for env_id, kwargs in env_ids().items():
        if env_id in registry:
            continue
        register(
            env_id,
            entry_point=ENTRY_POINT,
            vector_entry_point=VECTOR_ENTRY_POINT,
            kwargs={**kwargs, "max_steps": None},  # TimeLimit truncates
            max_episode_steps=DEFAULT_MAX_STEPS,
        )
    for env_id, kwargs in surrogate_env_ids().items():
        if env_id in registry:
            continue
        register(
            env_id,
            entry_point=SURROGATE_ENTRY_POINT,
            kwargs={**kwargs, "max_steps": None},
            max_episode_steps=DEFAULT_MAX_STEPS,
        )
