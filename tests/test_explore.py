"""The box trainer's stop rule against the box's ceiling, and the stall
strategies of ``train.explore`` (NSGA-II on a model, trust regions, spec
extremes), at small size."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sim.format.targets import SpecRange, TargetBox
from sim.search.front import evolve_on_model
from train.ceiling import box_ceiling
from train.config import TrainConfig
from train.explore import Explorer, StrategyLog, new_designs
from train.progress import HeldOutProgress
from train.sizer import harder

BOX = TargetBox(
    (
        SpecRange("gain", "lower", 40.0, 50.0),
        SpecRange("ugbw", "lower", 1e6, 1e8, "log"),
        SpecRange("pm", "lower", 60.0, 60.0),
        SpecRange("power", "upper", 1e-4, 1e-2, "log"),
    )
)


def test_harder_moves_each_spec_toward_its_hard_end_by_box_widths():
    target = np.asarray([45.0, 1e7, 60.0, 1e-3])
    moved = harder(BOX, target, np.asarray([0.1, 0.5, 0.0, 0.5]))
    assert moved[0] == pytest.approx(46.0)  # 0.1 of a 10 dB width, up
    assert moved[1] == pytest.approx(1e8)  # half of two decades, up
    assert moved[2] == 60.0
    assert moved[3] == pytest.approx(1e-4)  # an upper bound goes down
    margins = BOX.margin(moved, target)
    np.testing.assert_allclose(margins, [0.1, 0.5, 0.0, 0.5], atol=1e-12)
    partial = harder(BOX, np.asarray([np.nan, 1e7, 60.0, np.nan]), np.ones(4))
    assert np.isnan(partial[0]) and np.isnan(partial[3])


def _stub_loop(ceiling, curve, stale, best, goal=0.97, patience=4) -> HeldOutProgress:
    """A BoxLoop's stop state alone (no session, no simulator)."""
    config = TrainConfig(goal=goal, held_out_patience=patience)
    curve = [{"held_out_success": s} for s in curve]
    return HeldOutProgress(
        config.goal, config.held_out_patience, ceiling, curve, best, stale
    )


def test_a_stall_below_the_ceiling_never_stops_the_run():
    # stalled for 10 checks at 0.81 with a 0.995 ceiling: keep going
    assert not _stub_loop(0.995, [0.81] * 11, 10, 0.81).finished()
    # unknown ceiling: a stall never stops either
    assert not _stub_loop(None, [0.81] * 11, 10, 0.81).finished()
    # the goal alone does not stop a run 2 points below a known ceiling
    assert not _stub_loop(0.995, [0.975], 0, 0.975).finished()
    # within a point of the ceiling: the goal, or patience, stops it
    assert _stub_loop(0.995, [0.99], 0, 0.99).finished()
    assert _stub_loop(0.90, [0.895] * 5, 4, 0.895).finished()
    assert not _stub_loop(0.90, [0.895] * 4, 3, 0.895).finished()
    # without a ceiling the goal stops as before
    assert _stub_loop(None, [0.97], 0, 0.97).finished()


def test_the_ceiling_comes_from_the_flag_then_the_circuit_file(tmp_path):
    circuit = tmp_path / "circuit.yaml"
    circuit.write_text("name: x\n")
    problem = {"circuit": str(circuit), "tech": "generic"}
    assert box_ceiling(TrainConfig(problem=problem)) is None
    (tmp_path / "ceiling.json").write_text(json.dumps({"ceiling": 0.995}))
    assert box_ceiling(TrainConfig(problem=problem)) == 0.995
    assert box_ceiling(TrainConfig(problem=problem, ceiling=0.9)) == 0.9
    (tmp_path / "ceiling.json").write_text("{torn")
    assert box_ceiling(TrainConfig(problem=problem)) is None


