"""The sizing problem: one circuit on one technology, as the arrays every layer reads.

``SizingProblem`` is the one home of what a sizing task is about: the
parameter space (``scale``, the action mapping), every performance figure and
its unit, which figures are specs, their declared target box (``box``, the
distribution users' targets come from, ``sim.format.targets``), the operating-point
entries, and the circuit's declared behaviour (``reward_kind``, point
targets). The surrogates (``surrogate/``), the environments (``envs/``), the
trainer (``train/``) and the benchmarks all read it; none rebuilds it.

``problem_for`` builds it from a loaded circuit; ``sim.sizing.session`` opens one
with its simulator from names or paths.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from sim.errors import UserInputError
from sim.format.circuit import Circuit, Parameter
from sim.format.targets import TargetBox
from sim.sizing.parameter_space import ActionScale

# Figures spanning decades enter observations and surrogates as log10(|x|).
LOG_UNITS = frozenset({"Hz", "W", "A", "F", "ohm", "V/s", "m²", "V/√Hz", "S", "m"})
OP_LOG_QUANTITIES = frozenset({"id", "gm", "gds", "fug"})
OP_QUANTITIES = ("gmoverid", "fug", "id", "gm", "gds", "vdsat", "region")


@dataclass(frozen=True)
class SizingProblem:
    """Static description of one sizing problem (arrays are NumPy).

    figures: every performance figure, in observation order (``figure_units``
    their units, ``figure_log`` which enter as log10); ``box`` the declared
    target box over the specs (``spec_index`` [m] into figures); ``point``
    [m] True where a spec is a point target (met within a tolerance);
    ``op_names`` the operating-point entries ``<device>:<quantity>``;
    ``scale`` the parameters actions map to (the circuit's own for the
    geometric v1 space, the electrical ones for v0).
    """

    circuit: str
    technology: str
    corner: str
    temperature: float
    scale: ActionScale
    figures: tuple[str, ...]
    figure_units: tuple[str, ...]
    figure_log: np.ndarray
    box: TargetBox
    spec_index: np.ndarray
    point: np.ndarray
    op_names: tuple[str, ...]
    op_log: np.ndarray
    reward_kind: str

    # -- the specs ---------------------------------------------------------------
    @property
    def specs(self) -> tuple[str, ...]:
        return self.box.names

    @property
    def lower(self) -> np.ndarray:
        """[m] True for ">= target" specs, False for "<= target"."""
        return self.box.lower

    @property
    def spec_units(self) -> tuple[str, ...]:
        return self.box.units

    @property
    def target_log(self) -> np.ndarray:
        """[m] True where a target enters observations as log10."""
        return np.asarray([u in LOG_UNITS for u in self.spec_units])

    # -- the observation ---------------------------------------------------------
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

    def with_parameters(self, parameters: Sequence[Parameter]) -> SizingProblem:
        """The same problem with actions mapped to other parameters (v0)."""
        return dataclasses.replace(self, scale=ActionScale.from_parameters(parameters))

    def with_box(self, box: TargetBox) -> SizingProblem:
        """The same problem with another target box over the same specs."""
        if box.names != self.box.names:
            raise UserInputError(
                f"the box must give the specs {list(self.box.names)} in order"
            )
        return dataclasses.replace(self, box=box)

    # -- results as arrays -------------------------------------------------------
    def figure_vector(self, performance: Mapping[str, float]) -> np.ndarray:
        """All figures ``[n_figures]`` of a performance dict (NaN where missing)."""
        return np.asarray([_number(performance.get(f)) for f in self.figures])

    def spec_vector(self, performance: Mapping[str, float]) -> np.ndarray:
        """Spec figures ``[m]`` of a performance dict (NaN where missing)."""
        return np.asarray([_number(performance.get(s)) for s in self.specs])

    def op_vector(self, performance: Mapping[str, float]) -> np.ndarray:
        """Operating-point entries ``[n_op]`` (NaN where missing)."""
        return np.asarray([_number(performance.get(n)) for n in self.op_names])

    def design(self, sizing: Sequence[float]) -> dict[str, float]:
        """A parameter dict from a sizing ``[n_params]`` in ``scale`` order."""
        return dict(zip(self.scale.names, map(float, sizing), strict=True))


def _number(value) -> float:
    return np.nan if value is None else float(value)


def problem_for(
    circuit: Circuit,
    technology: str,
    corner: str,
    temperature: float = 27.0,
    parameters: Sequence[Parameter] | None = None,
) -> SizingProblem:
    """The problem of a loaded ``circuit`` (its declared box and behaviour).

    ``parameters`` are what actions scale to (default: the circuit's own).
    """
    box = circuit.box
    if not box.specs:
        raise UserInputError(f"circuit {circuit.name} declares no specs: no targets")
    units = {m.name: m.unit for m in circuit.measures}
    figures = tuple(m.name for m in circuit.measures)
    op_names = tuple(f"{d}:{q}" for d in circuit.devices for q in OP_QUANTITIES)
    is_point = circuit.reward == "distance"
    return SizingProblem(
        circuit=circuit.name,
        technology=technology,
        corner=corner,
        temperature=float(temperature),
        scale=ActionScale.from_parameters(parameters or circuit.parameters),
        figures=figures,
        figure_units=tuple(units[f] for f in figures),
        figure_log=np.asarray([units[f] in LOG_UNITS for f in figures], bool),
        box=box,
        spec_index=np.asarray([figures.index(n) for n in box.names], np.int64),
        point=np.full(len(box.specs), is_point, bool),
        op_names=op_names,
        op_log=np.asarray(
            [n.split(":")[1] in OP_LOG_QUANTITIES for n in op_names], bool
        ),
        reward_kind=circuit.reward,
    )


def spec_circuit(circuit: Circuit) -> Circuit:
    """The circuit measuring only its spec figures and the operating point
    (``Circuit.restricted``): testbenches and analyses no spec reads are
    dropped, so an op-amp with gain, bandwidth, phase-margin and power specs
    runs only ``open_loop`` op + ac. The fingerprint changes, so the store
    keeps such runs apart from full ones."""
    return circuit.restricted(circuit.box.names)
