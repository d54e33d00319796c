"""Real MNIST test digits score near the best of every image metric; noise and one repeated
digit score near the worst (the acceptance test of issue 4), with the committed classifier."""

import os

import numpy as np
import pytest

from tfgan.data.stacked_mnist import stack_mnist
from tfgan.data.toys import ring_modes
from tfgan.metrics.evaluate import ImageOutputs, evaluate_samples, image_outputs, to_unit_range

SUBSET_PATH = os.path.join(os.path.dirname(__file__), "data", "mnist_test_subset.npz")


@pytest.fixture(scope="module")
def mnist():
    with np.load(SUBSET_PATH) as subset:
        return subset["images"][..., None], subset["labels"]


@pytest.fixture(scope="module")
def scores(mnist):
    """Metrics of three sample sets of 500 against the other 500 real test digits."""
    images, _ = mnist
    reference = image_outputs(images[:500])
    candidates = {
        "real": images[500:],
        "noise": np.random.default_rng(0).uniform(size=(500, 28, 28, 1)).astype("float32"),
        "repeated": np.repeat(images[500:501], 500, axis=0),
    }
    return {name: evaluate_samples(samples, "mnist", reference=reference)
            for name, samples in candidates.items()}


def test_every_image_metric_is_reported(scores):
    assert set(scores["real"]) == {
        "classifier_score", "frechet_distance", "kernel_distance", "precision", "recall",
        "class_kl"}


def test_classifier_score_is_near_ten_for_real_digits_and_one_for_degenerate_sets(scores):
    assert scores["real"]["classifier_score"] > 9.0
    assert scores["noise"]["classifier_score"] < 1.5
    assert scores["repeated"]["classifier_score"] == pytest.approx(1.0, abs=1e-3)


def test_frechet_distance_is_near_zero_for_real_digits_only(scores):
    assert scores["real"]["frechet_distance"] < 3.0
    assert scores["noise"]["frechet_distance"] > 100 * scores["real"]["frechet_distance"]
    assert scores["repeated"]["frechet_distance"] > 50 * scores["real"]["frechet_distance"]


def test_kernel_distance_is_near_zero_for_real_digits_only(scores):
    # The scale follows the classifier's features; the committed ones give real digits about
    # 0.01 and one repeated digit about 36.
    real = abs(scores["real"]["kernel_distance"])
    assert real < 0.05
    assert scores["noise"]["kernel_distance"] > 1000 * real
    assert scores["repeated"]["kernel_distance"] > 1000 * real


def test_precision_and_recall_are_high_for_real_digits_and_low_for_degenerate_sets(scores):
    assert scores["real"]["precision"] > 0.8 and scores["real"]["recall"] > 0.8
    assert scores["noise"]["precision"] < 0.02 and scores["noise"]["recall"] < 0.02
    # One real digit repeated is realistic (full precision) but covers almost nothing.
    assert scores["repeated"]["precision"] > 0.9 and scores["repeated"]["recall"] < 0.02


def test_class_kl_is_near_zero_for_real_digits_and_log_10_for_one_class(scores):
    assert scores["real"]["class_kl"] < 0.05
    assert scores["noise"]["class_kl"] > 1.5
    assert scores["repeated"]["class_kl"] == pytest.approx(np.log(10))


def test_value_range_and_precomputed_reference_give_the_same_numbers(mnist):
    images, _ = mnist
    samples = images[:100] / 255.0
    reference = images[100:200]
    expected = evaluate_samples(samples, "mnist", reference=reference,
                                metrics=["frechet_distance", "class_kl"])
    tanh_range = evaluate_samples(samples * 2.0 - 1.0, "mnist", value_range=(-1.0, 1.0),
                                  reference=image_outputs(reference),
                                  metrics=["frechet_distance", "class_kl"])
    assert tanh_range == pytest.approx(expected, rel=1e-5)


def test_progress_names_each_stage_before_it_runs(mnist):
    images, _ = mnist
    stages = []
    evaluate_samples(images[:50] / 255.0, "mnist", reference=images[50:100],
                     metrics=["class_kl", "frechet_distance"], progress_fn=stages.append)
    assert stages == ["classifier features of 50 samples", "class_kl", "frechet_distance"]


def test_to_unit_range_reads_uint8_as_bytes_and_clips_floats():
    np.testing.assert_allclose(to_unit_range(np.array([0, 51, 255], np.uint8)), [0.0, 0.2, 1.0])
    np.testing.assert_allclose(
        to_unit_range(np.array([-1.0, 0.0, 1.0000001]), (-1.0, 1.0)), [0.0, 0.5, 1.0])
    with pytest.raises(ValueError, match=r"Received: value_range=\(1.0, 1.0\)"):
        to_unit_range(np.zeros(2), (1.0, 1.0))


def test_image_outputs_are_logits_and_features(mnist):
    outputs = image_outputs(mnist[0][:3])
    assert isinstance(outputs, ImageOutputs)
    assert outputs.logits.shape == (3, 10) and outputs.features.shape == (3, 128)


def test_stacked_mnist_real_images_cover_their_modes(mnist):
    images, labels = mnist
    stacked, classes = stack_mnist(images, labels, num_samples=300, seed=1)
    result = evaluate_samples(stacked / 127.5 - 1.0, "stacked_mnist", value_range=(-1.0, 1.0))
    assert set(result) == {"modes_captured", "class_kl"}
    assert abs(result["modes_captured"] - len(np.unique(classes))) <= 10


def test_toy_kinds_need_no_reference():
    result = evaluate_samples(np.repeat(ring_modes(), 3, axis=0), "ring")
    assert result == {"modes_captured": 8, "high_quality_fraction": 1.0, "reverse_kl": 0.0}
    assert evaluate_samples(np.array([[0.0, 5.0]]), "quadratic") == {
        "curve_distance": pytest.approx(5.0)}


def test_mnist_without_reference_raises():
    with pytest.raises(ValueError, match="Received: reference=None"):
        evaluate_samples(np.zeros((2, 28, 28, 1)), "mnist")
