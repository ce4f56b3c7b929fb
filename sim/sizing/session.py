"""Opening a sizing problem with its simulator, from names, paths or an env id.

Every command that sizes or trains (``train``, ``train.size``, ``train.eval``,
``surrogate.fit``, the benchmarks) opens its problem here, from one set of
command-line options (``add_problem_options``):

    --env jaxsizer/op2-sky130-electrical-v0   (shorthand for --circuit op2
                                              --tech sky130 --space electrical)
    --circuit NAME|DIR/circuit.yaml --tech NAME|DIR/tech.yaml
    --corner tt --temperature 27 --workers N
    --pvt signoff|nominal|"corners=tt,ss temperatures=-40,125 supply=0.9,1.1"
    --space geometric|electrical|autockt     (aliases v1 = geometric, v0 = electrical)
    --sim-backend local|ray|remote [--ray-address ADDR] [--server URL --token-env VAR]

A user's own circuit and technology work everywhere a built-in one does.

The space (``--space``) is the action space a policy acts in: ``geometric``
(W, L, M, R, C on their scales), ``electrical`` (gm/Id, fug and branch
currents sized through device networks) or ``autockt`` (AutoCkt's grid). It
is a plain name here: ``sim`` knows no policies; ``envs.sizing_space`` maps
it to an action map.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.engine.backend import BackendConfig, SimulationBackend, add_backend_options
from sim.errors import UserInputError
from sim.sizing.problem import SizingProblem
from sim.sizing.problem_opening import open_circuit_problem
from sim.sizing.simulator import Simulator
from sim.storage.store import SimulationStore

SPACES = ("geometric", "electrical", "autockt")
SPACE_ALIASES = {"v1": "geometric", "v0": "electrical"}  # GAC²E's variant names
DEFAULT_SPACE = "geometric"

# The SPICE env ids: ``jaxsizer/<circuit>-<tech>-<space>-v0``, GAC²E's
# geometric alias ``...-v1``, and the ``custom`` ids (circuit and tech given
# by --circuit and --tech).
ENV_ID = re.compile(
    r"^(?:envs:)?jaxsizer/(?:custom|(?P<circuit>[A-Za-z0-9_]+)-"
    r"(?P<tech>[A-Za-z0-9_]+))-(?:(?P<space>geometric|electrical|autockt)-v0|v1)$"
)


def parse_space(name: str) -> str:
    """A space name (``geometric``, ``electrical``, ``autockt``, or the aliases
    ``v1``, ``v0``) as its canonical name; a ``UserInputError`` otherwise."""
    space = SPACE_ALIASES.get(str(name).strip().lower(), str(name).strip().lower())
    if space not in SPACES:
        raise UserInputError(
            f"unknown space {name!r}: use {', '.join(SPACES)} "
            "(aliases: v1 = geometric, v0 = electrical)"
        )
    return space


def _space_argument(text: str) -> str:
    try:
        return parse_space(text)
    except UserInputError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


@dataclass(frozen=True)
class ProblemOptions:
    """Which problem to open: circuit and technology (names or YAML paths),
    corner (None: the technology's default), temperature in °C, whether to
    simulate every figure (default: only the spec figures) and the action
    space a policy acts in (``SPACES``; ``envs.sizing_space`` maps it)."""

    circuit: str
    tech: str
    corner: str | None = None
    temperature: float = 27.0
    all_figures: bool = False
    space: str = DEFAULT_SPACE
    pvt: str | None = None  # --pvt text (sim.pvt); None: the circuit's pvt:

    def __post_init__(self) -> None:
        object.__setattr__(self, "space", parse_space(self.space))

    def to_json(self) -> dict:
        data = {
            "circuit": _absolute(self.circuit),
            "tech": _absolute(self.tech),
            "corner": self.corner,
            "temperature": self.temperature,
            "all_figures": self.all_figures,
            "space": self.space,
        }
        if self.pvt is not None:  # runs without --pvt keep their JSON
            data["pvt"] = self.pvt
        return data

    @classmethod
    def from_json(cls, data: dict) -> ProblemOptions:
        """From ``to_json``; a run written before ``space`` existed is geometric."""
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
        reads (``Simulator.fingerprint``), the declared target box, the
        parameter space (names, bounds, scales, grids) and the policy's space
        unless geometric (so a geometric run's hash is what it was)."""
        import hashlib
        import json

        space = [
            [p.name, p.kind, p.low, p.high, p.scale, list(p.grid or ())]
            for p in self.simulator.circuit.parameters
        ]
        parts = [self.simulator.fingerprint, self.problem.box.to_json(), space]
        if self.options.space != DEFAULT_SPACE:  # geometric runs keep their hash
            parts.append(self.options.space)
        text = json.dumps(parts, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    @property
    def conditions(self):
        """The declared conditions (``sim.format.pvt_conditions.ConditionSet``):
        ``--pvt``, else the circuit's ``pvt:``, else the nominal one alone."""
        from sim.format.pvt_conditions import parse_declaration, resolve

        declaration = (
            parse_declaration(self.options.pvt)
            if self.options.pvt is not None
            else self.simulator.circuit.pvt
        )
        simulator = self.simulator
        return resolve(
            declaration, simulator.technology, simulator.corner, simulator.temperature
        )

    def close(self) -> None:
        self.simulator.close()


def env_id_parts(env_id: str) -> tuple[str | None, str | None, str]:
    """``jaxsizer/op2-sky130-electrical-v0`` -> (``op2``, ``sky130``,
    ``electrical``); ``...-v1`` is geometric; ``jaxsizer/custom-<space>-v0``
    gives no circuit and technology (None, None, space)."""
    match = ENV_ID.match(env_id)
    if match is None:
        raise UserInputError(
            f"bad env id {env_id!r}: expected jaxsizer/<circuit>-<tech>-<space>-v0 "
            f"(space: {', '.join(SPACES)}; jaxsizer/<circuit>-<tech>-v1 is "
            "geometric), or give --circuit and --tech (names or YAML paths)"
        )
    return match["circuit"], match["tech"], match["space"] or DEFAULT_SPACE


def parse_env_id(env_id: str) -> tuple[str, str]:
    """``jaxsizer/op2-sky130-geometric-v0`` (or ``jaxsizer/op2-sky130-v1``)
    -> (``op2``, ``sky130``); a ``custom`` id is refused (it names neither)."""
    circuit, tech, _ = env_id_parts(env_id)
    if circuit is None or tech is None:
        raise UserInputError(
            f"{env_id} names no circuit or technology: give --circuit and --tech"
        )
    return circuit, tech


def open_session(
    options: ProblemOptions,
    *,
    workers: int | None = None,
    store: SimulationStore | None = None,
    backend: SimulationBackend | BackendConfig | None = None,
) -> Session:
    """Load the circuit and technology (``sim.sizing.problem_opening``) and start
    (lazily) their simulator."""
    opened = open_circuit_problem(options)
    simulator = Simulator(
        opened.circuit,
        opened.technology,
        opened.corner,
        opened.temperature,
        n_workers=workers,
        store=store,
        backend=backend,
    )
    return Session(options, opened.problem, simulator, opened.default_sizing)


def add_problem_options(
    parser: argparse.ArgumentParser, simulation: bool = True
) -> None:
    """The problem options every sizing command takes (one place);
    ``simulation=False`` leaves out the simulation flags (figures, workers,
    backend) for commands that simulate nothing."""
    group = parser.add_argument_group("problem")
    group.add_argument(
        "--env",
        default=None,
        help="jaxsizer/<circuit>-<tech>-<space>-v0 (a shorthand for --circuit, "
        "--tech and --space)",
    )
    group.add_argument("--circuit", default=None, help="circuit name or YAML path")
    group.add_argument("--tech", default=None, help="technology name or YAML path")
    group.add_argument("--corner", default=None, help="process corner")
    group.add_argument(
        "--temperature", type=float, default=27.0, help="temperature in °C"
    )
    add_pvt_option(group)
    add_space_option(group)
    if not simulation:
        return
    group.add_argument(
        "--all-figures",
        action="store_true",
        help="simulate every figure, not only the specs' analyses",
    )
    group.add_argument(
        "--workers", type=int, default=None, help="ngspice workers (default: cores)"
    )
    add_backend_options(group)


def add_pvt_option(parser) -> None:
    """``--pvt`` (a parser or argument group); None when not given."""
    parser.add_argument(
        "--pvt",
        type=_pvt_argument,
        default=None,
        help="conditions every spec must hold at: nominal, signoff (corners x "
        "-40/27/125 °C x 0.9/1.0/1.1 VDD) or 'corners=tt,ss temperatures=-40,125 "
        "supply=0.9,1.1' (default: the circuit's pvt:, else nominal)",
    )


def _pvt_argument(text: str) -> str:
    from sim.format.pvt_conditions import parse_declaration

    try:
        return parse_declaration(text).to_text()
    except UserInputError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def add_space_option(parser) -> None:
    """``--space`` (a parser or argument group); None when not given."""
    parser.add_argument(
        "--space",
        type=_space_argument,
        default=None,
        help=f"action space of the policy: {', '.join(SPACES)} (aliases v1, v0; "
        "default: the --env id's, else geometric)",
    )


def options_from_args(args: argparse.Namespace) -> ProblemOptions:
    """``ProblemOptions`` of ``add_problem_options``'s flags (--circuit,
    --tech and --space given beside --env take precedence over the id's)."""
    circuit, tech = args.circuit, args.tech
    space = given_space(args) or DEFAULT_SPACE
    if args.env is not None:
        env_circuit, env_tech, _ = env_id_parts(args.env)
        circuit, tech = circuit or env_circuit, tech or env_tech
    if circuit is None or tech is None:
        raise UserInputError("give --env, or --circuit and --tech")
    workers = getattr(args, "workers", None)
    if workers is not None and workers < 1:
        raise UserInputError("--workers must be at least 1")
    return ProblemOptions(
        circuit,
        tech,
        args.corner,
        float(args.temperature),
        bool(getattr(args, "all_figures", False)),
        space,
        getattr(args, "pvt", None),
    )


def given_space(args: argparse.Namespace) -> str | None:
    """The space the flags ask for: ``--space``, else the ``--env`` id's,
    else None (nothing said)."""
    if getattr(args, "space", None) is not None:
        return args.space
    if getattr(args, "env", None) is not None:
        return env_id_parts(args.env)[2]
    return None


def _absolute(name: str) -> str:
    """A path argument made absolute (a run may be resumed from elsewhere);
    a built-in name unchanged."""
    path = Path(name)
    looks_like_path = "/" in name or name.endswith((".yaml", ".yml"))
    return str(path.resolve()) if looks_like_path and path.exists() else name
