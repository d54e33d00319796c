import numpy as np
import pytest

from tfgan.metrics.precision_recall import PrecisionRecall, precision_recall, recall_misses

REAL_1D = np.array([[0.0], [1.0], [2.0], [10.0]])  # k=1 radii: 1, 1, 1, 8


@pytest.mark.parametrize("fake, expected", [
    # 0.5 is inside ball(0, 1), 5 inside ball(10, 8), 20 outside every ball: precision 2/3.
    # Fake radii 4.5, 4.5, 15: ball(20, 15) reaches 10, the others reach 0, 1, 2: recall 1.
    ([0.5, 5.0, 20.0], (2 / 3, 1.0)),
    # Every fake point is inside a real ball: precision 1. Fake radii 1, 1, 3.5 reach 0, 1, 2
    # but not 10: recall 3/4.
    ([0.5, 1.5, 5.0], (1.0, 0.75)),
])
def test_hand_computed_values_with_k_1(fake, expected):
    result = precision_recall(REAL_1D, np.array(fake)[:, None], k=1)
    assert isinstance(result, PrecisionRecall)
    assert result == pytest.approx(expected)


def test_recall_misses_name_the_real_samples_no_ball_reaches():
    # The second case above: fake balls (0.5, 1), (1.5, 1), (5, 3.5) reach 0, 1 and 2, not 10.
    misses = recall_misses(REAL_1D, np.array([[0.5], [1.5], [5.0]]), k=1, batch_size=3)
    assert misses.tolist() == [False, False, False, True]
    rng = np.random.default_rng(4)
    real, fake = rng.normal(size=(90, 4)), rng.normal(0.5, size=(70, 4))
    assert 1.0 - recall_misses(real, fake).mean() == pytest.approx(
        precision_recall(real, fake).recall)


def test_identical_sets_have_full_precision_and_recall():
    features = np.random.default_rng(0).normal(size=(200, 5))
    assert precision_recall(features, features) == (1.0, 1.0)


def test_disjoint_sets_have_zero_precision_and_recall():
    rng = np.random.default_rng(1)
    real, fake = rng.normal(size=(100, 5)), rng.normal(100.0, size=(100, 5))
    assert precision_recall(real, fake) == (0.0, 0.0)


def test_one_repeated_real_sample_is_precise_but_covers_nothing():
    real = np.random.default_rng(2).normal(size=(100, 5))
    result = precision_recall(real, np.repeat(real[:1], 50, axis=0))
    assert result.precision == 1.0
    assert result.recall <= 0.01


def test_batch_size_does_not_change_the_result():
    rng = np.random.default_rng(3)
    real, fake = rng.normal(size=(90, 4)), rng.normal(0.5, size=(70, 4))
    assert precision_recall(real, fake, batch_size=7) == precision_recall(real, fake)


@pytest.mark.parametrize("real, fake, k, message", [
    (np.zeros((5, 2)), np.zeros((5, 2)), 0, "Received: k=0"),
    (np.zeros((3, 2)), np.zeros((5, 2)), 3, r"Received: real_features.shape=\(3, 2\)"),
    (np.zeros((5, 2)), np.zeros(5), 3, r"Received: fake_features.shape=\(5,\)"),
    (np.zeros((5, 2)), np.zeros((5, 3)), 3, "Received: widths=2, 3"),
])
def test_invalid_arguments_raise(real, fake, k, message):
    with pytest.raises(ValueError, match=message):
        precision_recall(real, fake, k=k)
