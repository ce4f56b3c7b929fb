"""Opening a sizing problem with its simulator, from names, paths or an env id.

Every command that sizes or trains (``train``, ``train.size``, ``train.eval``,
``surrogate.fit``, the benchmarks) opens its problem here, from one set of
command-line options (``add_problem_options``):

    --env jaxsizer/op2-sky130-v1        (shorthand for --circuit op2 --tech sky130)
    --circuit NAME|DIR/circuit.yaml --tech NAME|DIR/tech.yaml
    --corner tt --temperature 27 --workers N
    --sim-backend local|ray|remote [--ray-address ADDR] [--server URL --token-env VAR]

A user's own circuit and technology work everywhere a built-in one does.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.backend import BackendConfig, SimulationBackend, add_backend_options
from sim.circuit import load_circuit
from sim.errors import UserInputError
from sim.problem import SizingProblem, problem_for, spec_circuit
from sim.simulator import Simulator
from sim.store import SimulationStore
from sim.technology import load_technology

# The geometric env ids (the space the trainer works in): the current
# ``jaxsizer/<circuit>-<tech>-geometric-v0`` and GAC²E's ``...-v1`` alias.
ENV_ID = re.compile(
    r"^(?:envs:)?jaxsizer/(?P<circuit>[A-Za-z0-9_]+)-(?P<tech>[A-Za-z0-9_]+)"
    r"-(?:geometric-v0|v1)$"
)


@dataclass(frozen=True)
class ProblemOptions:
    """Which problem to open: circuit and technology (names or YAML paths),
    corner (None: the technology's default), temperature in °C, and whether
    to simulate every figure (default: only the spec figures)."""

    circuit: str
    tech: str
    corner: str | None = None
    temperature: float = 27.0
    all_figures: bool = False

    def to_json(self) -> dict:
        return {
            "circuit": _absolute(self.circuit),
            "tech": _absolute(self.tech),
            "corner": self.corner,
            "temperature": self.temperature,
            "all_figures": self.all_figures,
        }

    @classmethod
    def from_json(cls, data: dict) -> ProblemOptions:
        return cls(**data)


@dataclass
class Session:
    """An open problem: the arrays (``problem``), its simulator and the
    circuit's default sizing ``default_sizing`` ``[n_params]`` (SI)."""

    options: ProblemOptions
    problem: SizingProblem
    simulator: Simulator
    default_sizing: np.ndarray

    @property
    def fingerprint(self) -> str:
        """A hash of the problem as a run sees it: everything a simulation
        reads (``Simulator.fingerprint``), the declared target box and the
        parameter space (names, bounds, scales, grids)."""
        import hashlib
        import json

        space = [
            [p.name, p.kind, p.low, p.high, p.scale, list(p.grid or ())]
            for p in self.simulator.circuit.parameters
        ]
        text = json.dumps(
            [self.simulator.fingerprint, self.problem.box.to_json(), space],
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(text.encode()).hexdigest()

    def close(self) -> None:
        self.simulator.close()


def parse_env_id(env_id: str) -> tuple[str, str]:
    """``jaxsizer/op2-sky130-geometric-v0`` (or ``jaxsizer/op2-sky130-v1``)
    -> (``op2``, ``sky130``)."""
    match = ENV_ID.match(env_id)
    if match is None:
        raise UserInputError(
            f"bad env id {env_id!r}: expected jaxsizer/<circuit>-<tech>-geometric-v0 "
            "(or its alias jaxsizer/<circuit>-<tech>-v1), "
            "or give --circuit and --tech (names or YAML paths)"
        )
    return match["circuit"], match["tech"]


def open_session(
    options: ProblemOptions,
    *,
    workers: int | None = None,
    store: SimulationStore | None = None,
    backend: SimulationBackend | BackendConfig | None = None,
) -> Session:
    """Load the circuit and technology and start (lazily) their simulator."""
    technology = load_technology(options.tech)
    circuit = load_circuit(options.circuit, technology)
    if not options.all_figures:
        circuit = spec_circuit(circuit)
    simulator = Simulator(
        circuit,
        technology,
        options.corner,
        options.temperature,
        n_workers=workers,
        store=store,
        backend=backend,
    )
    problem = problem_for(
        circuit, technology.name, simulator.corner, simulator.temperature
    )
    default = circuit.default_design()
    sizing = np.asarray([default[name] for name in problem.scale.names])
    return Session(options, problem, simulator, sizing)


def add_problem_options(parser: argparse.ArgumentParser) -> None:
    """The problem options every sizing command takes (one place)."""
    group = parser.add_argument_group("problem")
    group.add_argument("--env", default=None, help="jaxsizer/<circuit>-<tech>-v1")
    group.add_argument("--circuit", default=None, help="circuit name or YAML path")
    group.add_argument("--tech", default=None, help="technology name or YAML path")
    group.add_argument("--corner", default=None, help="process corner")
    group.add_argument(
        "--temperature", type=float, default=27.0, help="temperature in °C"
    )
    group.add_argument(
        "--all-figures",
        action="store_true",
        help="simulate every figure, not only the specs' analyses",
    )
    group.add_argument(
        "--workers", type=int, default=None, help="ngspice workers (default: cores)"
    )
    add_backend_options(group)


def options_from_args(args: argparse.Namespace) -> ProblemOptions:
    """``ProblemOptions`` of ``add_problem_options``'s flags."""
    circuit, tech = args.circuit, args.tech
    if args.env is not None:
        env_circuit, env_tech = parse_env_id(args.env)
        circuit, tech = circuit or env_circuit, tech or env_tech
    if circuit is None or tech is None:
        raise UserInputError("give --env, or --circuit and --tech")
    if args.workers is not None and args.workers < 1:
        raise UserInputError("--workers must be at least 1")
    return ProblemOptions(
        circuit, tech, args.corner, float(args.temperature), bool(args.all_figures)
    )


def _absolute(name: str) -> str:
    """A path argument made absolute (a run may be resumed from elsewhere);
    a built-in name unchanged."""
    path = Path(name)
    looks_like_path = "/" in name or name.endswith((".yaml", ".yml"))
    return str(path.resolve()) if looks_like_path and path.exists() else name
