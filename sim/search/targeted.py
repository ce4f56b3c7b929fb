"""Search SPICE for a design that meets one target the archive does not meet yet.

Per target, CMA-ES (Hansen's ``cma`` package) over the unit cube of the
parameters maximises the target's worst normalised margin (``TargetBox.margin``,
with a small pull on every spec still short), starting from the archive
designs closest to meeting it and restarting from the next one when a run
stalls. It stops at the first verified design that meets the target, or when
the target's simulation budget is spent.

Several targets run in lockstep so each simulator call carries a batch for
all workers; every design simulated joins the archive, and a design found for
one target is checked against all the others.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.format.targets import TargetBox
from sim.search.archive import SpiceEvaluator, archive_meets

SHORTFALL_WEIGHT = 0.25  # pull on every spec still short, beside the worst one
PROPOSALS_PER_SIM = 4  # stop a target after this many CMA points per sim spent


@dataclass(frozen=True)
class TargetedConfig:
    """The per-target search.

    budget: SPICE simulations per target at most; starts: archive designs
    (closest first) that CMA-ES runs start from, in turn; sigma: initial
    step in the unit cube; stall: generations without improvement before a
    restart; concurrent: targets searched in lockstep; seed: randomness.
    """

    budget: int = 200
    starts: int = 4
    sigma: float = 0.1
    stall: int = 8
    concurrent: int = 8
    seed: int = 0


@dataclass(frozen=True)
class TargetedResult:
    """Per target ``[T]``: met, the archive row of the meeting (or else the
    closest) design, and the simulations spent on it."""

    met: np.ndarray
    rows: np.ndarray
    sims: np.ndarray


def target_score(figures: np.ndarray, target: np.ndarray, box: TargetBox) -> np.ndarray:
    """Score ``[N]`` of designs' figures ``[N, m]`` for one ``target`` ``[m]``:
    the worst margin plus a pull on every spec still short; >= 0 exactly
    where the target is met."""
    margin = box.margin(np.asarray(figures, np.float64), target)
    return margin.min(axis=-1) + SHORTFALL_WEIGHT * np.minimum(margin, 0.0).sum(axis=-1)


def closest_rows(evaluator: SpiceEvaluator, target: np.ndarray, k: int) -> np.ndarray:
    """Archive rows ``[<= k]`` of the ``k`` designs closest to meeting
    ``target`` (highest ``target_score``), best first."""
    archive = evaluator.archive
    rows = np.flatnonzero(archive.ok)
    if rows.size == 0:
        return rows
    scores = target_score(archive.figures[rows], target, evaluator.box)
    order = np.argsort(-scores, kind="stable")[:k]
    return rows[order]


@dataclass
class _Run:
    """The search state of one target."""

    index: int
    target: np.ndarray
    starts: list[int]
    seed: int
    spent: int = 0
    proposals: int = 0
    restarts: int = 0
    best_row: int = -1
    best_score: float = -np.inf
    stalled: int = 0
    es: object = None
    met: bool = False


def _minimum_steps(parameters) -> np.ndarray:
    """Per parameter ``[n]``: the smallest useful CMA step in the unit cube
    (a fraction of one grid or integer step, so runs do not collapse on a
    plateau of snapped designs)."""
    steps = []
    for p in parameters:
        if p.kind == "grid":
            steps.append(0.3 / len(p.grid))
        elif p.kind == "integer":
            steps.append(0.3 / max(1.0, p.high - p.low + 1))
        else:
            steps.append(0.0)
    return np.asarray(steps)


def _start(
    run: _Run, evaluator: SpiceEvaluator, config: TargetedConfig, minstd
) -> None:
    """(Re)start the CMA-ES run of ``run`` from its next start design."""
    import cma

    # Start designs in turn, then the best design this target has seen.
    row = run.starts.pop(0) if run.starts else run.best_row
    x0 = evaluator.archive.units[row]
    options = {
        "bounds": [0.0, 1.0],
        "seed": run.seed * 1009 + run.restarts + 1,  # 0 would mean "random"
        "verbose": -9,
        "minstd": list(minstd),
    }
    sigma = config.sigma * (1 + run.restarts // max(1, config.starts))
    run.es = cma.CMAEvolutionStrategy(list(np.clip(x0, 1e-6, 1 - 1e-6)), sigma, options)
    run.restarts += 1
    run.stalled = 0


def targeted_search(
    evaluator: SpiceEvaluator,
    targets: np.ndarray,
    config: TargetedConfig = TargetedConfig(),
    progress: bool = True,
) -> TargetedResult:
    """Search for a design meeting each target of ``targets`` ``[T, m]``.

    Targets some archive design already meets cost nothing. Returns per
    target whether it was met, the row (meeting or closest design) and the
    simulations spent.
    """
    box = evaluator.box
    archive = evaluator.archive
    targets = np.asarray(targets, np.float64).reshape(-1, len(box.specs))
    n_targets = len(targets)
    met = np.zeros(n_targets, bool)
    rows = np.full(n_targets, -1)
    sims = np.zeros(n_targets, np.int64)
    minstd = _minimum_steps(archive.parameters)
    known = np.flatnonzero(archive.ok)
    met[:] = archive_meets(archive.figures[known], targets, box)
    pending = [i for i in range(n_targets) if not met[i]]
    for i in np.flatnonzero(met):
        rows[i] = _meeting_row(archive, known, targets[i], box)
    checked_until = len(archive)  # rows after this are new to the search
    active: list[_Run] = []
    # Targets the archive meets start the bar: its rate and time left count
    # the searched targets only. Its sims are this search's.
    bar = _bar(n_targets, int(met.sum()), progress)
    first_sim = evaluator.sims
    if bar is not None:
        bar.set_postfix(met=int(met.sum()), sims=0)
    while pending or active:
        while pending and len(active) < config.concurrent:
            i = pending.pop(0)
            new = np.arange(checked_until, len(archive))
            found = archive_meets(archive.figures[new], targets[i : i + 1], box)[0]
            if found:
                met[i] = True
                rows[i] = _meeting_row(archive, new, targets[i], box)
                _tick(bar, met, evaluator.sims - first_sim)
                continue
            starts = closest_rows(evaluator, targets[i], config.starts)
            if starts.size == 0:
                _tick(bar, met, evaluator.sims - first_sim)
                continue
            run = _Run(i, targets[i], list(starts), config.seed + i)
            run.best_row = int(starts[0])
            run.best_score = float(
                target_score(archive.figures[starts[:1]], targets[i], box)[0]
            )
            _start(run, evaluator, config, minstd)
            active.append(run)
        if not active:
            break
        asked = [np.asarray(run.es.ask()) for run in active]
        before = len(archive)
        new_rows = evaluator.evaluate(np.concatenate(asked))
        new_count = len(archive) - before
        offset = 0
        finished = []
        for run, points in zip(active, asked, strict=True):
            run_rows = new_rows[offset : offset + len(points)]
            offset += len(points)
            _advance(run, run_rows, points, evaluator, config, minstd)
        # Designs new this round meet other targets too: check every active one.
        fresh = np.arange(before, before + new_count)
        waiting = [run for run in active if not run.met]
        if fresh.size and waiting:
            wanted = np.stack([run.target for run in waiting])
            found = archive_meets(archive.figures[fresh], wanted, box)
            for run in (r for r, f in zip(waiting, found, strict=True) if f):
                run.met = True
                run.best_row = _meeting_row(archive, fresh, run.target, box)
        spent_now = _share_sims(active, asked, new_rows, before)
        for run, spent in zip(active, spent_now, strict=True):
            run.spent += spent
            out_of_budget = run.spent >= config.budget
            out_of_proposals = run.proposals >= PROPOSALS_PER_SIM * config.budget
            if run.met or out_of_budget or out_of_proposals:
                finished.append(run)
        for run in finished:
            active.remove(run)
            met[run.index] = run.met
            rows[run.index] = run.best_row
            sims[run.index] = run.spent
            _tick(bar, met, evaluator.sims - first_sim)
    if bar is not None:
        bar.close()
    return TargetedResult(met, rows, sims)


def _advance(run: _Run, run_rows, points, evaluator, config, minstd) -> None:
    """Tell CMA-ES the scores of its points; note a success or a stall."""
    archive = evaluator.archive
    scores = target_score(archive.figures[run_rows], run.target, evaluator.box)
    run.proposals += len(points)
    run.es.tell(list(points), list(-scores))
    best = int(np.argmax(scores))
    if scores[best] > run.best_score:
        run.best_score, run.best_row = float(scores[best]), int(run_rows[best])
        run.stalled = 0
    else:
        run.stalled += 1
    if run.best_score >= 0:
        run.met = True
        return
    if run.es.stop() or run.stalled >= config.stall:
        _start(run, evaluator, config, minstd)


def _share_sims(active, asked, new_rows, before) -> list[int]:
    """Simulations each run caused this round: new archive rows it asked for
    first (a design two runs asked for counts once, for the first)."""
    seen: set[int] = set()
    out, offset = [], 0
    for points in asked:
        run_rows = new_rows[offset : offset + len(points)]
        offset += len(points)
        mine = {int(r) for r in run_rows if r >= before and int(r) not in seen}
        seen |= mine
        out.append(len(mine))
    return out


def _meeting_row(archive, candidates: np.ndarray, target, box: TargetBox) -> int:
    """A row of ``candidates`` whose design meets ``target`` (the one with
    the largest worst margin)."""
    candidates = np.asarray(candidates)
    figures = archive.figures[candidates]
    ok = box.met(figures, target)
    score = np.where(ok, box.margin(figures, target).min(axis=-1), -np.inf)
    return int(candidates[int(np.argmax(score))])


def _tick(bar, met, sims: int) -> None:
    if bar is not None:
        bar.update(1)
        bar.set_postfix(met=int(met.sum()), sims=sims)


def _bar(total: int, initial: int, enabled: bool):
    """A progress bar over ``total`` targets, ``initial`` of them met already."""
    if not enabled or total == 0:
        return None
    from tqdm import tqdm

    return tqdm(
        total=total,
        initial=initial,
        unit="target",
        desc="targeted search",
        dynamic_ncols=True,
    )
