"""Target files given to the trainer (``python -m train --targets F``): the
lists ``python -m envs.specs`` writes are read by name, and a held-out list
is never trained on."""

from __future__ import annotations

import json

import numpy as np
import pytest

from envs.specs import main as specs_main
from sim.errors import UserInputError
from sim.sizing.target_text import load_targets


@pytest.fixture(scope="module")
def specs_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("specs") / "targets.json"
    code = specs_main(
        ["--env", "jaxsizer/twostage-generic-v1", "--n", "50", "--json", str(path)]
    )
    assert code == 0
    return path


@pytest.fixture(scope="module")
def box():
    from sim.sizing.session import ProblemOptions, open_session
    from sim.storage.store import SimulationStore

    options = ProblemOptions("twostage", "generic")
    session = open_session(options, store=SimulationStore(":memory:"))
    try:
        yield session.problem.box
    finally:
        session.close()


def _rows(document: dict, key: str, box) -> set[tuple]:
    return {
        tuple(np.round([t.get(n, np.nan) for n in box.names], 9)) for t in document[key]
    }


def test_each_use_reads_its_own_list(specs_file, box):
    document = json.loads(specs_file.read_text())
    train = load_targets(specs_file, box, "train")
    held = load_targets(specs_file, box, "held_out")
    assert len(train) == len(document["train"]) == 40
    assert len(held) == len(document["held_out"]) == 10
    assert {tuple(np.round(r, 9)) for r in train} == _rows(document, "train", box)
    assert {tuple(np.round(r, 9)) for r in held} == _rows(document, "held_out", box)
    # evaluation reads the held-out list of such a file, as before
    np.testing.assert_array_equal(load_targets(specs_file, box), held)


def test_a_file_of_held_out_lists_only_is_refused_for_training(tmp_path, box):
    path = tmp_path / "held.json"
    path.write_text(json.dumps({"held_out": [{"a_0": 48.0}], "test": []}))
    with pytest.raises(UserInputError, match="never trained on"):
        load_targets(path, box, "train")
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps([{"a_0": 48.0}, {"a_0": 49.0}]))
    assert len(load_targets(plain, box, "train")) == 2
    assert load_targets(plain, box, "held_out").shape == (0, len(box.names))


def test_the_trainer_never_trains_on_the_held_out_list(specs_file, tmp_path):
    from sim.sizing.session import ProblemOptions
    from train.config import TrainConfig
    from train.loop import BoxLoop

    config = TrainConfig(
        problem=ProblemOptions("twostage", "generic").to_json(),
        run=str(tmp_path / "run"),
        targets=str(specs_file),
        policy_updates=0,
        workers=1,
    )
    loop = BoxLoop(config)
    try:
        box = loop.problem.box
        document = json.loads(specs_file.read_text())
        held = {tuple(np.round(r, 9)) for r in loop.held_out}
        assert held == _rows(document, "held_out", box)
        assert {tuple(np.round(r, 9)) for r in loop.train_targets} == _rows(
            document, "train", box
        )
        for loop.round in range(5):  # the round draws come from the train list
            drawn = {tuple(np.round(r, 9)) for r in loop.round_targets()}
            assert not drawn & held
    finally:
        loop.close()


def test_a_target_file_naming_a_spec_twice_is_refused(tmp_path, box):
    path = tmp_path / "twice.json"
    path.write_text('{"train": [{"a_0": 50, "a_0": 45}]}')
    for part in ("train", "evaluate"):
        with pytest.raises(UserInputError, match="twice"):
            load_targets(path, box, part)
    once = tmp_path / "once.json"
    once.write_text('{"train": [{"a_0": 50}]}')
    assert len(load_targets(once, box, "train")) == 1
