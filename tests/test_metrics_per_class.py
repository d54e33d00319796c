import os

import numpy as np
import pytest

from tfgan.data.toys import RING_STD, ring_modes
from tfgan.metrics import evaluate_per_class, evaluate_samples

SUBSET_PATH = os.path.join(os.path.dirname(__file__), "data", "mnist_test_subset.npz")


def test_ring_per_class_judges_each_sample_by_its_nearest_mode():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(8), 10)
    points = ring_modes()[labels] + rng.normal(0.0, RING_STD, (80, 2))
    points[:3] = ring_modes()[5]  # three samples asked for class 0 land in mode 5
    results = evaluate_per_class(points, labels, "ring", [str(k) for k in range(8)])
    assert results["conditional_accuracy"] == pytest.approx(77 / 80)
    assert results["class 0 conditional_accuracy"] == pytest.approx(0.7)
    assert results["class 1 conditional_accuracy"] == 1.0
    assert results["class 0 modes_captured"] == 2 and results["class 3 modes_captured"] == 1
    # The mixture's figures are evaluate_samples' own.
    mixture = evaluate_samples(points, "ring")
    assert {name: results[name] for name in mixture} == mixture


def test_mnist_per_class_compares_each_class_with_its_own_real_digits():
    with np.load(SUBSET_PATH) as subset:
        images = subset["images"][:400].reshape(-1, 28, 28, 1)
        labels = subset["labels"][:400].astype(int)
    # The real digits "generated" for their own labels: the classifier agrees with nearly
    # all, and each class's FID against its own real digits is 0.
    results = evaluate_per_class(images, labels, "mnist", [str(k) for k in range(10)],
                                 reference=images, reference_labels=labels)
    assert results["conditional_accuracy"] > 0.95
    for digit in range(10):
        assert results[f"class {digit} frechet_distance"] == pytest.approx(0.0, abs=1e-3)
    # Shuffled labels: the generator "ignores" the request; accuracy falls to chance.
    shuffled = np.random.default_rng(1).permutation(labels)
    wrong = evaluate_per_class(images, shuffled, "mnist", [str(k) for k in range(10)],
                               reference=images, reference_labels=labels)
    assert wrong["conditional_accuracy"] < 0.3
    assert wrong["class 3 frechet_distance"] > 10 * results["class 3 frechet_distance"] + 1


def test_per_class_refuses_kinds_without_a_judge_and_mismatched_labels():
    with pytest.raises(ValueError, match=r"kind with classes"):
        evaluate_per_class(np.zeros((2, 1)), [0, 1], "gaussian_1d", ["a", "b"])
    with pytest.raises(ValueError, match=r"one label per sample"):
        evaluate_per_class(np.zeros((2, 2)), [0], "ring", ["a", "b"])
