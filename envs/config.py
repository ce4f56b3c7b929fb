"""Configuration of the SPICE environments and what it builds.

``EnvConfig`` holds every keyword a user passes to ``gymnasium.make`` (GAC²E's
names); ``build_problem`` turns it into an ``EnvSetup``: the technology, the
(constrained) circuit, its ``SizingProblem`` (``sim.sizing.problem``, the one
definition every layer reads), the action map and the simulator. Both
``SpiceEnv`` and ``SpiceVectorEnv`` are built by this one function.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from envs.actions import GeometricActions, GridActions
from envs.constraints import apply_constraints
from envs.definition import SUCCESS_BONUS
from envs.pools import resolve_pool
from sim.engine.backend import SimulationBackend
from sim.errors import UserInputError
from sim.sizing.problem import SizingProblem, problem_for
from sim.sizing.problem_opening import open_circuit_problem
from sim.sizing.session import SPACES, ProblemOptions, parse_space
from sim.sizing.simulator import Simulator
from sim.sizing.target_text import parse_mapping, target_vector
from sim.storage.store import SimulationStore

# GAC²E's variant names; each is a space of ``sim.sizing.session`` (``v1`` =
# ``geometric``, ``v0`` = ``electrical``), which ``variant`` may name too.
VARIANTS = ("v0", "v1", "autockt")
FIGURE_SETS = ("all", "specs")
REWARDS = (None, "circuit")
DEFAULT_MAX_STEPS = 200  # GAC²E's default episode length
NO_STEP_LIMIT = 2**31 - 1  # max_steps=None: the env never truncates itself
FLOAT_FIELDS = ("temperature", "timeout", "success_bonus")
INT_FIELDS = ("max_steps", "n_workers")


@dataclass(frozen=True)
class EnvConfig:
    """Keyword arguments of the SPICE environments.

    circuit/tech: a built-in name or a YAML path; variant: ``"v0"``
    (electrical), ``"v1"`` (geometric) or ``"autockt"`` (discrete steps), or
    the space's own name (``geometric``, ``electrical``; ``space`` is the
    canonical name, ``sim.sizing.session.parse_space``);
    target: fixed target ``{spec: value}`` (SI numbers or strings with units;
    specs left out carry no requirement); random_target: draw a target
    uniformly from the circuit's declared box per episode (default: when no
    target is given);
    noisy_target: multiply the fixed target by ``1 + 1 % N(0, 1)`` per episode;
    design_constraints: see ``envs.constraints``; max_steps: truncation
    after this many steps (None: never by the env itself; the gymnasium ids
    pass None and leave truncation to the ``TimeLimit`` wrapper of their
    spec's ``max_episode_steps``, 200);
    corner: process corner (technology default if None); data_log_path: JSON
    lines, one per reset and step; params_log_path: JSON lines of designs whose
    simulation failed (for replay with ``python -m sim run --params``);
    figures: ``"all"`` (GAC²E's full figure set) or ``"specs"`` (only the
    analyses the spec figures need: faster); temperature: °C;
    n_workers/timeout: the private simulation pool (when none is shared);
    success_bonus: reward added on a step that meets every spec
    (``envs.definition.step_outcome``; 0: GAC²E's reward without it);
    reward: ``None`` (the variant's: AutoCkt's for ``autockt``, else the
    circuit's GAC²E reward) or ``"circuit"`` (the circuit's in every variant,
    as the box trainer's surrogate env; the PPO-on-SPICE baseline).
    """

    circuit: str = "op2"
    tech: str = "generic"
    variant: str = "v1"
    target: Mapping[str, float] | None = None
    random_target: bool | None = None
    noisy_target: bool = False
    design_constraints: Mapping[str, Any] | None = None
    max_steps: int = DEFAULT_MAX_STEPS
    corner: str | None = None
    data_log_path: str | None = None
    params_log_path: str | None = None
    figures: str = "all"
    temperature: float = 27.0
    n_workers: int = 1
    timeout: float = 60.0
    success_bonus: float = SUCCESS_BONUS
    reward: str | None = None

    @property
    def space(self) -> str:
        """The variant's space (``geometric``, ``electrical``, ``autockt``)."""
        return parse_space(self.variant)


def make_config(**kwargs: Any) -> EnvConfig:
    """An ``EnvConfig``; an unknown keyword is a ``UserInputError`` naming it."""
    known = [f.name for f in dataclasses.fields(EnvConfig)]
    unknown = sorted(set(kwargs) - set(known))
    if unknown:
        raise UserInputError(
            f"unknown keyword argument(s) {unknown}; the environments take "
            f"{', '.join(known)}, pool, store"
        )
    return EnvConfig(**_numbers(kwargs))


def _numbers(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Ints where floats are expected become floats, integral floats where
    ints are expected become ints (``max_steps=200.0``); ``max_steps=None``
    becomes ``NO_STEP_LIMIT``. Anything else is left for ``_check_config``."""
    out = dict(kwargs)
    for name in FLOAT_FIELDS:
        value = out.get(name)
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            out[name] = float(value)
    for name in INT_FIELDS:
        value = out.get(name)
        floating = isinstance(value, (float, np.floating))
        if isinstance(value, np.integer) or floating and float(value).is_integer():
            out[name] = int(value)
    if "max_steps" in out and out["max_steps"] is None:
        out["max_steps"] = NO_STEP_LIMIT
    return out


@dataclass
class EnvSetup:
    """What ``build_problem`` builds from an ``EnvConfig``; ``definition`` is
    the sizing problem in the action space of the variant."""

    @property
    def reward_kind(self) -> str | None:
        """``step_outcome``'s ``kind``: ``"autockt"`` for the autockt variant
        (unless ``reward="circuit"``), else None (the circuit's)."""
        autockt = self.config.space == "autockt" and self.config.reward is None
        return "autockt" if autockt else None

    config: EnvConfig
    simulator: Simulator
    definition: SizingProblem
    actions: Any  # GeometricActions | GridActions | ElectricalActions
    initial_design: np.ndarray  # [n_params], SI
    design_low: np.ndarray  # [n_params]
    design_high: np.ndarray  # [n_params]
    fixed_target: np.ndarray | None  # [m] float32
    random_target: bool
    own_pool: SimulationBackend | None = None  # a pool the env must close
    own_store: SimulationStore | None = None  # a store opened from a path

    def close(self) -> None:
        """Close the simulator and any pool or store opened for this env."""
        self.simulator.close()
        if self.own_pool is not None:
            self.own_pool.close()
            self.own_pool = None
        if self.own_store is not None:
            self.own_store.close()
            self.own_store = None


def _check_config(config: EnvConfig) -> None:
    try:
        parse_space(config.variant)
    except UserInputError:
        raise UserInputError(
            f"variant {config.variant!r} is unknown; use one of {', '.join(VARIANTS)} "
            f"(or {', '.join(SPACES)})"
        ) from None
    if isinstance(config.max_steps, bool) or not isinstance(config.max_steps, int):
        raise UserInputError(f"max_steps must be an integer, got {config.max_steps!r}")
    if config.max_steps < 1:
        raise UserInputError(f"max_steps must be >= 1, got {config.max_steps}")
    bonus = config.success_bonus
    if not isinstance(bonus, float) or not math.isfinite(bonus):
        raise UserInputError(f"success_bonus must be a finite number, got {bonus!r}")
    if config.reward not in REWARDS:
        raise UserInputError(f"reward must be None or 'circuit', got {config.reward!r}")
    if config.figures not in FIGURE_SETS:
        raise UserInputError(
            f"figures must be one of {', '.join(FIGURE_SETS)}, got {config.figures!r}"
        )


def check_target(target: Any, definition: SizingProblem) -> np.ndarray:
    """A target dict as ``[m]`` float32 in spec order (NaN where a spec is left
    out: no requirement), or a ``UserInputError``."""
    values = parse_mapping(target, definition.box)
    return target_vector(values, definition.box).astype(np.float32)


def action_map(space: str, circuit, tech, constraints: Mapping | None = None):
    """The action map of a space (``sim.sizing.session.SPACES``, or a variant name of
    ``VARIANTS``) for a loaded circuit and technology, and the constrained
    circuit and bounds (``envs.constraints``)."""
    space = parse_space(space)
    if space == "electrical":
        from envs.electrical import ElectricalActions, electrical_parameters

        parameters = electrical_parameters(circuit, tech)
        constrained = apply_constraints(circuit, parameters, constraints)
        actions = ElectricalActions(
            constrained.circuit,
            tech,
            constrained.actions,
            constrained.design_low,
            constrained.design_high,
        )
        return actions, constrained
    constrained = apply_constraints(circuit, circuit.parameters, constraints)
    kind = GridActions if space == "autockt" else GeometricActions
    return kind(constrained.actions), constrained


def build_problem(
    config: EnvConfig,
    *,
    pool: SimulationBackend | str | None = None,
    store: SimulationStore | str | os.PathLike | None = None,
) -> EnvSetup:
    """Everything an environment needs; raises ``UserInputError`` on bad input.

    ``pool``: a pool to share, ``"shared"`` (``envs.pools``) or None (the
    simulator starts its own ``n_workers`` on first use). ``store``: a
    ``SimulationStore`` to share, or the path of an SQLite store file (opened
    here, closed with the env), or None (the default store).
    """
    _check_config(config)
    opened = open_circuit_problem(
        ProblemOptions(
            config.circuit,
            config.tech,
            config.corner,
            config.temperature,
            all_figures=config.figures == "all",
            space=config.space,
        )
    )
    tech = opened.technology
    actions, constrained = action_map(
        config.space, opened.circuit, tech, config.design_constraints
    )
    circuit = constrained.circuit
    own_store = None
    if isinstance(store, (str, os.PathLike)):
        store = own_store = SimulationStore(store)
    try:
        pool_object, owns_pool = resolve_pool(pool, config.n_workers, config.timeout)
    except BaseException:
        if own_store is not None:
            own_store.close()
        raise
    try:
        simulator = Simulator(
            circuit,
            tech,
            config.corner,
            temperature=config.temperature,
            n_workers=config.n_workers,
            timeout=config.timeout,
            store=store,
            backend=pool_object,
        )
        definition = problem_for(
            circuit,
            tech.name,
            simulator.corner,
            simulator.temperature,
            actions.parameters,
        )
        fixed = None
        if config.target is not None:
            fixed = check_target(config.target, definition)
        random_target = (
            (fixed is None)
            if config.random_target is None
            else bool(config.random_target)
        )
        if not random_target and fixed is None:
            raise UserInputError("random_target=False needs a target dict")
    except BaseException:
        if owns_pool:
            pool_object.close()
        if own_store is not None:
            own_store.close()
        raise
    default = np.asarray([p.default for p in circuit.parameters])
    initial = np.clip(default, constrained.design_low, constrained.design_high)
    return EnvSetup(
        config=config,
        simulator=simulator,
        definition=definition,
        actions=actions,
        initial_design=initial,
        design_low=constrained.design_low,
        design_high=constrained.design_high,
        fixed_target=fixed,
        random_target=random_target,
        own_pool=pool_object if owns_pool else None,
        own_store=own_store,
    )
