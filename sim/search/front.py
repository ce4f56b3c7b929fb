"""Map a circuit's spec trade-offs in SPICE: a multi-objective evolutionary search.

NSGA-II (Deb et al., IEEE TEC 2002) over the unit cube ``[0, 1]^n`` of the
parameters (``Parameter.from_unit`` snaps integers and grids): a scrambled
Sobol population, then generations of binary tournaments, simulated binary
crossover and polynomial mutation, survivors chosen by constrained
non-dominated sorting and crowding distance.

The objectives are the box's free specs, each turned by its bound (larger
gain, lower power); the constraints are the box's easy ends and fixed specs
(phase margin >= 60 degrees): a design that misses them helps no target of
the box. Every design simulated lands in the evaluator's archive
(``sim.search.archive``), which is what the feasibility ceiling is measured on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.format.targets import TargetBox
from sim.search.archive import SpiceEvaluator, oriented

STALL_GENERATIONS = 20  # stop after this many generations without a new design


@dataclass(frozen=True)
class FrontConfig:
    """The evolutionary search.

    budget: SPICE simulations (new designs) to spend; population: designs
    kept per generation; initial: Sobol designs first (default 4 x
    population, at most a quarter of the budget); crossover_eta /
    mutation_eta: SBX and polynomial-mutation distribution indices (larger:
    children closer to parents); crossover_rate: chance a pair crosses;
    seed: all randomness (Sobol scrambling, variation).
    """

    budget: int = 20_000
    population: int = 200
    initial: int | None = None
    crossover_eta: float = 15.0
    mutation_eta: float = 20.0
    crossover_rate: float = 0.9
    seed: int = 0

    @property
    def initial_size(self) -> int:
        if self.initial is not None:
            return min(self.initial, self.budget)
        return min(
            self.budget,
            max(self.population, min(4 * self.population, self.budget // 4)),
        )


@dataclass(frozen=True)
class FrontResult:
    """What the search did: generations run, designs simulated, and the last
    population (archive rows ``[population]``)."""

    generations: int
    sims: int
    population: np.ndarray


# -- ranking --------------------------------------------------------------------
def nondominated_ranks(objectives: np.ndarray) -> np.ndarray:
    """Front index ``[N]`` (0 = non-dominated) of ``objectives`` ``[N, k]``,
    all minimised (fast non-dominated sorting)."""
    f = np.asarray(objectives, np.float64)
    n = len(f)
    no_worse = np.all(f[:, None, :] <= f[None, :, :], axis=2)
    better = np.any(f[:, None, :] < f[None, :, :], axis=2)
    dominates = no_worse & better  # [i, j]: i dominates j
    dominated_by = dominates.sum(axis=0)
    ranks = np.full(n, -1)
    current = np.flatnonzero(dominated_by == 0)
    rank = 0
    while current.size:
        ranks[current] = rank
        dominated_by = dominated_by - dominates[current].sum(axis=0)
        dominated_by[ranks >= 0] = -1
        current = np.flatnonzero(dominated_by == 0)
        rank += 1
    return ranks


def crowding_distance(objectives: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """Crowding distance ``[N]`` within each front (inf at a front's ends)."""
    f = np.asarray(objectives, np.float64)
    distance = np.zeros(len(f))
    for rank in np.unique(ranks):
        members = np.flatnonzero(ranks == rank)
        if len(members) <= 2:
            distance[members] = np.inf
            continue
        for column in f[members].T:
            order = np.argsort(column, kind="stable")
            ordered, values = members[order], column[order]
            span = values[-1] - values[0]
            distance[ordered[0]] = distance[ordered[-1]] = np.inf
            if span > 0:
                distance[ordered[1:-1]] += (values[2:] - values[:-2]) / span
    return distance


def constraint_violation(
    figures: np.ndarray, box: TargetBox, easy: np.ndarray
) -> np.ndarray:
    """Per design ``[N]``: how far (sum of normalised margins short) it is
    from meeting ``easy`` ``[m]`` (the box's easy ends and fixed specs); 0
    where met."""
    margin = box.margin(np.asarray(figures, np.float64), np.asarray(easy, np.float64))
    return np.sum(np.maximum(-margin, 0.0), axis=-1)


def survival_order(
    figures: np.ndarray, box: TargetBox, easy: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Constrained rank and crowding ``[N]`` of designs' spec figures.

    Designs that meet ``easy`` are ranked by non-dominated sorting on the
    free specs (oriented by their bounds); the others come after, ordered by
    their constraint violation. Survivors sort by rank, then by larger
    crowding distance.
    """
    violation = constraint_violation(figures, box, easy)
    free = ~np.asarray([s.fixed for s in box.specs])
    objectives = -oriented(figures, box)[:, free]
    feasible = (violation == 0) & np.all(np.isfinite(objectives), axis=1)
    ranks = np.zeros(len(figures), np.int64)
    crowding = np.zeros(len(figures))
    if feasible.any():
        feasible_ranks = nondominated_ranks(objectives[feasible])
        ranks[feasible] = feasible_ranks
        crowding[feasible] = crowding_distance(objectives[feasible], feasible_ranks)
        first_infeasible = int(feasible_ranks.max()) + 1
    else:
        first_infeasible = 0
    infeasible = np.flatnonzero(~feasible)
    _, dense = np.unique(violation[infeasible], return_inverse=True)
    ranks[infeasible] = first_infeasible + dense
    return ranks, crowding


def select_survivors(ranks: np.ndarray, crowding: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` best designs (rank, then larger crowding)."""
    order = np.lexsort((-crowding, ranks))
    return order[:k]


# -- variation ------------------------------------------------------------------
def tournament(ranks: np.ndarray, crowding: np.ndarray, k: int, rng) -> np.ndarray:
    """``k`` parent indices by binary tournaments (rank, then crowding)."""
    a = rng.integers(0, len(ranks), k)
    b = rng.integers(0, len(ranks), k)
    a_wins = (ranks[a] < ranks[b]) | (
        (ranks[a] == ranks[b]) & (crowding[a] >= crowding[b])
    )
    return np.where(a_wins, a, b)


def sbx_crossover(
    x1: np.ndarray, x2: np.ndarray, eta: float, rate: float, rng
) -> tuple[np.ndarray, np.ndarray]:
    """Simulated binary crossover of parent pairs ``[k, n]`` in [0, 1]."""
    u = rng.random(x1.shape)
    beta = np.where(
        u <= 0.5, (2 * u) ** (1 / (eta + 1)), (1 / (2 * (1 - u))) ** (1 / (eta + 1))
    )
    swap = rng.random(x1.shape) < 0.5  # each gene crosses with probability 1/2
    cross = (rng.random((len(x1), 1)) < rate) & swap
    c1 = 0.5 * ((1 + beta) * x1 + (1 - beta) * x2)
    c2 = 0.5 * ((1 - beta) * x1 + (1 + beta) * x2)
    c1, c2 = np.where(cross, c1, x1), np.where(cross, c2, x2)
    return np.clip(c1, 0.0, 1.0), np.clip(c2, 0.0, 1.0)


def polynomial_mutation(x: np.ndarray, eta: float, rng) -> np.ndarray:
    """Polynomial mutation of ``x`` ``[k, n]`` in [0, 1], each gene with
    probability 1/n."""
    n = x.shape[1]
    u = rng.random(x.shape)
    low_side = (2 * u + (1 - 2 * u) * (1 - x) ** (eta + 1)) ** (1 / (eta + 1)) - 1
    high_side = 1 - (2 * (1 - u) + 2 * (u - 0.5) * x ** (eta + 1)) ** (1 / (eta + 1))
    delta = np.where(u < 0.5, low_side, high_side)
    mutate = rng.random(x.shape) < 1.0 / n
    return np.clip(np.where(mutate, x + delta, x), 0.0, 1.0)


def offspring(
    units: np.ndarray, ranks, crowding, config: FrontConfig, rng
) -> np.ndarray:
    """``len(units)`` children ``[P, n]`` of a population ``[P, n]``."""
    k = (len(units) + 1) // 2
    p1 = units[tournament(ranks, crowding, k, rng)]
    p2 = units[tournament(ranks, crowding, k, rng)]
    c1, c2 = sbx_crossover(p1, p2, config.crossover_eta, config.crossover_rate, rng)
    children = np.concatenate([c1, c2])[: len(units)]
    return polynomial_mutation(children, config.mutation_eta, rng)


def sobol_points(n: int, dimension: int, seed: int) -> np.ndarray:
    """``n`` scrambled Sobol points ``[n, dimension]`` in [0, 1)."""
    from scipy.stats import qmc

    power = max(0, int(np.ceil(np.log2(max(n, 1)))))
    return qmc.Sobol(dimension, scramble=True, seed=seed).random_base2(power)[:n]


# -- the search -----------------------------------------------------------------
def search_front(
    evaluator: SpiceEvaluator,
    easy: np.ndarray,
    config: FrontConfig = FrontConfig(),
    progress: bool = True,
    spent: int = 0,
) -> FrontResult:
    """Run NSGA-II until ``config.budget`` new designs were simulated.

    ``easy`` ``[m]`` are the constraints (the box's easy ends; fixed specs
    their value). Every design goes to ``evaluator.archive``. ``spent``:
    simulations the caller already made toward the budget (its own
    evaluation of the initial Sobol points), so the search takes the same
    steps as one that simulates them itself.
    """
    box = evaluator.box
    rng = np.random.default_rng(config.seed)
    start = evaluator.sims - spent
    n = len(evaluator.archive.parameters)
    bar = _bar(config.budget, progress, "front search")
    update = bar.update if bar is not None else None
    if bar is not None and spent:
        bar.update(spent)
    units = sobol_points(config.initial_size, n, config.seed)
    rows = evaluator.evaluate(units, update)
    figures = evaluator.archive.figures
    ranks, crowding = survival_order(figures[rows], box, easy)
    keep = select_survivors(ranks, crowding, config.population)
    units, rows = units[keep], rows[keep]
    ranks, crowding = ranks[keep], crowding[keep]
    generations, stalled = 0, 0
    while evaluator.sims - start < config.budget and stalled < STALL_GENERATIONS:
        remaining = config.budget - (evaluator.sims - start)
        children = offspring(units, ranks, crowding, config, rng)[:remaining]
        before = evaluator.sims
        child_rows = evaluator.evaluate(children, update)
        stalled = stalled + 1 if evaluator.sims == before else 0
        units = np.concatenate([units, children])
        rows = np.concatenate([rows, child_rows])
        _, unique = np.unique(rows, return_index=True)  # one copy of a design
        units, rows = units[unique], rows[unique]
        figures = evaluator.archive.figures
        ranks, crowding = survival_order(figures[rows], box, easy)
        keep = select_survivors(ranks, crowding, config.population)
        units, rows = units[keep], rows[keep]
        ranks, crowding = ranks[keep], crowding[keep]
        generations += 1
        if bar is not None:
            bar.set_postfix(generation=generations, front=int(np.sum(ranks == 0)))
    if bar is not None:
        bar.close()
    return FrontResult(generations, evaluator.sims - start, rows)


def _bar(total: int, enabled: bool, description: str):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="sim", desc=description, dynamic_ncols=True)


def evolve_on_model(
    figures_of,
    dimension: int,
    box: TargetBox,
    easy: np.ndarray,
    generations: int,
    config: FrontConfig = FrontConfig(),
    start: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """NSGA-II on a model instead of SPICE: no simulation at all.

    ``figures_of(units [N, dimension]) -> figures [N, m]`` predicts spec
    figures of designs in the unit cube (a surrogate); the population
    (``config.population``) starts from ``config.initial_size`` Sobol
    points plus ``start`` (known good designs, ``[K, dimension]``) and runs
    ``generations`` generations with the same ranking and variation as
    ``search_front``. Returns the last population's units ``[P, dimension]``,
    their constrained ranks ``[P]`` and crowding distances ``[P]``.
    """
    rng = np.random.default_rng(config.seed)
    units = sobol_points(config.initial_size, dimension, config.seed)
    if start is not None and len(start):
        units = np.concatenate([units, np.asarray(start, np.float64)])
    figures = np.asarray(figures_of(units), np.float64)
    ranks, crowding = survival_order(figures, box, easy)
    keep = select_survivors(ranks, crowding, config.population)
    units, figures = units[keep], figures[keep]
    ranks, crowding = ranks[keep], crowding[keep]
    for _ in range(generations):
        children = offspring(units, ranks, crowding, config, rng)
        units = np.concatenate([units, children])
        figures = np.concatenate([figures, np.asarray(figures_of(children))])
        ranks, crowding = survival_order(figures, box, easy)
        keep = select_survivors(ranks, crowding, config.population)
        units, figures = units[keep], figures[keep]
        ranks, crowding = ranks[keep], crowding[keep]
    return units, ranks, crowding
