"""``python -m sim specs``: the front search, archive_meets, the targeted search,
the proposed box and its feasibility ceiling (real ngspice, generic node)."""

from __future__ import annotations

import dataclasses
import json
import shutil

import numpy as np
import pytest
import yaml

from sim.format.circuit import BUILTIN_DIR, load_circuit
from sim.format.targets import TargetBox
from sim.format.technology import load_technology
from sim.search.archive import SpiceEvaluator, archive_meets, oriented, pareto_mask
from sim.search.front import (
    crowding_distance,
    nondominated_ranks,
    sobol_points,
    survival_order,
)
from sim.search.specs import (
    SpecSearchConfig,
    _round_toward,
    box_yaml,
    run_spec_search,
    search_scales,
)
from sim.search.targeted import TargetedConfig, targeted_search
from sim.sizing.simulator import Simulator
from tests.test_cli import assert_refused, run_cli

UNITS = {"a_0": "dB", "ugbw": "Hz", "pm": "deg", "i_supply": "A"}
BOX = TargetBox.from_json(
    {
        "a_0": {"bound": "lower", "range": [46, 54]},
        "ugbw": {"bound": "lower", "range": [1.0e6, 3.0e7], "scale": "log"},
        "pm": {"bound": "lower", "value": 60},
        "i_supply": {"bound": "upper", "range": [4.0e-5, 2.0e-4], "scale": "log"},
    },
    UNITS,
)


# -- ranking ----------------------------------------------------------------------
def test_nondominated_sorting_of_a_hand_made_example():
    # minimised: three on the first front, then a chain dominated one by one
    points = np.array([[1, 5], [2, 2], [5, 1], [3, 3], [4, 4], [6, 6], [2, 2.5]])
    ranks = nondominated_ranks(points)
    assert ranks.tolist() == [0, 0, 0, 2, 3, 4, 1]
    crowding = crowding_distance(points, ranks)
    assert np.isinf(crowding[[0, 2]]).all()  # a front's ends
    assert np.isfinite(crowding[1]) and crowding[1] > 0
    # pareto_mask (larger is better) keeps exactly the first front
    assert pareto_mask(-points).tolist() == (ranks == 0).tolist()


def test_pareto_mask_keeps_one_of_identical_rows():
    rows = np.array([[1.0, 1.0], [1.0, 1.0], [0.0, 2.0], [0.0, 0.0]])
    assert pareto_mask(rows).sum() == 2
    assert pareto_mask(rows)[2] and not pareto_mask(rows)[3]


def test_survivors_meet_the_easy_ends_first():
    figures = np.array(
        [
            [50.0, 2e6, 70.0, 1e-4],  # meets every easy end
            [53.0, 1e7, 50.0, 5e-5],  # better figures but pm < 60
            [45.0, 2e6, 70.0, 1e-4],  # gain below the easy end
            [np.nan, np.nan, np.nan, np.nan],  # failed
        ]
    )
    ranks, _ = survival_order(figures, BOX, BOX.easy)
    assert ranks[0] == 0
    assert ranks[0] < ranks[2] < ranks[1] < ranks[3]  # by violation


def test_oriented_puts_larger_is_better_and_missing_last():
    value = oriented(np.array([[50.0, 1e6, 60.0, 1e-4], [np.nan] * 4]), BOX)
    assert value[0, 3] == pytest.approx(-np.log(1e-4))
    assert np.all(value[1] == -np.inf)


# -- archive_meets ----------------------------------------------------------------
def test_archive_meets_equals_a_brute_force_loop():
    rng = np.random.default_rng(3)
    figures = BOX.sample(300, 11)
    figures[rng.random(figures.shape) < 0.05] = np.nan
    targets = BOX.sample(200, 12)
    targets[rng.random(targets.shape) < 0.1] = np.nan  # no requirement
    lower = BOX.lower
    expected = []
    for t in targets:
        hit = False
        for f in figures:
            ok = True
            for k in range(len(t)):
                if np.isnan(t[k]):
                    continue
                if np.isnan(f[k]) or (f[k] < t[k] if lower[k] else f[k] > t[k]):
                    ok = False
            hit = hit or ok
        expected.append(hit)
    got = archive_meets(figures, targets, BOX)
    assert got.tolist() == expected
    assert 0 < got.sum() < len(targets)  # both answers occur
    # the non-dominated designs answer the same
    front = pareto_mask(oriented(figures, BOX))
    assert archive_meets(figures[front], targets, BOX).tolist() == expected


