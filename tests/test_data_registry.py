"""Tests for tfgan.data.registry: names, dispatch and argument checks of `load_dataset`."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from tfgan.data import DATASETS, DatasetUnavailableError, dataset_names, load_dataset
from tfgan.data.stacked_mnist import load_stacked_mnist
from tfds_fixtures import reachable


@pytest.fixture
def one_image_dir(tmp_path):
    image = np.full((4, 4, 1), 255, np.uint8)
    (tmp_path / "a.png").write_bytes(tf.io.encode_png(image).numpy())
    return str(tmp_path)


def test_known_names():
    assert DATASETS == ("quadratic", "gaussian_1d", "two_curves", "ring", "grid", "mnist",
                        "stacked_mnist", "folder")
    names = dataset_names()
    assert names[: len(DATASETS)] == DATASETS
    assert {"fashion_mnist", "cifar10"} <= set(names)
    assert len(names) == len(set(names))


@pytest.mark.parametrize("name", ["mnst", "cifar1O", ""])
def test_unknown_name_is_one_line_listing_the_known_names(name):
    with pytest.raises(ValueError) as error:
        load_dataset(name, batch_size=2)
    message = str(error.value)
    assert str(DATASETS) in message and "tensorflow-datasets" in message
    assert message.endswith(f"Received: name={name!r}") and "\n" not in message


def test_other_names_go_to_tensorflow_datasets(tmp_path, monkeypatch):
    def fail_download(self, *args, **kwargs):
        raise tfds.download.DownloadError("offline")

    reachable(monkeypatch)  # no connection is made
    monkeypatch.setattr(tfds.core.DatasetBuilder, "download_and_prepare", fail_download)
    with pytest.raises(DatasetUnavailableError, match="'cifar10'"):
        load_dataset("cifar10", batch_size=2, data_dir=str(tmp_path))


@pytest.mark.parametrize("argument", ["batch_size", "shuffle_buffer", "image_size"])
@pytest.mark.parametrize("value", [0, 2.5, True])
def test_positive_int_arguments(argument, value):
    options = {"batch_size": 2, argument: value}
    expected = f"{argument} must be a positive int. Received: {argument}={value!r}$"
    with pytest.raises(ValueError, match=expected):
        load_dataset("mnist", **options)


@pytest.mark.parametrize("value_range", [(1.0, 0.0), (0.5, 0.5), (0.0,), "ab", 3.0])
def test_invalid_value_range(value_range, one_image_dir):
    with pytest.raises(ValueError, match=r"lo < hi\. Received: value_range="):
        load_dataset("folder", batch_size=1, value_range=value_range, image_dir=one_image_dir)


@pytest.mark.parametrize(
    "value_range, expected_range, expected_pixel",
    [(None, (0.0, 1.0), 1.0), ((-1, 1), (-1.0, 1.0), 1.0), ((0, 255), (0.0, 255.0), 255.0)],
)
def test_image_value_range(value_range, expected_range, expected_pixel, one_image_dir):
    dataset, info = load_dataset(
        "folder", batch_size=1, value_range=value_range, image_dir=one_image_dir
    )
    assert info.value_range == expected_range
    np.testing.assert_allclose(next(iter(dataset)).numpy(), expected_pixel, rtol=1e-6)


def test_points_ignore_value_range():
    dataset, info = load_dataset("quadratic", batch_size=4, value_range=None)
    assert info.value_range is None
    x, y = next(iter(dataset)).numpy().T
    np.testing.assert_array_equal(y, np.float32(10.0) + x * x)


@pytest.fixture
def digits_npz(tmp_path):
    """A Keras-layout mnist.npz whose train digit i is a constant image of value 20 i."""
    train = (np.arange(10, dtype=np.uint8) * 20)[:, None, None] * np.ones((1, 28, 28), np.uint8)
    test = np.zeros((1, 28, 28), np.uint8)
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=train, y_train=np.arange(10), x_test=test, y_test=np.zeros(1))
    return str(path)


def test_stacked_mnist_is_built_from_the_mnist_split(digits_npz):
    dataset, info = load_dataset(
        "stacked_mnist", batch_size=6, value_range=(-1.0, 1.0), seed=4, mnist_path=digits_npz)
    assert (info.name, info.kind, info.data_shape) == ("stacked_mnist", "image", (28, 28, 3))
    assert info.value_range == (-1.0, 1.0)
    batch = next(iter(dataset)).numpy()
    assert batch.shape == (6, 28, 28, 3) and batch.dtype == np.float32
    # Every channel is one whole train digit 20 d scaled from [0, 255] onto [-1, 1].
    digits = (batch[:, 0, 0, :] + 1.0) / 2.0 * 255.0 / 20.0
    np.testing.assert_allclose(digits, np.round(digits), atol=1e-4)
    assert np.all((digits > -0.5) & (digits < 9.5))
    np.testing.assert_array_equal(batch, batch[:, :1, :1, :] * np.ones((1, 28, 28, 1)))
    # The same stream as stacking the digits directly.
    train = np.load(digits_npz)["x_train"]
    expected, _ = load_stacked_mnist(train, batch_size=6, value_range=(-1.0, 1.0), seed=4)
    np.testing.assert_array_equal(batch, next(iter(expected)).numpy())


def test_stacked_mnist_cannot_be_resized(digits_npz):
    with pytest.raises(ValueError, match=r"Received: image_size=32$"):
        load_dataset("stacked_mnist", batch_size=2, image_size=32, mnist_path=digits_npz)