def test_nsga_on_a_model_finds_its_front():
    """Two objectives with a known front (x0 + x1 <= 1 reachable, both
    maximised): the survivors end near it, ranked 0."""
    box = TargetBox((SpecRange("a", "lower", 0, 1), SpecRange("b", "lower", 0, 1)))

    def figures_of(units):
        a, b = units[:, 0], units[:, 1] * (1 - units[:, 0])
        return np.stack([a, b], axis=1)

    units, ranks, _ = evolve_on_model(figures_of, 3, box, box.easy, 30)
    front = figures_of(units[ranks == 0])
    assert len(front) >= 20
    assert np.median(front.sum(axis=1)) > 0.95  # on a + b = 1


def test_strategy_choice_tries_each_then_follows_the_yield():
    explorer = object.__new__(Explorer)
    explorer.length = 0.2
    explorer.logs = {
        n: StrategyLog() for n in ("frontier", "trust", "extremes", "front")
    }
    seen = []
    for _ in range(3):
        name = explorer.choose()
        seen.append(name)
        explorer.record(name, 100, {"trust": 0, "extremes": 9, "front": 2}[name])
    assert sorted(seen) == ["extremes", "front", "trust"]
    assert explorer.choose() == "extremes"
    assert explorer.length == pytest.approx(0.1)  # trust found nothing: halved
    assert explorer.summary()["extremes"] == {"uses": 1, "sims": 100, "new_met": 9}


def test_new_designs_drops_known_and_repeated_rows():
    known = np.asarray([[1.0, 2e-12]])
    rows = np.asarray([[1.0, 2e-12], [3.0, 1e-12], [3.0, 1e-12], [4.0, 1e-12]])
    np.testing.assert_array_equal(new_designs(rows, known), rows[[1, 3]])


def test_extreme_targets_step_past_the_verified_front_along_one_spec():
    from train.explore import extreme_targets

    rng = np.random.default_rng(0)
    figures = np.stack(
        [
            rng.uniform(40, 50, 300),
            10 ** rng.uniform(6, 8, 300),
            rng.uniform(50, 80, 300),
            10 ** rng.uniform(-4, -2, 300),
        ],
        axis=1,
    )
    targets = extreme_targets(BOX, figures, 30, np.random.default_rng(1))
    free = [0, 1, 3]
    for row, target in enumerate(targets):
        k = free[row % 3]
        others = target.copy()
        others[k] = np.nan
        meeting = BOX.met(figures, others)
        assert target[2] == 60.0  # a fixed spec stays at its value
        # no verified design meeting the other specs reaches the pushed one
        assert not BOX.met(figures[meeting], target).any()
        if meeting.any():
            best = BOX.margin(figures[meeting], target)[:, k].max()
            assert -0.2 - 1e-9 <= best <= -0.05 + 1e-9  # one STEP short


def test_a_miss_with_slack_aims_its_failing_specs_past_target():
    """Item 4: current allowed at 1 mA, design at 0.2 mA but 1 dB short of
    gain: the next search aims the gain past the target by that shortfall
    and leaves the current at its bound (all of its slack may be spent)."""
    from types import SimpleNamespace

    from train.sizer import Sizer, SizerConfig, SizingResult

    sizer = object.__new__(Sizer)
    sizer.problem = SimpleNamespace(box=BOX)
    sizer.config = SizerConfig()
    target = np.asarray([45.0, 1e7, 60.0, 1e-3])
    figures = np.asarray([44.0, 2e7, 70.0, 2e-4])
    margins = BOX.margin(figures, target)
    miss = SizingResult(target, False, 1, {}, {}, margins, "search", figures)
    assert sizer._has_slack(miss)
    aim = sizer._traded(target, miss)
    assert aim[0] == pytest.approx(46.0)  # 1 dB short: aimed 1 dB past
    np.testing.assert_array_equal(aim[1:], target[1:])  # met specs at target
    tight = BOX.margin(np.asarray([44.0, 1.05e7, 60.3, 9.9e-4]), target)
    no_slack = SizingResult(target, False, 1, {}, {}, tight, "search", figures)
    assert not sizer._has_slack(no_slack)  # nothing to trade
    met = SizingResult(target, True, 1, {}, {}, np.abs(margins), "search", figures)
    assert not sizer._has_slack(met)
