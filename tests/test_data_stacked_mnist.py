import numpy as np
import pytest

from tfgan.data.stacked_mnist import NUM_MODES, load_stacked_mnist, stack_mnist


def _digits(n=10):
    """Digit i is a constant image of value 20 i with label i."""
    values = (np.arange(n) * 20).astype(np.uint8)
    images = values[:, None, None, None] * np.ones((1, 28, 28, 1), np.uint8)
    return images, np.arange(n) % 10


def test_stack_puts_three_digits_in_the_channels_and_labels_them():
    images, labels = _digits()
    stacked, classes = stack_mnist(images, labels, num_samples=50, seed=3)
    assert stacked.shape == (50, 28, 28, 3) and stacked.dtype == np.uint8
    assert classes.shape == (50,) and classes.dtype == np.int64
    digits = stacked[:, 0, 0, :] // 20  # the digit in each channel
    np.testing.assert_array_equal(classes, digits @ [100, 10, 1])
    assert np.all((stacked == stacked[:, :1, :1, :]))  # each channel is one whole digit


def test_stack_accepts_digits_without_a_channel_axis():
    images, labels = _digits()
    with_axis = stack_mnist(images, labels, 8, seed=1)
    without = stack_mnist(images[..., 0], labels, 8, seed=1)
    np.testing.assert_array_equal(with_axis[0], without[0])
    np.testing.assert_array_equal(with_axis[1], without[1])


def test_classes_cover_the_thousand_modes_uniformly():
    images, labels = _digits()
    _, classes = stack_mnist(images, labels, num_samples=20000, seed=0)
    counts = np.bincount(classes, minlength=NUM_MODES)
    assert len(counts) == NUM_MODES and np.all(counts > 0)
    assert counts.std() / counts.mean() < 0.35  # Poisson(20): relative spread ~0.22


def test_seed_gives_the_same_images():
    images, labels = _digits()
    first = stack_mnist(images, labels, 16, seed=5)[1]
    np.testing.assert_array_equal(first, stack_mnist(images, labels, 16, seed=5)[1])
    assert not np.array_equal(first, stack_mnist(images, labels, 16, seed=6)[1])


def test_dataset_batches_are_scaled_and_start_with_stack_mnist():
    images, labels = _digits()
    dataset, info = load_stacked_mnist(images, batch_size=6, value_range=(-1.0, 1.0), seed=4)
    batches = [batch.numpy() for batch in dataset.take(2)]
    assert info.name == "stacked_mnist" and info.kind == "image"
    assert info.data_shape == (28, 28, 3) and info.value_range == (-1.0, 1.0)
    assert info.num_examples is None
    assert batches[0].shape == (6, 28, 28, 3) and batches[0].dtype == np.float32
    assert tuple(dataset.element_spec.shape) == (6, 28, 28, 3)
    stacked, _ = stack_mnist(images, labels, 6, seed=4)
    np.testing.assert_allclose(batches[0], stacked / 127.5 - 1.0, atol=1e-6)
    assert not np.array_equal(batches[0], batches[1])


@pytest.mark.parametrize("images, labels, num_samples, message", [
    (np.zeros((4, 28, 28, 3)), np.zeros(4), 1, r"Received: images.shape=\(4, 28, 28, 3\)"),
    (np.zeros((4, 14, 14)), np.zeros(4), 1, r"Received: images.shape=\(4, 14, 14\)"),
    (np.zeros((4, 28, 28)), np.zeros(3), 1, r"Received: labels.shape=\(3,\)"),
    (np.zeros((4, 28, 28)), np.full(4, 10), 1, r"Received: labels range=\[10, 10\]"),
    (np.zeros((4, 28, 28)), np.zeros(4), 0, "Received: num_samples=0"),
])
def test_stack_rejects_invalid_arguments(images, labels, num_samples, message):
    with pytest.raises(ValueError, match=message):
        stack_mnist(images, labels, num_samples)
