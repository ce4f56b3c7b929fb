"""The functions of ``import jaxsizer`` (see its docstring): environments
by id, and training and sizing as calls instead of command lines.

Each pins the layers it uses (``jaxsizer.layers.pin``) before importing
them, so the project's own ``envs``/``train`` are used whatever the
current folder holds.
"""

from __future__ import annotations

from typing import Any

from jaxsizer.layers import pin


def _plain(env_id: str) -> str:
    """``env_id`` without a gymnasium module prefix (``envs:``)."""
    return env_id.split(":", 1)[-1]


def env_ids() -> list[str]:
    """Every registered jaxsizer env id (SPICE and surrogate)."""
    pin(("sim", "surrogate", "envs"))
    from envs.registration import env_ids as spice_ids
    from envs.registration import surrogate_env_ids

    return [*spice_ids(), *surrogate_env_ids()]


def make_env(env_id: str, **kwargs: Any):
    """``gymnasium.make`` of a jaxsizer id (``jaxsizer/op2-sky130-geometric-v0``,
    with or without the ``envs:`` prefix); keyword arguments go to the env
    (``envs/README.md``) or to ``gymnasium.make`` (``max_episode_steps``)."""
    pin(("sim", "surrogate", "envs"))
    import gymnasium as gym

    import envs  # noqa: F401 - registers the ids

    return gym.make(_plain(env_id), **kwargs)


def make_vec(env_id: str, num_envs: int = 1, **kwargs: Any):
    """``gymnasium.make_vec`` of a jaxsizer id: SPICE ids give the batched
    ``SpiceVectorEnv`` (one simulation call per step for all envs)."""
    pin(("sim", "surrogate", "envs"))
    import gymnasium as gym

    import envs  # noqa: F401 - registers the ids

    return gym.make_vec(_plain(env_id), num_envs=num_envs, **kwargs)


def make_gymnax(env_id: str, **kwargs: Any):
    """``(env, params)``: a surrogate id as a gymnax ``Environment``
    (``envs.gymnax_env.make``; ``run=`` for ``jaxsizer/run-surrogate-v0``)."""
    pin(("sim", "surrogate", "envs"))
    from envs.gymnax_env import make

    return make(_plain(env_id), **kwargs)


def _argv(options: dict[str, Any]) -> list[str]:
    """Keyword arguments as command-line flags (``sim_budget=500`` ->
    ``--sim-budget 500``; True -> the bare flag, False -> ``--no-<flag>``)."""
    argv: list[str] = []
    for key, value in options.items():
        if value is None:
            continue
        flag = "--" + key.replace("_", "-")
        if value is True:
            argv.append(flag)
        elif value is False:
            argv.append("--no-" + flag[2:])
        else:
            argv += [flag, str(value)]
    return argv


def train(**options: Any) -> dict:
    """Train a run as ``python -m train`` does and return its summary
    (``held_out_success``, ``spice_sims``, ``stopped_by``, ...).

    Keyword arguments are that command's flags with underscores
    (``run="runs/op2"``, ``env="jaxsizer/op2-sky130-v1"``, ``resume=True``,
    ``sim_budget=500``, ``ppo_n_envs=8``); bad values raise
    ``sim.errors.UserInputError``.
    """
    pin(("sim", "surrogate", "envs", "train"))
    from train.__main__ import parse
    from train.loop import BoxLoop

    if options.get("spice_ppo"):
        raise ValueError("train() runs the box loop; use python -m train --spice-ppo")
    config, resume, _ = parse(_argv(options))
    loop = BoxLoop(config, resume)  # writes config.json for a new run
    try:
        return loop.run()
    finally:
        loop.close()


def size(
    run: str,
    target: str | dict,
    *,
    max_sims: int = 5,
    minimise: str | None = None,
    workers: int | None = None,
) -> dict:
    """Size ``target`` (``"a_0>=40dB ugbw>=10MHz"`` or ``{spec: value}``, SI)
    with a trained ``run``, spending at most ``max_sims`` SPICE simulations;
    returns what ``python -m train.size --json`` writes (``met``, ``params``,
    ``figures``, ``margins``, ...). Writes no files."""
    import json

    pin(("sim", "surrogate", "envs", "train"))
    from sim.errors import UserInputError
    from sim.sizing.target_text import parse_target, target_vector
    from train.size_output import result_json
    from train.sizing import TrainedSizer

    if max_sims < 1:
        raise UserInputError("max_sims must be at least 1")
    text = json.dumps(target) if isinstance(target, dict) else str(target)
    sizer = TrainedSizer(run, workers)
    try:
        box = sizer.problem.box
        vector = target_vector(parse_target(text, box), box)
        result = sizer.size(vector[None], max_sims, minimise=minimise)[0]
        return result_json(sizer, result)
    finally:
        sizer.close()
