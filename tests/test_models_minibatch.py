import keras
import numpy as np
import pytest

from tfgan.models.minibatch import ClassStddev, MinibatchDiscrimination


def _numpy_minibatch(x, kernel, num_kernels, kernel_dim):
    """Salimans et al. 2016, section 3.2, written out sample by sample."""
    rows = (x @ kernel).reshape(len(x), num_kernels, kernel_dim)
    features = np.zeros((len(x), num_kernels))
    for i in range(len(x)):
        for j in range(len(x)):
            features[i] += np.exp(-np.abs(rows[i] - rows[j]).sum(axis=-1))
    return np.concatenate([x, features], axis=-1)


def _layer_with_kernel(kernel, num_kernels, kernel_dim):
    layer = MinibatchDiscrimination(num_kernels, kernel_dim)
    layer.build((None, kernel.shape[0]))
    layer.kernel.assign(kernel)
    return layer


def test_hand_computed_value():
    # One kernel of size 1 that doubles the input: rows 0 and 2 are 2 apart, so each sample
    # gets exp(0) for itself plus exp(-2) for the other.
    layer = _layer_with_kernel(np.array([[2.0]], "float32"), num_kernels=1, kernel_dim=1)
    out = layer(np.array([[0.0], [1.0]], "float32"))
    expected = np.array([[0.0, 1 + np.exp(-2.0)], [1.0, 1 + np.exp(-2.0)]])
    np.testing.assert_allclose(out, expected, rtol=1e-6)


def test_matches_sample_by_sample_reference():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 3)).astype("float32")
    kernel = rng.normal(size=(3, 2 * 3)).astype("float32")
    out = _layer_with_kernel(kernel, num_kernels=2, kernel_dim=3)(x)
    np.testing.assert_allclose(out, _numpy_minibatch(x, kernel, 2, 3), rtol=1e-5, atol=1e-6)


def test_identical_samples_score_the_batch_size():
    layer = MinibatchDiscrimination(num_kernels=4, kernel_dim=2)
    out = layer(np.ones((5, 3), "float32"))
    np.testing.assert_allclose(out[:, 3:], np.full((5, 4), 5.0), rtol=1e-6)


@pytest.mark.parametrize("num_kernels, kernel_dim", [(5, 3), (1, 1), (8, 2)])
def test_shapes(num_kernels, kernel_dim):
    layer = MinibatchDiscrimination(num_kernels, kernel_dim)
    out = layer(np.zeros((3, 7), "float32"))
    assert tuple(out.shape) == (3, 7 + num_kernels)
    assert tuple(layer.kernel.shape) == (7, num_kernels * kernel_dim)
    assert len(layer.trainable_weights) == 1  # T only, no bias
    assert layer.compute_output_shape((None, 7)) == (None, 7 + num_kernels)


def test_config_round_trip():
    layer = MinibatchDiscrimination(num_kernels=6, kernel_dim=4, name="mbd")
    config = layer.get_config()
    assert config["num_kernels"] == 6 and config["kernel_dim"] == 4
    clone = MinibatchDiscrimination.from_config(config)
    assert clone.get_config() == config
    revived = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert isinstance(revived, MinibatchDiscrimination)
    assert revived.get_config() == config


@pytest.mark.parametrize("kwargs, received", [
    ({"num_kernels": 0}, "num_kernels=0"),
    ({"kernel_dim": -1}, "kernel_dim=-1"),
    ({"num_kernels": 2.5}, "num_kernels=2.5"),
])
def test_invalid_arguments(kwargs, received):
    with pytest.raises(ValueError, match=f"must be a positive integer. Received: {received}$"):
        MinibatchDiscrimination(**kwargs)


def test_rejects_non_2d_input():
    with pytest.raises(ValueError):
        MinibatchDiscrimination()(np.zeros((2, 3, 4), "float32"))


def test_class_stddev_is_each_features_spread_within_the_samples_label():
    features = np.array([[1.0, 0.0], [3.0, 4.0], [5.0, -1.0], [7.0, 2.0], [0.5, 0.5]], "float32")
    labels = np.array([0, 0, 1, 1, 2])
    out = ClassStddev(num_classes=3)([features, labels]).numpy()
    # Label 0: (1, 3) and (0, 4) -> unbiased std sqrt(2) and sqrt(8); label 1: (5, 7) and
    # (-1, 2) -> sqrt(2) and sqrt(4.5); label 2 has one sample: sqrt(1e-8).
    expected = np.array([[2 ** 0.5, 8 ** 0.5], [2 ** 0.5, 8 ** 0.5], [2 ** 0.5, 4.5 ** 0.5],
                         [2 ** 0.5, 4.5 ** 0.5], [1e-4, 1e-4]])
    np.testing.assert_allclose(out, expected, rtol=1e-5)
    # Alike samples of one class spread less than unlike ones, whatever the other classes do.
    alike = np.array([[1.0], [1.1], [-9.0], [9.0]], "float32")
    spread = ClassStddev(num_classes=2)([alike, np.array([0, 0, 1, 1])]).numpy()
    assert spread[0, 0] < 0.1 < 10 < spread[2, 0]


def test_class_stddev_config_round_trip():
    layer = ClassStddev(num_classes=4, name="spread")
    revived = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert isinstance(revived, ClassStddev) and revived.get_config() == layer.get_config()
    with pytest.raises(ValueError, match="num_classes"):
        ClassStddev(num_classes=1)
