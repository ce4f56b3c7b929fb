"""The sizing problem a run trains on: env id -> simulator, definition, defaults."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from envs.problem import EnvDefinition, build_definition
from sim.circuit import load_circuit
from sim.errors import UserInputError
from sim.pool import SimulationPool
from sim.simulator import Simulator
from sim.specs import load_feasible
from sim.store import SimulationStore
from sim.technology import load_technology

_ENV_ID = re.compile(
    r"^jaxsizer/(?P<circuit>[A-Za-z0-9_]+)-(?P<tech>[A-Za-z0-9_]+)-v1$"
)


@dataclass
class Problem:
    """One circuit on one technology, ready for training and verification."""

    env_id: str
    simulator: Simulator
    definition: EnvDefinition
    default_params: np.ndarray  # [n] SI, the circuit's default design

    def close(self) -> None:
        self.simulator.close()


def parse_env_id(env_id: str) -> tuple[str, str]:
    """``jaxsizer/op2-sky130-v1`` -> (``op2``, ``sky130``)."""
    match = _ENV_ID.match(env_id)
    if match is None:
        raise UserInputError(
            f"bad env id {env_id!r}: expected jaxsizer/<circuit>-<tech>-v1 "
            "(the surrogate trainer uses the geometric v1 space)"
        )
    return match["circuit"], match["tech"]


def load_problem(
    env_id: str,
    n_workers: int | None = None,
    store: SimulationStore | None = None,
    pool: SimulationPool | None = None,
    all_figures: bool = False,
) -> Problem:
    """Build the problem of ``env_id`` (circuit, technology, feasible specs).

    Unless ``all_figures``, only the spec figures (and the operating point)
    are simulated and observed: the testbenches nobody reads are skipped.
    """
    circuit_name, tech_name = parse_env_id(env_id)
    technology = load_technology(tech_name)
    circuit = load_circuit(circuit_name, technology)
    feasible = load_feasible(circuit, technology.name)
    if feasible is None:
        raise UserInputError(
            f"{circuit_name} on {tech_name} has no feasible specs yet: run "
            f"python -m sim specs --circuit {circuit_name} --tech {tech_name}"
        )
    if not all_figures:
        circuit = circuit.restricted(s.measure for s in feasible.specs)
    simulator = Simulator(
        circuit, technology, n_workers=n_workers, store=store, pool=pool
    )
    definition = build_definition(circuit, technology.name, simulator.corner, feasible)
    default = circuit.default_design()
    params = np.asarray([default[name] for name in definition.scale.names])
    return Problem(env_id, simulator, definition, params)
