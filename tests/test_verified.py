"""Verified designs as a typed batch (``train.verified``) and a box's
ceiling file (``train.ceiling``), without ngspice."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np

from sim.engine.result import Status
from sim.format.targets import SpecRange, TargetBox
from sim.sizing.simulator import Evaluation
from train.ceiling import box_ceiling, read_ceiling, write_ceiling
from train.config import TrainConfig
from train.verified import VerifiedDesigns, hindsight_targets

BOX = TargetBox(
    (SpecRange("gain", "lower", 40.0, 50.0), SpecRange("power", "upper", 1e-4, 1e-2))
)
PROBLEM = SimpleNamespace(
    scale=SimpleNamespace(names=("w", "c")), specs=("gain", "power"), box=BOX
)


def _evaluation(w, gain, power, ok=True) -> Evaluation:
    performance = {"gain": gain, "power": power, "M1:vth": 0.4}
    status = Status.OK if ok else Status.NONCONVERGENCE
    return Evaluation({"w": w, "c": 1e-12, "gmid": 12.0}, performance, status)


def test_a_batch_from_evaluations_equals_one_read_back_from_records():
    evaluations = [
        _evaluation(1e-6, 45.0, 1e-3),
        _evaluation(2e-6, 48.0, 5e-3),
        _evaluation(3e-6, np.nan, np.nan, ok=False),
    ]
    grown = VerifiedDesigns(PROBLEM)
    grown.add_evaluations(evaluations[:2], "initial", 0)
    grown.add_evaluations(evaluations[2:], "frontier", 1)
    records = [
        {
            "round": r,
            "purpose": p,
            "params": e.params,
            "performance": {k: None if v != v else v for k, v in e.performance.items()},
            "status": e.status.value,
        }
        for e, p, r in zip(
            evaluations, ["initial", "initial", "frontier"], [0, 0, 1], strict=True
        )
    ]
    read = VerifiedDesigns.from_records(PROBLEM, records)
    for batch in (grown, read):
        assert batch.params.shape == (3, 3) and batch.performance.shape == (3, 3)
        np.testing.assert_array_equal(batch.sizings[:, 0], [1e-6, 2e-6, 3e-6])
        np.testing.assert_array_equal(batch.figures[:2], [[45.0, 1e-3], [48.0, 5e-3]])
        assert np.all(np.isnan(batch.figures[2]))  # a failed simulation
        assert list(batch.purpose) == ["initial", "initial", "frontier"]
        assert list(batch.round) == [0, 0, 1]
        assert batch.params_of(1) == evaluations[1].params
        np.testing.assert_array_equal(hindsight_targets(batch), batch.figures[:2])
    np.testing.assert_array_equal(grown.params, read.params)
    target = np.asarray([[47.0, 6e-3], [49.0, 1e-3]])
    np.testing.assert_array_equal(grown.meeting(target), [1, -1])


def test_the_ceiling_is_read_from_box_json_beside_the_circuit(tmp_path):
    circuit = tmp_path / "circuit.yaml"
    circuit.write_text("name: x\n")
    problem = {"circuit": str(circuit), "tech": "generic"}
    (tmp_path / "box.json").write_text(json.dumps({"circuit": "circuit.yaml"}))
    assert read_ceiling(tmp_path) is None  # not measured yet
    write_ceiling(tmp_path, {"value": 0.9, "met": 900, "targets": 1000})
    facts = json.loads((tmp_path / "box.json").read_text())
    assert facts["circuit"] == "circuit.yaml" and facts["ceiling"]["met"] == 900
    assert box_ceiling(TrainConfig(problem=problem)) == 0.9
    (tmp_path / "ceiling.json").write_text(json.dumps({"ceiling": 0.5}))
    assert box_ceiling(TrainConfig(problem=problem)) == 0.9  # box.json first
    write_ceiling(tmp_path, {"value": 7})  # not a fraction: unknown
    assert box_ceiling(TrainConfig(problem=problem)) == 0.5


def test_a_lower_bound_ceiling_is_reported_but_never_stops_a_run(tmp_path):
    circuit = tmp_path / "circuit.yaml"
    circuit.write_text("name: x\n")
    problem = {"circuit": str(circuit), "tech": "generic"}
    (tmp_path / "box.json").write_text(json.dumps({"circuit": "circuit.yaml"}))
    write_ceiling(tmp_path, {"value": 0.895, "lower_bound": True})
    assert read_ceiling(tmp_path) == 0.895  # what the benchmarks print
    assert box_ceiling(TrainConfig(problem=problem)) is None  # unknown: no stall stop
    assert box_ceiling(TrainConfig(problem=problem, ceiling=0.995)) == 0.995