# -- the targeted search ------------------------------------------------------------
@pytest.fixture
def twostage_generic(pool, store):
    tech = load_technology("generic")
    circuit = load_circuit("twostage", tech).restricted(BOX.names)
    return Simulator(circuit, tech, store=store, backend=pool)


def test_targeted_search_meets_a_target_the_archive_misses(twostage_generic):
    evaluator = SpiceEvaluator(twostage_generic, BOX)
    evaluator.evaluate(sobol_points(64, 7, 0))
    target = np.array([[52.5, 4.0e6, 60.0, 8.0e-5]])
    assert not archive_meets(evaluator.archive.figures, target, BOX)[0]
    before = evaluator.sims
    result = targeted_search(
        evaluator, target, TargetedConfig(budget=150, seed=0), progress=False
    )
    assert result.met.tolist() == [True]
    assert 0 < result.sims[0] <= 150
    assert evaluator.sims - before == result.sims[0]  # every sim counted
    figures = evaluator.archive.figures[result.rows[0]]
    assert BOX.met(figures, target[0])  # a verified design meets it
    # a second search for the same target costs nothing
    again = targeted_search(evaluator, target, TargetedConfig(budget=150), False)
    assert again.met[0] and again.sims[0] == 0


def test_measuring_a_pasted_proposal_is_served_by_the_store(twostage_generic):
    """The worked example's repeat: ``--propose``, paste the box, measure it
    again. The searches score margins on scales of the easy ends alone
    (``search_scales``), so the second run repeats the first's designs."""
    small = {"budget": 300, "population": 24, "ceiling_targets": 40}
    config = SpecSearchConfig(**small, target_budget=20, propose=True)
    proposed = run_spec_search(twostage_generic, BOX, config, progress=False)
    assert proposed.box != BOX  # other hard ends: other search scales before
    pasted = TargetBox.from_json(yaml.safe_load(box_yaml(proposed.box))["specs"], UNITS)
    config = SpecSearchConfig(**small, target_budget=20)
    again = run_spec_search(twostage_generic, pasted, config, progress=False)
    assert again.sims == proposed.sims
    assert again.from_store == again.sims  # not one design simulated again
    assert again.ceiling.met.tolist() == proposed.ceiling.met.tolist()


def test_search_scales_depend_on_the_easy_ends_only():
    def harder(spec):
        if spec.fixed:
            return spec
        if spec.bound == "lower":
            return dataclasses.replace(spec, high=spec.high * 1.1)
        return dataclasses.replace(spec, low=spec.low * 0.9)

    harder = TargetBox(tuple(harder(s) for s in BOX.specs))
    assert np.allclose(harder.easy, BOX.easy)
    assert not np.allclose(harder.unit_width, BOX.unit_width)
    assert np.allclose(search_scales(harder).unit_width, search_scales(BOX).unit_width)
    assert np.allclose(search_scales(BOX).easy, BOX.easy)


# -- boxes as YAML --------------------------------------------------------------------
def test_box_yaml_reads_back_as_the_same_box():
    text = box_yaml(BOX)
    assert TargetBox.from_json(yaml.safe_load(text)["specs"], UNITS) == BOX


def test_rounding_toward_the_easy_end():
    assert _round_toward(53.456, 46.0, 3) == 53.4  # lower bound: down
    assert _round_toward(4.567e-5, 2e-4, 3) == 4.57e-5  # upper bound: up
    assert _round_toward(2.345e7, 1e6, 3) == 2.34e7


def test_a_technology_may_fix_a_spec_the_circuit_draws(tmp_path):
    for name in ("op2", "_opamp"):
        shutil.copytree(BUILTIN_DIR / name, tmp_path / name)
    path = tmp_path / "op2" / "circuit.yaml"
    text = path.read_text()
    data = yaml.safe_load(text)
    data["specs"]["pm"] = {"bound": "lower", "range": [45, 80]}
    data["technologies"]["generic"]["specs"] = {
        "pm": {"bound": "lower", "value": 60},
        "a_0": {"range": [20, 40]},
    }
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    generic = load_circuit(path, load_technology("generic")).box
    assert generic.spec("pm").fixed and generic.spec("pm").low == 60
    assert (generic.spec("a_0").low, generic.spec("a_0").high) == (20, 40)
    sky130 = load_circuit(path, load_technology("sky130")).box
    assert (sky130.spec("pm").low, sky130.spec("pm").high) == (45, 80)


