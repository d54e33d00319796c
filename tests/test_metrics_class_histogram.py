import keras
import numpy as np
import pytest

from tfgan.metrics.class_histogram import ClassKL, class_histogram, class_kl, kl_from_uniform


def test_histogram_counts_fractions_including_empty_classes():
    histogram = class_histogram(np.array([0, 2, 2, 3]), num_classes=5)
    np.testing.assert_allclose(histogram, [0.25, 0.0, 0.5, 0.25, 0.0])


def test_uniform_histogram_has_zero_kl():
    assert kl_from_uniform(np.full(10, 0.1)) == pytest.approx(0.0, abs=1e-12)


def test_single_class_has_kl_log_of_the_number_of_classes():
    assert kl_from_uniform(np.eye(10)[3]) == pytest.approx(np.log(10))


def test_hand_computed_kl():
    # p = (1/2, 1/2, 0, 0): sum p log(4 p) = log 2.
    assert kl_from_uniform([0.5, 0.5, 0.0, 0.0]) == pytest.approx(np.log(2))


def test_class_kl_uses_the_predicted_class_of_each_sample():
    logits = np.eye(10)[np.arange(20) % 10] * 3.0
    assert class_kl(logits) == pytest.approx(0.0, abs=1e-12)
    assert class_kl(np.tile([0.0, 5.0, 1.0], (6, 1))) == pytest.approx(np.log(3))


@pytest.mark.parametrize("labels, message", [
    (np.array([0, 10]), r"Received: labels range=\[0, 10\]"),
    (np.array([-1, 2]), r"Received: labels range=\[-1, 2\]"),
    (np.array([0.5, 1.0]), r"Received: labels range=\[0.5, 1.0\]"),
    (np.zeros((2, 2), int), r"Received: labels.shape=\(2, 2\)"),
    (np.zeros(0, int), r"Received: labels.shape=\(0,\)"),
])
def test_invalid_labels_raise(labels, message):
    with pytest.raises(ValueError, match=message):
        class_histogram(labels, num_classes=10)


@pytest.mark.parametrize("histogram", [[0.5, 0.6], [1.5, -0.5], [[1.0]]])
def test_invalid_histograms_raise(histogram):
    with pytest.raises(ValueError, match="Received: histogram="):
        kl_from_uniform(histogram)


def test_class_kl_rejects_non_logits():
    with pytest.raises(ValueError, match=r"Received: logits.shape=\(10,\)"):
        class_kl(np.zeros(10))


def test_keras_metric_matches_the_function_across_batches():
    logits = np.random.default_rng(0).normal(size=(30, 10))
    metric = ClassKL()
    for batch in np.split(logits, 3):
        metric.update_state(batch)
    assert float(metric.result()) == pytest.approx(class_kl(logits), rel=1e-5)
    metric.reset_state()
    metric.update_state(np.tile(np.eye(10)[4], (5, 1)))
    assert float(metric.result()) == pytest.approx(np.log(10), rel=1e-5)


def test_keras_metric_config_round_trip():
    metric = ClassKL(num_classes=3, name="kl")
    clone = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(metric))
    assert isinstance(clone, ClassKL) and clone.num_classes == 3 and clone.name == "kl"
    with pytest.raises(ValueError, match="Received: num_classes=1"):
        ClassKL(num_classes=1)
