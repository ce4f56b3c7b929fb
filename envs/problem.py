"""What one environment id is about: a circuit on a technology, as arrays.

``EnvDefinition`` gathers everything static that both environments need
(action scaling, which figures are specs and their bounds, target ranges and
anchors, observation layout) from the circuit definition and its feasible
specs, so that the SPICE env and the JAX env are built from the same object.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from envs.definition import LOG_UNITS, OP_LOG_QUANTITIES, OP_QUANTITIES, ActionScale
from sim.circuit import Circuit, Parameter
from sim.errors import UserInputError
from sim.specs import FeasibleSpecs

# GAC²E's inverter chain and Schmitt trigger: point targets, reward -sum(d).
DISTANCE_REWARD_CIRCUITS = frozenset({"nand4", "st1"})
FIGURE_SETS = ("all", "specs")


@dataclass(frozen=True)
class EnvDefinition:
    """Static description of one environment (arrays are NumPy, float64).

    figures: every performance figure in observation order; specs: the subset
    with targets (``spec_index`` into figures), ``lower`` True for ">= target",
    ``point`` True for point targets (met within a tolerance); target ranges
    ``spec_low``/``spec_high`` (``spec_log`` sampling scale) and ``anchors``
    ``[n_anchors, m]``; ``op_names`` the operating-point entries.
    """

    circuit: str
    technology: str
    corner: str
    scale: ActionScale
    figures: tuple[str, ...]
    figure_log: np.ndarray
    specs: tuple[str, ...]
    spec_index: np.ndarray
    lower: np.ndarray
    point: np.ndarray
    spec_low: np.ndarray
    spec_high: np.ndarray
    spec_log: np.ndarray
    target_log: np.ndarray
    anchors: np.ndarray
    op_names: tuple[str, ...]
    op_log: np.ndarray
    reward_kind: str

    @property
    def observation_layout(self) -> list[str]:
        """Name of every observation entry, in order."""
        return (
            [f"performance_{f}" for f in self.figures]
            + [f"target_{s}" for s in self.specs]
            + [f"distance_{s}" for s in self.specs]
            + list(self.op_names)
        )

    @property
    def observation_size(self) -> int:
        return len(self.figures) + 2 * len(self.specs) + len(self.op_names)


def build_definition(
    circuit: Circuit,
    technology: str,
    corner: str,
    feasible: FeasibleSpecs | None,
    parameters: Sequence[Parameter] | None = None,
) -> EnvDefinition:
    """The definition of ``circuit`` on ``technology`` (feasible specs if known).

    ``parameters`` are what actions scale to (default: the circuit's own, the
    geometric v1 space). Without stored feasible specs, targets are drawn from
    the circuit's spec ranges with the range's hard ends as the only anchor.
    """
    if not circuit.specs:
        raise UserInputError(f"circuit {circuit.name} declares no specs: no targets")
    units = {m.name: m.unit for m in circuit.measures}
    figures = tuple(m.name for m in circuit.measures)
    specs = feasible.specs if feasible is not None else circuit.specs
    names = tuple(s.measure for s in specs)
    missing = [n for n in names if n not in figures]
    if missing:
        raise UserInputError(
            f"circuit {circuit.name}: specs {missing} are not among its figures"
        )
    if feasible is not None:
        anchors = feasible.anchors
    else:
        anchors = np.asarray([[s.high if s.bound == "lower" else s.low for s in specs]])
    op_names = tuple(f"{d}:{q}" for d in circuit.devices for q in OP_QUANTITIES)
    is_point = circuit.name in DISTANCE_REWARD_CIRCUITS
    return EnvDefinition(
        circuit=circuit.name,
        technology=technology,
        corner=corner,
        scale=ActionScale.from_parameters(parameters or circuit.parameters),
        figures=figures,
        figure_log=np.asarray([units[f] in LOG_UNITS for f in figures]),
        specs=names,
        spec_index=np.asarray([figures.index(n) for n in names]),
        lower=np.asarray([s.bound == "lower" for s in specs]),
        point=np.full(len(names), is_point),
        spec_low=np.asarray([s.low for s in specs]),
        spec_high=np.asarray([s.high for s in specs]),
        spec_log=np.asarray([s.scale == "log" for s in specs]),
        target_log=np.asarray([units[n] in LOG_UNITS for n in names]),
        anchors=np.asarray(anchors, dtype=np.float64),
        op_names=op_names,
        op_log=np.asarray([n.split(":")[1] in OP_LOG_QUANTITIES for n in op_names]),
        reward_kind="distance" if is_point else "amplifier",
    )


def restrict_to_specs(circuit: Circuit) -> Circuit:
    """The circuit measuring only its spec figures and the operating point
    (``Circuit.restricted``): testbenches and analyses no spec reads are
    dropped, so an op-amp with gain, bandwidth, phase-margin and power specs
    runs only ``open_loop`` op + ac. The fingerprint changes, so the store
    keeps such runs apart from full ones (and shares them with the trainer's,
    which restricts the same way)."""
    return circuit.restricted(s.measure for s in circuit.specs)


def figure_vector(
    definition: EnvDefinition, performance: dict[str, float]
) -> np.ndarray:
    """All figures ``[n_figures]`` of a performance dict (NaN where missing)."""
    return np.asarray([performance.get(f, np.nan) for f in definition.figures])


def op_vector(definition: EnvDefinition, performance: dict[str, float]) -> np.ndarray:
    """Operating-point entries ``[n_op]`` of a performance dict (NaN if missing)."""
    return np.asarray([performance.get(n, np.nan) for n in definition.op_names])