# -- the command line -----------------------------------------------------------------
SMALL = (
    "--tech",
    "generic",
    "--budget",
    "300",
    "--population",
    "24",
    "--ceiling-targets",
    "40",
    "--target-budget",
    "20",
)


def _box_circuit(tmp_path) -> str:
    """twostage with the test's box (independent of the shipped one)."""
    shutil.copytree(BUILTIN_DIR / "twostage", tmp_path / "twostage")
    shutil.copytree(BUILTIN_DIR / "_opamp", tmp_path / "_opamp")
    path = tmp_path / "twostage" / "circuit.yaml"
    data = yaml.safe_load(path.read_text())
    data["specs"] = BOX.to_json()
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return str(path)


@pytest.mark.slow
def test_cli_measures_the_ceiling_and_writes_json(tmp_path):
    out = tmp_path / "specs.json"
    result = run_cli(
        "specs",
        "--circuit",
        _box_circuit(tmp_path),
        *SMALL,
        "--json",
        str(out),
        store=tmp_path / "store.sqlite",
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(out.read_text())
    for key in ("circuit", "technology", "corner", "date", "machine", "versions"):
        assert data[key], key
    assert data["budget"] == 300 and data["sims"]["front"] == 300
    assert data["sims"]["total"] == 300 + data["sims"]["targeted"]
    assert data["box"] == BOX.to_json()
    met = data["targets"]["met"]
    assert len(met) == len(data["targets"]["values"]) == 40
    assert data["ceiling"] == pytest.approx(np.mean(met))
    assert data["targets"]["values"] == BOX.sample(40, data["ceiling_seed"]).tolist()
    assert sum(data["targets"]["sims"]) == data["sims"]["targeted"]
    assert data["front"] and set(data["front"][0]) == {"params", "figures"}
    assert "feasibility ceiling" in result.stdout and "seed 1" in result.stdout
    assert "specs:" in result.stdout  # the YAML to paste


@pytest.mark.slow
def test_cli_proposes_individually_reachable_hard_ends(tmp_path):
    out = tmp_path / "specs.json"
    result = run_cli(
        "specs",
        "--circuit",
        _box_circuit(tmp_path),
        *SMALL,
        "--propose",
        "--target-ceiling",
        "0.9",
        "--json",
        str(out),
        store=tmp_path / "store.sqlite",
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(out.read_text())
    box = TargetBox.from_json(data["box"], UNITS)
    assert box.spec("pm").fixed and box.spec("pm").low == 60
    assert np.allclose(box.easy, BOX.easy)  # declared easy ends kept
    figures = np.array(
        [[d["figures"][n] or np.nan for n in box.names] for d in data["front"]]
    )
    for k, spec in enumerate(box.specs):
        target = box.easy.copy()
        target[k] = spec.hard
        assert archive_meets(figures, target[None], box)[0], spec.name
    assert data["estimated_ceiling"] >= 0.9 - 0.05  # rounding moves it a little
    assert data["ceiling"] == pytest.approx(np.mean(data["targets"]["met"]))


@pytest.mark.parametrize(
    "args, words",
    [
        (("--target-ceiling", "1.5"), ("ceiling",)),
        (("--budget", "0"), ("--budget",)),
        (("--ceiling-targets", "x"), ("--ceiling-targets",)),
        (("--derive-easy",), ("--propose",)),
        (("--json", "/no/such/dir/out.json"), ("does not exist",)),
        (("--circuit", "nosuch"), ("unknown circuit",)),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(args, words, tmp_path):
    argv = ["specs", "--circuit", "twostage", "--tech", "generic", *args]
    result = run_cli(*argv, store=tmp_path / "store.sqlite")
    assert_refused(result, *words)


def test_cli_refuses_a_circuit_without_specs(tmp_path):
    shutil.copytree(BUILTIN_DIR / "twostage", tmp_path / "twostage")
    shutil.copytree(BUILTIN_DIR / "_opamp", tmp_path / "_opamp")
    path = tmp_path / "twostage" / "circuit.yaml"
    text = path.read_text()
    path.write_text(text[: text.index("specs:")])
    result = run_cli(
        "specs", "--circuit", str(path), *SMALL, store=tmp_path / "store.sqlite"
    )
    assert_refused(result, "no specs")
