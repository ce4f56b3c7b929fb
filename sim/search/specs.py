"""A circuit's declared target box, measured (and proposed) by an extensive search.

``python -m sim specs`` maps the circuit's spec trade-offs with a
multi-objective search in SPICE (``sim.search.front``), then either

- measures the **feasibility ceiling** of the declared box (``specs:`` in
  ``circuit.yaml``): the fraction of targets drawn uniformly from the box,
  with a fixed seed, that some verified design meets — first the archive of
  every design the search simulated, then a targeted CMA-ES search per
  target still unmet (``sim.search.targeted``); or
- with ``propose``, proposes a box: the declared easy ends (or ends derived
  from random designs), each hard end pushed out toward the best the search
  reached for that spec with the others at their easy ends, all by the same
  fraction, as far as keeps the estimated ceiling at ``target_ceiling``;
  then measures that box's ceiling the same way.

Nothing here writes into the package: the CLI prints the box as YAML to
paste and writes a JSON report where asked (``sim.commands.specs_report``).
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass

import numpy as np

from sim.errors import UserInputError
from sim.format.targets import SpecRange, TargetBox
from sim.search.archive import DesignArchive, SpiceEvaluator, archive_meets
from sim.search.front import FrontConfig, FrontResult, search_front, sobol_points
from sim.search.targeted import TargetedConfig, targeted_search

ESTIMATE_TARGETS = 4000  # targets the proposal's ceiling estimate draws
ESTIMATE_SEED = 12345
EASY_JOINT_SHARE = 0.25  # derived easy ends: share of random designs meeting all
HARD_DIGITS = 3  # significant digits of a proposed hard end (rounded inward)
EASY_DIGITS = 2  # and of a derived easy end (rounded outward)
MIN_FRACTION = 0.01  # a proposed hard end lies at least this far toward the best


@dataclass(frozen=True)
class SpecSearchConfig:
    """What ``python -m sim specs`` does (a CLI flag per field).

    budget: SPICE simulations of the front search; population: its
    population; seed: its randomness; ceiling_targets / ceiling_seed: how
    many box targets measure the ceiling, and their seed; target_budget:
    simulations of the targeted search per unmet target; propose: propose a
    box instead of measuring the declared one; target_ceiling: the estimated
    ceiling a proposed box aims at; derive_easy: derive the easy ends from
    random designs instead of keeping the declared ones.
    """

    budget: int = 30_000
    population: int = 200
    seed: int = 0
    ceiling_targets: int = 1000
    ceiling_seed: int = 1
    target_budget: int = 200
    propose: bool = False
    target_ceiling: float = 0.98
    derive_easy: bool = False

    def __post_init__(self) -> None:
        if not 0.0 < self.target_ceiling < 1.0:
            raise UserInputError(
                f"target ceiling must be in (0, 1), got {self.target_ceiling:g}"
            )
        for name in ("budget", "population", "ceiling_targets", "target_budget"):
            if getattr(self, name) < 1:
                raise UserInputError(f"{name} must be at least 1")
        if self.population < 4:
            raise UserInputError("population must be at least 4")


@dataclass(frozen=True)
class Ceiling:
    """The feasibility ceiling of a box on ``targets`` ``[T, m]`` drawn with
    ``seed``: ``met`` ``[T]``, how many the archive met before the targeted
    search, the archive rows meeting (or closest to) each target, and the
    simulations the targeted search spent (``sims_per_target`` ``[T]``)."""

    seed: int
    targets: np.ndarray
    met: np.ndarray
    met_by_archive: int
    rows: np.ndarray
    sims_per_target: np.ndarray

    @property
    def value(self) -> float:
        return float(np.mean(self.met)) if len(self.met) else math.nan

    @property
    def sims(self) -> int:
        return int(self.sims_per_target.sum())


@dataclass(frozen=True)
class SpecSearchReport:
    """Everything one ``sim specs`` run found."""

    declared: TargetBox
    box: TargetBox
    ceiling: Ceiling
    front: FrontResult
    archive: DesignArchive
    reach: np.ndarray  # [m] best figure per spec with the others at easy ends
    estimate: float  # the archive-only ceiling estimate of the box
    fraction: float | None  # proposed: hard ends this far from easy to best
    sims: int  # every design simulated (front + targeted)
    from_store: int  # of which the simulation store already had
    seconds: float
    config: SpecSearchConfig


# -- the pieces ---------------------------------------------------------------
def search_scales(box: TargetBox) -> TargetBox:
    """``box`` with hard ends that follow from its easy ends alone: the box
    the searches measure margins in (``TargetBox.margin``: a margin of 1 is
    a factor e on a log spec, the easy end's own size on a linear one).

    Both searches then take the same steps whatever the hard ends are, so
    measuring a proposed box after pasting it into the circuit repeats the
    ``--propose`` run's searches and the simulation store serves them all.
    Targets are still drawn from the box itself; only the weights of the
    specs' shortfalls in the search scores come from here.
    """
    specs = []
    for spec in box.specs:
        if spec.fixed:
            specs.append(spec)
            continue
        sign = 1.0 if spec.bound == "lower" else -1.0
        if spec.scale == "log":
            hard = spec.easy * math.e**sign
        else:
            size = abs(spec.easy) or abs(spec.hard - spec.easy) or 1.0
            hard = spec.easy + sign * size
        specs.append(_with_ends(spec, spec.easy, hard))
    return TargetBox(tuple(specs))


def reach(archive: DesignArchive, box: TargetBox) -> np.ndarray:
    """Per spec ``[m]``: the best figure of a verified design meeting every
    other spec at its easy end (fixed specs too); NaN if none."""
    figures = archive.figures[archive.ok]
    easy = box.easy
    best = np.full(len(box.specs), np.nan)
    for k, spec in enumerate(box.specs):
        others = easy.copy()
        others[k] = np.nan  # no requirement on spec k itself
        values = figures[box.met(figures, others), k]
        values = values[np.isfinite(values)]
        if spec.scale == "log":
            values = values[values > 0]
        if values.size:
            best[k] = values.max() if spec.bound == "lower" else values.min()
    return best


def with_hard_ends(box: TargetBox, fraction: float, reached: np.ndarray) -> TargetBox:
    """``box`` with each free spec's hard end ``fraction`` of the way from
    its easy end to ``reached`` ``[m]`` (on the spec's scale)."""
    specs = []
    for spec, best in zip(box.specs, reached, strict=True):
        if spec.fixed:
            specs.append(spec)
            continue
        if spec.scale == "log":
            hard = math.exp(
                math.log(spec.easy) + fraction * (math.log(best) - math.log(spec.easy))
            )
        else:
            hard = spec.easy + fraction * (best - spec.easy)
        specs.append(_with_ends(spec, spec.easy, hard))
    return TargetBox(tuple(specs))


def _with_ends(spec: SpecRange, easy: float, hard: float) -> SpecRange:
    low, high = (easy, hard) if spec.bound == "lower" else (hard, easy)
    return dataclasses.replace(spec, low=float(low), high=float(high))


def estimate_ceiling(
    figures: np.ndarray, box: TargetBox, n: int = ESTIMATE_TARGETS, seed: int = 0
) -> float:
    """The fraction of ``n`` box targets (``seed``) that designs with
    ``figures`` ``[N, m]`` meet: the ceiling without a targeted search."""
    return float(np.mean(archive_meets(figures, box.sample(n, seed), box)))


def propose_box(
    archive: DesignArchive, box: TargetBox, target_ceiling: float
) -> tuple[TargetBox, float, float]:
    """A box with ``box``'s easy ends whose hard ends push out toward what the
    archive reached (``reach``), by the largest common fraction whose
    estimated ceiling (archive only) is still ``target_ceiling``; hard ends
    rounded inward to ``HARD_DIGITS``. Returns the box, its estimate and the
    fraction."""
    reached = reach(archive, box)
    for spec, best in zip(box.specs, reached, strict=True):
        if not spec.fixed and not _beyond(spec, best):
            raise UserInputError(
                f"no verified design meets {spec.name} beyond its easy end "
                f"{spec.easy:g} with the other specs at theirs: loosen the easy "
                "ends or raise --budget"
            )
    figures = archive.figures[archive.front(box.easy)]
    u = np.random.default_rng(ESTIMATE_SEED).random((ESTIMATE_TARGETS, len(box.specs)))

    def estimate(candidate: TargetBox) -> float:
        return float(np.mean(archive_meets(figures, candidate.from_uniform(u), box)))

    low, high = 0.0, 1.0
    if estimate(with_hard_ends(box, 1.0, reached)) >= target_ceiling:
        low = 1.0
    else:
        for _ in range(20):
            middle = 0.5 * (low + high)
            if estimate(with_hard_ends(box, middle, reached)) >= target_ceiling:
                low = middle
            else:
                high = middle
    if low < MIN_FRACTION:
        raise UserInputError(
            f"the archive meets fewer than {target_ceiling:g} of the targets even "
            "just beyond the easy ends: loosen them or raise --budget"
        )
    proposed = with_hard_ends(box, low, reached)
    rounded = TargetBox(
        tuple(
            spec
            if spec.fixed
            else _with_ends(
                spec, spec.easy, _round_toward(spec.hard, spec.easy, HARD_DIGITS)
            )
            for spec in proposed.specs
        )
    )
    return rounded, estimate(rounded), low


def _beyond(spec: SpecRange, value: float) -> bool:
    if not math.isfinite(value):
        return False
    return value > spec.easy if spec.bound == "lower" else value < spec.easy


def derive_easy_ends(figures: np.ndarray, box: TargetBox) -> TargetBox:
    """``box`` with easy ends that ``EASY_JOINT_SHARE`` of the designs with
    ``figures`` ``[N, m]`` meeting the fixed specs meet together (each free
    spec at the same per-spec share; rounded outward to ``EASY_DIGITS``); the
    hard ends are placeholders at the best of those designs."""
    fixed = np.asarray([s.fixed for s in box.specs])
    only_fixed = np.where(fixed, box.easy, np.nan)
    usable = figures[box.met(figures, only_fixed) & np.all(np.isfinite(figures), 1)]
    free = int(np.sum(~fixed))
    if len(usable) < 10 or free == 0:
        raise UserInputError(
            "too few random designs meet the fixed specs to derive easy ends"
        )
    share = EASY_JOINT_SHARE ** (1.0 / free)
    specs = []
    for k, spec in enumerate(box.specs):
        if spec.fixed:
            specs.append(spec)
            continue
        values = usable[:, k]
        if spec.bound == "lower":
            easy, best = np.quantile(values, 1 - share), values.max()
        else:
            easy, best = np.quantile(values, share), values.min()
        outward = -math.inf if spec.bound == "lower" else math.inf
        easy = _round_toward(float(easy), outward, EASY_DIGITS)
        if spec.scale == "log" and easy <= 0:
            raise UserInputError(f"{spec.name}: a derived easy end is not positive")
        if not _beyond(spec, best):
            best = easy * 2 if spec.bound == "lower" else easy / 2
        spec = dataclasses.replace(spec, low=min(easy, best), high=max(easy, best))
        specs.append(spec)
    return TargetBox(tuple(specs))


def _round_toward(value: float, toward: float, digits: int) -> float:
    """``value`` rounded to ``digits`` significant digits in the direction of
    ``toward`` (so a hard end rounds toward its easy end)."""
    if value == 0 or not math.isfinite(value):
        return value
    exponent = math.floor(math.log10(abs(value))) - digits + 1
    step = 10.0**exponent
    rounded = (math.floor if toward < value else math.ceil)(value / step) * step
    return float(f"{rounded:.{digits + 2}g}")


def measure_ceiling(
    evaluator: SpiceEvaluator,
    box: TargetBox,
    n: int,
    seed: int,
    config: TargetedConfig | None = None,
    progress: bool = True,
) -> Ceiling:
    """The feasibility ceiling of ``box`` on ``n`` targets drawn with
    ``seed``: the archive first, then the targeted search on the rest."""
    targets = box.sample(n, seed)
    archive = evaluator.archive
    by_archive = int(archive_meets(archive.figures, targets, box).sum())
    result = targeted_search(evaluator, targets, config or TargetedConfig(), progress)
    return Ceiling(seed, targets, result.met, by_archive, result.rows, result.sims)


# -- the whole run ------------------------------------------------------------
def run_spec_search(
    simulator, box: TargetBox, config: SpecSearchConfig, progress: bool = True
) -> SpecSearchReport:
    """Search, then propose a box (``config.propose``) or keep ``box``, and
    measure its ceiling. ``simulator`` simulates the box's specs
    (``sim.sizing.simulator.Simulator``, ideally on ``circuit.restricted(box.names)``).
    """
    if not box.specs:
        raise UserInputError("the circuit declares no specs: nothing to search")
    start = time.perf_counter()
    evaluator = SpiceEvaluator(simulator, search_scales(box))
    front_config = FrontConfig(
        budget=config.budget, population=config.population, seed=config.seed
    )
    search_box = box
    spent = 0
    if config.derive_easy:
        # The front search starts from these same Sobol points: they count in
        # its budget, so a run on the pasted box repeats its steps.
        n = len(simulator.circuit.parameters)
        points = sobol_points(front_config.initial_size, n, config.seed)
        rows = evaluator.evaluate(points)
        spent = evaluator.sims
        search_box = derive_easy_ends(evaluator.archive.figures[rows], box)
        evaluator.box = search_scales(search_box)
    front = search_front(evaluator, search_box.easy, front_config, progress, spent)
    archive = evaluator.archive
    fraction = None
    if config.propose:
        chosen, _, fraction = propose_box(archive, search_box, config.target_ceiling)
    else:
        chosen = box
    estimate = estimate_ceiling(archive.figures[archive.front(chosen.easy)], chosen)
    targeted = TargetedConfig(budget=config.target_budget, seed=config.seed)
    ceiling = measure_ceiling(
        evaluator,
        chosen,
        config.ceiling_targets,
        config.ceiling_seed,
        targeted,
        progress,
    )
    return SpecSearchReport(
        declared=box,
        box=chosen,
        ceiling=ceiling,
        front=front,
        archive=archive,
        reach=reach(archive, chosen),
        estimate=estimate,
        fraction=fraction,
        sims=evaluator.sims,
        from_store=evaluator.from_store,
        seconds=time.perf_counter() - start,
        config=config,
    )


# -- reports ------------------------------------------------------------------
def yaml_number(value: float) -> str:
    """A number as YAML reads it back as a float (``1.0e+6``, not ``1e6``)."""
    if value == 0 or 1e-2 <= abs(value) < 1e5:
        return f"{value:.6g}"
    mantissa, exponent = f"{value:.5e}".split("e")
    mantissa = mantissa.rstrip("0")
    mantissa += "0" if mantissa.endswith(".") else ""
    return f"{mantissa}e{int(exponent):+d}"


def box_yaml(box: TargetBox) -> str:
    """The box as the ``specs:`` section of a circuit YAML."""
    width = max(len(s.name) for s in box.specs) + 1
    lines = ["specs:"]
    for s in box.specs:
        name = f"{s.name}:".ljust(width)
        if s.fixed:
            body = f"bound: {s.bound}, value: {yaml_number(s.low)}"
        else:
            body = (
                f"bound: {s.bound}, range: [{yaml_number(s.low)}, "
                f"{yaml_number(s.high)}]"
            )
            if s.scale == "log":
                body += ", scale: log"
        lines.append(f"  {name} {{{body}}}")
    return "\n".join(lines)
