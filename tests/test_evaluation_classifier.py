"""The batched SentEval classifier: parity with the one-at-a-time loop, sanity on synthetic
data, determinism, and SentEval's validation schemes."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from hncse.evaluation import reference
from hncse.evaluation.classifier import MODES, FitGroup, fit_groups, initial_weights
from hncse.evaluation.validation import kfold_then_test, nested_cv, split_then_test


def synthetic(
    n: int, dim: int, noise: float, seed: int = 0, margin: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian features, labels from a random hyperplane plus noise; ``margin`` pushes the
    classes apart along its normal."""
    rng = np.random.RandomState(seed)
    normal = rng.randn(dim)
    features = rng.randn(n, dim)
    labels = (features @ normal + noise * rng.randn(n) > 0).astype(np.int64)
    features += np.outer(2 * labels - 1, normal / np.linalg.norm(normal)) * margin
    return features.astype(np.float32), labels


@pytest.mark.parametrize("mode", ["fasttest", "test"])
def test_batched_fit_equals_one_at_a_time_loop(mode: str) -> None:
    features, labels = synthetic(260, 12, noise=1.5)
    x, y = torch.from_numpy(features), torch.from_numpy(labels)
    # short fits (the loop is slow) and a wide penalty grid, so models stop at different times
    settings = replace(
        MODES[mode], batch_size=32, max_epoch=40, tenacity=1, l2_grid=(1e-5, 1e-2, 0.3, 3.0)
    )
    groups = [  # unequal sizes (pass lengths differ), a validation split, shared dev rows
        FitGroup(np.arange(0, 200), np.arange(200, 230), settings.l2_grid),
        FitGroup(np.arange(40, 260), None, settings.l2_grid),
        FitGroup(np.arange(0, 90), np.arange(230, 260), settings.l2_grid),
    ]
    batched = fit_groups(x, y, 2, groups, settings)
    loop = reference.fit_groups(x, y, 2, groups, settings)
    np.testing.assert_array_equal(batched.dev_accuracy, loop.dev_accuracy)
    np.testing.assert_array_equal(batched.epochs, loop.epochs)
    torch.testing.assert_close(batched.weights, loop.weights, rtol=1e-4, atol=1e-5)
    assert (batched.epochs != batched.epochs[:, :1]).any(), "penalties should stop apart"


def test_initial_weights_are_senteval_linear_init_and_leave_rng_alone() -> None:
    state = torch.random.get_rng_state()
    weight = initial_weights(7, 3, seed=1111)
    assert torch.equal(torch.random.get_rng_state(), state)
    torch.manual_seed(1111)
    layer = torch.nn.Linear(7, 3)
    assert torch.equal(weight, torch.cat([layer.weight, layer.bias[:, None]], 1).detach())


def test_separable_data_is_learnt_and_noise_is_not() -> None:
    settings = MODES["fasttest"]
    features, labels = synthetic(600, 10, noise=0.0, margin=1.0)
    separable = nested_cv(features, labels, 2, settings)
    assert separable.acc > 98 and separable.devacc > 98
    random_labels = np.random.RandomState(1).randint(0, 2, 600)
    chance = nested_cv(features, random_labels, 2, settings)
    assert abs(chance.acc - 50) < 7


def test_same_seed_same_result_and_rounding() -> None:
    features, labels = synthetic(500, 8, noise=2.0, seed=3)
    first = nested_cv(features, labels, 2, MODES["fasttest"])
    second = nested_cv(features, labels, 2, MODES["fasttest"])
    assert first == second
    assert len(first.l2) == MODES["fasttest"].kfold
    for value in (first.acc, first.devacc):
        assert round(value, 2) == value


def test_validation_schemes_equal_on_both_fitters() -> None:
    settings = replace(MODES["fasttest"], kfold=3, batch_size=64)
    features, labels = synthetic(360, 6, noise=0.3, seed=5)
    train, dev, test = (
        (features[:240], labels[:240]),
        (features[240:300], labels[240:300]),
        (features[300:], labels[300:]),
    )
    for scheme in (
        lambda fitter: kfold_then_test(train, test, 2, settings, fitter=fitter),
        lambda fitter: split_then_test(train, dev, test, 2, settings, fitter=fitter),
    ):
        batched, loop = scheme(fit_groups), scheme(reference.fit_groups)
        assert (batched.acc, batched.devacc, batched.l2) == (loop.acc, loop.devacc, loop.l2)
        np.testing.assert_array_equal(batched.predictions, loop.predictions)
        assert 80 < batched.acc <= 100


def test_multiclass_and_penalty_grid() -> None:
    rng = np.random.RandomState(2)
    centres = rng.randn(6, 5) * 3
    labels = np.repeat(np.arange(6), 40)
    features = (centres[labels] + rng.randn(240, 5)).astype(np.float32)
    scores = kfold_then_test(
        (features[::2], labels[::2]),
        (features[1::2], labels[1::2]),
        6,
        replace(MODES["fasttest"], kfold=3),
    )
    assert scores.acc > 75  # chance: 16.7; the refit stops on a 6-sample validation split
    assert scores.l2[0] in MODES["fasttest"].l2_grid
