"""Distillation on fewer designs than one batch (issue 26: it ended in
UnboundLocalError): one batch of all designs, and the student learns."""

from __future__ import annotations

import numpy as np
import pytest

from surrogate.circuit.distill import DistillConfig, distill, teacher_labels
from surrogate.circuit.train import FitConfig, fit_surrogate
from tests.test_circuit_surrogate import _smooth_dataset


@pytest.mark.slow  # a fit and two jitted distillations: minutes on 2 shared cores
def test_fewer_designs_than_a_batch_still_distil():
    fitted = fit_surrogate(
        _smooth_dataset(200, seed=2),
        FitConfig(hidden=16, members=2, max_epochs=20),
        progress=False,
    )
    inputs = np.random.default_rng(0).uniform(0, 1, (100, 3))
    config = DistillConfig(hidden=16, designs=100, epochs=30, batch=1024)
    student = distill(fitted.weights, inputs, np.ones(2), config, progress=False)
    assert student.designs == 100
    teacher, _ = teacher_labels(fitted.weights, inputs)
    learned, _ = teacher_labels(student.weights, inputs)
    untrained = DistillConfig(hidden=16, designs=100, epochs=1, batch=1024)
    start = distill(fitted.weights, inputs, np.ones(2), untrained, progress=False)
    first, _ = teacher_labels(start.weights, inputs)
    # 30 steps (one full batch per epoch) bring the student closer than one
    assert np.abs(teacher - learned).mean() < np.abs(teacher - first).mean()


def test_no_designs_is_refused():
    fitted_weights = {"w1": np.zeros((1, 3, 4))}
    with pytest.raises(ValueError, match="at least one design"):
        distill(fitted_weights, np.zeros((0, 3)), np.ones(2), progress=False)
