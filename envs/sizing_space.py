"""The ``--space`` of a command: the action map its policy acts through.

``sim.sizing.session`` names the space (``ProblemOptions.space``: ``geometric``,
``electrical`` or ``autockt``); here it becomes the env variant
(``SPACE_VARIANTS``) and its action map (``envs.config.action_map``), and,
for what works on arrays of sizings (the box trainer, the sizer, the
surrogate env), a sizing problem in that space (``space_problem``,
``space_session``):

- ``geometric``: the circuit's own parameters (W, L, M, R, C on their scales);
- ``autockt``: the circuit's parameters on AutoCkt's grid
  (``envs.actions.parameter_grid``: integers, declared grids, 33 points of a
  continuous parameter's scale). A box policy picks grid points directly;
  the SPICE env and the PPO-on-SPICE baseline step on the grid as AutoCkt;
- ``electrical``: gm/Id, fug and branch currents (``envs.electrical``): a
  sizing is electrical values, which ``ElectricalSimulator`` sizes to W/L/M
  through the device networks before ngspice runs them; its evaluations
  carry the electrical values beside the circuit parameters.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from envs.actions import parameter_grid
from envs.config import action_map
from sim.errors import UserInputError
from sim.format.circuit import Circuit, Parameter
from sim.format.technology import Technology
from sim.sizing.parameter_space import action_of
from sim.sizing.problem import SizingProblem
from sim.sizing.problem_opening import CircuitProblem, open_circuit_problem
from sim.sizing.session import (
    DEFAULT_SPACE,
    SPACES,
    ProblemOptions,
    Session,
    parse_space,
)
from sim.sizing.simulator import Evaluation, Simulator

SPACE_VARIANTS = {"geometric": "v1", "electrical": "v0", "autockt": "autockt"}
AUTOCKT_THRESHOLD = 1.0 / 3.0  # a box action below -t steps down, above t up


def space_variant(space: str) -> str:
    """The env variant (``envs.config.VARIANTS``) of a space name or alias."""
    return SPACE_VARIANTS[parse_space(space)]


def check_space(space: str, circuit: Circuit, tech: Technology) -> None:
    """Refuse, in one line, a space the circuit or technology cannot take
    (electrical: a circuit without a sizing procedure, a technology without
    device networks); loads no network."""
    space_parameters(space, circuit, tech)
    if parse_space(space) == "electrical":
        from surrogate.device.names import DEVICE_NAMES

        if tech.name not in DEVICE_NAMES:
            raise UserInputError(
                f"no device gm/Id networks for technology {tech.name}: the "
                f"electrical space needs {' or '.join(DEVICE_NAMES)}; use "
                "--space geometric or autockt"
            )


def space_parameters(
    space: str, circuit: Circuit, tech: Technology
) -> tuple[Parameter, ...]:
    """The parameters a policy's actions scale to in ``space``."""
    space = parse_space(space)
    if space == "electrical":
        from envs.electrical import electrical_parameters

        if not circuit.electrical_space:
            raise UserInputError(
                f"circuit {circuit.name} declares no electrical sizing procedure "
                "(electrical_space in its YAML): use --space geometric or autockt"
            )
        return electrical_parameters(circuit, tech)
    if space == "autockt":
        return tuple(grid_parameter(p) for p in circuit.parameters)
    return tuple(circuit.parameters)


def grid_parameter(p: Parameter) -> Parameter:
    """``p`` on AutoCkt's grid: integers, grids and fixed parameters as they
    are; a continuous one as a grid parameter of ``parameter_grid(p)``."""
    if p.kind != "real" or p.low == p.high:
        return p
    grid = parameter_grid(p)
    default = float(grid[np.argmin(np.abs(grid - p.default))])
    return dataclasses.replace(
        p, kind="grid", default=default, grid=tuple(map(float, grid))
    )


