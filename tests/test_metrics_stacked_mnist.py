import os

import numpy as np
import pytest

from tfgan.data.stacked_mnist import stack_mnist
from tfgan.metrics.classifier import load_classifier
from tfgan.metrics.stacked_mnist import (
    StackedMnistCoverage,
    stacked_mnist_classes,
    stacked_mnist_coverage,
)

SUBSET_PATH = os.path.join(os.path.dirname(__file__), "data", "mnist_test_subset.npz")


def test_every_mode_once_is_full_coverage_with_zero_kl():
    coverage = stacked_mnist_coverage(np.arange(1000))
    assert isinstance(coverage, StackedMnistCoverage)
    assert coverage.modes_captured == 1000 and coverage.kl == pytest.approx(0.0, abs=1e-12)


def test_a_single_mode_has_kl_log_1000():
    coverage = stacked_mnist_coverage(np.full(500, 123))
    assert coverage.modes_captured == 1 and coverage.kl == pytest.approx(np.log(1000))


def test_half_the_modes_equally_often_have_kl_log_2():
    coverage = stacked_mnist_coverage(np.repeat(np.arange(0, 1000, 2), 3))
    assert coverage.modes_captured == 500 and coverage.kl == pytest.approx(np.log(2))


def test_coverage_rejects_classes_outside_the_thousand():
    with pytest.raises(ValueError, match=r"Received: labels range=\[0, 1000\]"):
        stacked_mnist_coverage(np.array([0, 1000]))


def test_classifier_reads_the_three_digits_of_real_stacked_images():
    with np.load(SUBSET_PATH) as subset:
        images, labels = subset["images"], subset["labels"]
    stacked, classes = stack_mnist(images, labels, num_samples=400, seed=0)
    predicted = stacked_mnist_classes(load_classifier(), stacked / 255.0)
    assert predicted.shape == (400,) and predicted.dtype == np.int64
    assert np.mean(predicted == classes) >= 0.95  # about 0.99^3 of the triples
    true_modes = stacked_mnist_coverage(classes).modes_captured
    assert abs(stacked_mnist_coverage(predicted).modes_captured - true_modes) <= 10


def test_classes_need_three_channel_images():
    with pytest.raises(ValueError, match=r"Received: images.shape=\(2, 28, 28, 1\)"):
        stacked_mnist_classes(load_classifier(), np.zeros((2, 28, 28, 1)))
