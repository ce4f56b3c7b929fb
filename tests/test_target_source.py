"""``envs.targets``, the one source of targets: the same draws as the code
paths it replaced (``TargetBox.sample`` by seed, ``envs.specs`` and the
PPO-on-SPICE baseline by key, the trainer's and ``envs.specs``' splits), and
target files with explicit ``train``/``held_out`` lists."""

from __future__ import annotations

import json

import jax
import numpy as np
import pytest

from envs.targets import (
    draw_by_key,
    draw_by_seed,
    draw_targets,
    load_target_sets,
    save_target_sets,
    split_indices,
)
from sim.format.circuit import load_circuit
from sim.format.technology import load_technology
from sim.sizing.problem import problem_for

# op2/generic's first two targets before envs.targets existed (measured at
# commit 1ea7cc9: box.sample(2, 0) and envs.specs.sample_targets(p, 2, 0))
OLD_BY_SEED_0 = [
    [37.006578560536, 2555788.868606421, 60.0, 0.0009585708894595733],
    [38.945972631203, 23919846.194468386, 60.0, 0.0001545008113317025],
]
OLD_BY_KEY_0 = [
    [39.26545715332031, 1885781.625, 60.0, 0.0007341330638155341],
    [30.080232620239258, 1075368.625, 60.0, 0.0003960054600611329],
]


@pytest.fixture(scope="module")
def problem():
    tech = load_technology("generic")
    return problem_for(load_circuit("op2", tech), "generic", "tt")


def test_draws_by_seed_are_the_old_numpy_draws(problem):
    box = problem.box
    targets = draw_by_seed(box, 5, 11)
    # the old path: NumPy uniforms of default_rng(seed) through the box
    old = box.from_uniform(np.random.default_rng(11).random((5, len(box.names))))
    np.testing.assert_array_equal(targets, old)
    np.testing.assert_allclose(draw_by_seed(box, 2, 0), OLD_BY_SEED_0, rtol=1e-12)


def test_draws_by_key_are_the_old_jax_draws(problem):
    key = jax.random.key(4)
    targets = draw_by_key(key, problem, 6)
    # the old path of envs.specs and train.spice_baseline: one key split in n
    old = np.asarray(draw_targets(jax.random.split(key, 6), problem))
    np.testing.assert_array_equal(targets, old)
    assert targets.dtype == np.float32 and targets.shape == (6, 4)
    np.testing.assert_allclose(
        draw_by_key(jax.random.key(0), problem, 2), OLD_BY_KEY_0, rtol=1e-6
    )


def test_split_is_the_old_permutation_split():
    train, held = split_indices(10, 2, 3)
    order = np.random.default_rng(3).permutation(10)
    np.testing.assert_array_equal(train, order[2:])
    np.testing.assert_array_equal(held, order[:2])
    # envs.specs' sorted split of 10 targets, 20 % held out, seed 3 (1ea7cc9)
    assert np.sort(held).tolist() == [6, 9]
    assert np.sort(train).tolist() == [0, 1, 2, 3, 4, 5, 7, 8]


def test_target_sets_round_trip_with_explicit_keys(problem, tmp_path):
    box = problem.box
    targets = draw_by_seed(box, 5, 2)
    targets[0, 1] = np.nan  # a spec without a requirement
    path = tmp_path / "targets.json"
    save_target_sets(path, targets[:3], targets[3:], box, seed=2)
    document = json.loads(path.read_text())
    assert len(document["train"]) == 3 and len(document["held_out"]) == 2
    assert document["seed"] == 2 and "ugbw" not in document["train"][0]
    train, held = load_target_sets(path, box)
    np.testing.assert_allclose(train, targets[:3], rtol=1e-15)
    np.testing.assert_allclose(held, targets[3:], rtol=1e-15)