def space_problem(
    problem: SizingProblem, circuit: Circuit, tech: Technology, space: str
) -> tuple[SizingProblem, np.ndarray]:
    """``problem`` with actions scaled to the space's parameters, and the
    default sizing ``[n_params]`` in that space (SI)."""
    space = parse_space(space)
    if space == DEFAULT_SPACE:
        default = circuit.default_design()
        return problem, np.asarray([default[n] for n in problem.scale.names])
    parameters = space_parameters(space, circuit, tech)
    default = np.asarray([p.default for p in parameters], np.float64)
    return problem.with_parameters(parameters), default


@dataclass(frozen=True)
class SpaceProblem:
    """A problem opened in a policy's space: ``opened`` the circuit, technology
    and geometric problem (``sim.sizing.problem_opening``), ``space`` the canonical
    space name, ``problem`` the sizing problem with actions scaled to the
    space's parameters and ``default_sizing`` ``[n_params]`` (SI) in it."""

    opened: CircuitProblem
    space: str
    problem: SizingProblem
    default_sizing: np.ndarray


def open_problem(options: ProblemOptions) -> SpaceProblem:
    """The one way to open a command's problem without a simulator: the
    circuit, technology and corner of ``options`` (``sim.sizing.problem_opening``)
    and the problem in its space (resolved once, ``space_problem``)."""
    opened = open_circuit_problem(options)
    problem, default = space_problem(
        opened.problem, opened.circuit, opened.technology, options.space
    )
    return SpaceProblem(opened, parse_space(options.space), problem, default)


def space_session(session: Session) -> Session:
    """The session in its options' space: geometric unchanged; autockt with
    the problem on AutoCkt's grid; electrical with the problem in electrical
    values and an ``ElectricalSimulator`` (device networks needed)."""
    space = session.options.space
    if space == DEFAULT_SPACE:
        return session
    simulator = session.simulator
    circuit, tech = simulator.circuit, simulator.technology
    problem, default = space_problem(session.problem, circuit, tech, space)
    if space == "electrical":
        actions, _ = action_map(space, circuit, tech)
        simulator = ElectricalSimulator(simulator, actions)
    return Session(session.options, problem, simulator, default)


class ElectricalSimulator:
    """A ``Simulator`` taking electrical designs (``{gmid_*, fug_*, i*, ...}``,
    ``envs.electrical``): each batch is sized to W/L/M through the device
    networks, simulated, and returned with the electrical values added to
    each evaluation's ``params``. Anything else is the wrapped simulator's."""

    def __init__(self, simulator: Simulator, actions) -> None:
        self._simulator = simulator
        self.actions = actions  # envs.electrical.ElectricalActions

    def __getattr__(self, name: str):
        return getattr(self._simulator, name)

    def electrical(self, design: Mapping[str, float]) -> dict[str, float]:
        """The electrical values of ``design`` (defaults where missing)."""
        names = self.actions.scale.names
        unknown = sorted(set(design) - set(names))
        if unknown:
            raise UserInputError(
                f"{unknown} are not electrical-space parameters; those are "
                f"{', '.join(names)}"
            )
        return {
            p.name: float(design.get(p.name, p.default))
            for p in self.actions.parameters
        }

    def circuit_designs(self, designs: Sequence[Mapping[str, float]]) -> list[dict]:
        """The circuit designs (W/L/M ..., SI) of electrical ``designs``,
        clipped to the circuit's bounds as the SPICE envs clip them."""
        if not designs:
            return []
        names = self.actions.scale.names
        values = np.asarray([[d[n] for n in names] for d in designs], np.float64)
        state = np.zeros((len(designs), 0), np.int32)
        sized, _ = self.actions.designs(action_of(values, self.actions.scale), state)
        sized = np.clip(sized, self.actions.design_low, self.actions.design_high)
        names = self._simulator.circuit.parameter_names
        return [dict(zip(names, map(float, row), strict=True)) for row in sized]

    def simulate(
        self, designs: Sequence[Mapping[str, float]], **kwargs
    ) -> list[Evaluation]:
        electrical = [self.electrical(d) for d in designs]
        evaluations = self._simulator.simulate(
            self.circuit_designs(electrical), **kwargs
        )
        return [
            dataclasses.replace(e, params={**e.params, **values})
            for e, values in zip(evaluations, electrical, strict=True)
        ]

    def deck(self, testbench: str, design: Mapping[str, float] | None = None) -> str:
        """The deck of a circuit design (electrical entries are dropped)."""
        names = set(self._simulator.circuit.parameter_names)
        own = {k: v for k, v in (design or {}).items() if k in names}
        return self._simulator.deck(testbench, own)


