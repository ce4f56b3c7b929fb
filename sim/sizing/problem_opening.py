"""Opening a sizing problem's circuit, technology and ``SizingProblem``, once.

``open_circuit_problem(options)`` is the one way every layer turns a
command's problem options (``sim.sizing.session.ProblemOptions``: circuit and
technology names or paths, corner, temperature, ``all_figures``) into the
loaded technology, the circuit (its spec figures only unless
``all_figures``), the resolved corner and temperature and the geometric
``SizingProblem`` with its default sizing. It starts no simulator and
simulates nothing: ``sim.sizing.session.open_session`` adds the simulator,
``envs.sizing_space.open_problem`` the policy's space (geometric, electrical
or autockt), ``surrogate.circuit.fit_circuit`` fits on it with every figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from sim.format.circuit import Circuit, load_circuit
from sim.format.technology import Technology, load_technology
from sim.sizing.problem import SizingProblem, problem_for, spec_circuit


class CircuitOptions(Protocol):
    """What is read of the options (``sim.sizing.session.ProblemOptions`` has it)."""

    circuit: str
    tech: str
    corner: str | None
    temperature: float
    all_figures: bool


@dataclass(frozen=True)
class CircuitProblem:
    """An opened problem: technology, circuit (spec figures only unless
    ``all_figures``), corner (the technology's default when none was given),
    temperature (°C), the geometric ``SizingProblem`` and its default sizing
    ``[n_params]`` (SI, in ``problem.scale.names`` order)."""

    technology: Technology
    circuit: Circuit
    corner: str
    temperature: float
    problem: SizingProblem
    default_sizing: np.ndarray


def open_circuit_problem(options: CircuitOptions) -> CircuitProblem:
    """Load the technology and circuit of ``options`` and their sizing problem
    (no simulator; a ``UserInputError`` names a missing or broken file)."""
    technology = load_technology(options.tech)
    circuit = load_circuit(options.circuit, technology)
    if not options.all_figures:
        circuit = spec_circuit(circuit)
    corner = options.corner or technology.default_corner
    temperature = float(options.temperature)
    problem = problem_for(circuit, technology.name, corner, temperature)
    default = circuit.default_design()
    sizing = np.asarray([default[name] for name in problem.scale.names])
    return CircuitProblem(technology, circuit, corner, temperature, problem, sizing)