def env_keywords(options: ProblemOptions) -> dict[str, Any]:
    """The SPICE env keywords (``envs.config.EnvConfig``) of a command's
    ``ProblemOptions``: circuit, technology, corner, temperature, its space
    (as the variant) and the figure set (``--all-figures``: every figure)."""
    return {
        "circuit": options.circuit,
        "tech": options.tech,
        "variant": options.space,
        "corner": options.corner,
        "temperature": float(options.temperature),
        "figures": "all" if options.all_figures else "specs",
    }


def env_actions(space: str, actions: np.ndarray) -> np.ndarray:
    """A box policy's actions ``[B, n]`` as actions of the space's SPICE env:
    clipped to ``[-1, 1]`` (float64), or for autockt AutoCkt's steps
    ``{0, 1, 2}`` (int32: below ``-AUTOCKT_THRESHOLD`` down, above it up,
    else keep)."""
    actions = np.clip(np.asarray(actions, np.float64), -1.0, 1.0)
    if parse_space(space) != "autockt":
        return actions
    edges = [-AUTOCKT_THRESHOLD, AUTOCKT_THRESHOLD]
    return np.digitize(actions, edges).astype(np.int32)


class PolicyActions:
    """A box policy's actions ``[B, n]`` in ``[-1, 1]`` as circuit designs,
    through a space's action map (the PPO-on-SPICE baseline).

    Geometric and electrical take the actions as they are; autockt reads each
    entry as AutoCkt's step (below ``-AUTOCKT_THRESHOLD`` down, above it up,
    else keep) from the episode's grid position ``state`` ``[B, n]``.
    """

    def __init__(self, space: str, circuit: Circuit, tech: Technology) -> None:
        self.space = parse_space(space)
        self.map, constrained = action_map(self.space, circuit, tech)
        self.names = constrained.circuit.parameter_names
        self.low, self.high = constrained.design_low, constrained.design_high
        default = np.asarray([p.default for p in constrained.circuit.parameters])
        self.initial = np.clip(default, self.low, self.high)
        self.size = int(self.map.space.shape[0])

    @property
    def discrete(self) -> bool:
        return self.space == "autockt"

    def start(self) -> tuple[dict[str, float], np.ndarray]:
        """An episode's first design and its state ``[n_state]``."""
        state = self.map.initial_state(self.initial)
        design = self.initial
        if self.discrete:  # the grid point an episode starts on ("keep")
            keep = np.ones((1, self.size), np.int32)
            design = self.map.designs(keep, state[None])[0][0]
        return dict(zip(self.names, map(float, design), strict=True)), state

    def designs(
        self, actions: np.ndarray, state: np.ndarray
    ) -> tuple[list[dict[str, float]], np.ndarray]:
        """Designs of actions ``[B, n]`` from states ``[B, n_state]``, and the
        next states."""
        sized, state = self.map.designs(env_actions(self.space, actions), state)
        sized = np.clip(sized, self.low, self.high)  # as the SPICE envs do
        designs = [dict(zip(self.names, map(float, row), strict=True)) for row in sized]
        return designs, state


__all__ = [
    "SPACES",
    "SPACE_VARIANTS",
    "ElectricalSimulator",
    "PolicyActions",
    "SpaceProblem",
    "check_space",
    "open_problem",
    "env_actions",
    "env_keywords",
    "space_problem",
    "space_session",
    "space_variant",
]
