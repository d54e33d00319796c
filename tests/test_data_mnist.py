"""Tests for tfgan.data.mnist: Keras npz, idx .gz files, tensorflow-datasets, scaling, errors."""

import gzip
import struct

import numpy as np
import pytest
import tensorflow_datasets as tfds
from tfds_fixtures import reachable, write_prepared_tfds

from tfgan.data import DatasetUnavailableError, load_dataset, load_mnist_arrays
from tfgan.data.mnist import IDX_FILES, read_idx

RNG = np.random.default_rng(0)
X_TRAIN = RNG.integers(0, 256, (5, 28, 28), dtype=np.uint8)
Y_TRAIN = np.array([3, 1, 4, 1, 5], np.uint8)
X_TEST = RNG.integers(0, 256, (3, 28, 28), dtype=np.uint8)
Y_TEST = np.array([9, 2, 6], np.uint8)
# Five constant digits, one per pixel value, to check the scaling of whole batches.
LEVELS = np.array([0, 51, 102, 204, 255], np.uint8)
X_LEVELS = np.ones((5, 28, 28), np.uint8) * LEVELS[:, None, None]


def write_idx(path, array):
    """Writes `array` (uint8) as a gzipped idx file: 0, 0, type 0x08, ndim, big-endian dims."""
    header = struct.pack(f">HBB{array.ndim}I", 0, 0x08, array.ndim, *array.shape)
    with gzip.open(path, "wb") as file:
        file.write(header + array.tobytes())


@pytest.fixture
def npz_path(tmp_path):
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=X_TRAIN, y_train=Y_TRAIN, x_test=X_TEST, y_test=Y_TEST)
    return path


@pytest.fixture
def idx_dir(tmp_path):
    for split, images, labels in (("train", X_TRAIN, Y_TRAIN), ("test", X_TEST, Y_TEST)):
        image_file, label_file = IDX_FILES[split]
        write_idx(tmp_path / image_file, images)
        write_idx(tmp_path / label_file, labels)
    return tmp_path


@pytest.fixture
def levels_npz(tmp_path):
    path = tmp_path / "levels.npz"
    np.savez(path, x_train=X_LEVELS, y_train=np.arange(5), x_test=X_TEST, y_test=Y_TEST)
    return path


@pytest.mark.parametrize("source", ["npz_path", "idx_dir"])
@pytest.mark.parametrize(
    "split, images, labels", [("train", X_TRAIN, Y_TRAIN), ("test", X_TEST, Y_TEST)]
)
def test_local_arrays_round_trip(source, split, images, labels, request):
    x, y = load_mnist_arrays(split, mnist_path=request.getfixturevalue(source))
    assert x.dtype == np.uint8 and x.shape == (len(images), 28, 28, 1)
    assert y.dtype == np.int64
    np.testing.assert_array_equal(x[..., 0], images)
    np.testing.assert_array_equal(y, labels)


def test_read_idx_parses_the_header_dims(tmp_path):
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / "a.gz", array)
    np.testing.assert_array_equal(read_idx(str(tmp_path / "a.gz")), array)


@pytest.mark.parametrize(
    "value_range, expected",
    [((-1.0, 1.0), LEVELS / 127.5 - 1.0), ((0.0, 1.0), LEVELS / 255.0), (None, LEVELS / 255.0)],
)
def test_batches_are_scaled_to_value_range(levels_npz, value_range, expected):
    dataset, info = load_dataset(
        "mnist", batch_size=5, value_range=value_range, mnist_path=levels_npz
    )
    assert info == type(info)("mnist", "image", (28, 28, 1), value_range or (0.0, 1.0), 5)
    assert dataset.element_spec.shape == (5, 28, 28, 1)
    batch = next(iter(dataset)).numpy()
    # One whole epoch in one batch: every level once, each digit constant.
    np.testing.assert_allclose(np.sort(batch[:, 0, 0, 0]), expected, atol=1e-6)
    np.testing.assert_array_equal(batch, batch[:, :1, :1, :] * np.ones_like(batch))


def test_image_size_resizes(levels_npz):
    dataset, info = load_dataset("mnist", batch_size=5, image_size=32, mnist_path=levels_npz)
    assert info.data_shape == (32, 32, 1)
    batch = next(iter(dataset)).numpy()
    np.testing.assert_allclose(np.sort(batch[:, 16, 16, 0]), LEVELS / 255.0, atol=1e-6)


def test_same_seed_same_order(levels_npz):
    def first_levels(seed):
        dataset, _ = load_dataset("mnist", batch_size=1, seed=seed, mnist_path=levels_npz)
        return [batch[0, 0, 0, 0] for batch in dataset.take(15).as_numpy_iterator()]

    levels = first_levels(0)
    assert levels == first_levels(0)
    assert levels != first_levels(1)
    # Repeated forever and reshuffled: each run of five batches is one epoch of the digits.
    for epoch in range(3):
        np.testing.assert_allclose(sorted(levels[5 * epoch : 5 * epoch + 5]), LEVELS / 255.0)


def test_prepared_tfds_data_dir(tmp_path):
    write_prepared_tfds(tmp_path, "mnist", X_TRAIN[..., None], Y_TRAIN)
    x, y = load_mnist_arrays("train", data_dir=str(tmp_path))
    assert x.shape == (5, 28, 28, 1) and y.dtype == np.int64
    # tfds does not promise the order of examples; match them up by label order.
    by_label = np.argsort(y, kind="stable")
    expected_by_label = np.argsort(Y_TRAIN, kind="stable")
    np.testing.assert_array_equal(x[by_label, ..., 0], X_TRAIN[expected_by_label])
    np.testing.assert_array_equal(y[by_label], Y_TRAIN[expected_by_label])


def test_tfds_download_failure_points_at_local_copies(tmp_path, monkeypatch):
    def fail_download(self, *args, **kwargs):
        raise tfds.download.DownloadError("Failed to get url https://example.invalid")

    reachable(monkeypatch)
    monkeypatch.setattr(tfds.core.DatasetBuilder, "download_and_prepare", fail_download)
    with pytest.raises(DatasetUnavailableError) as error:
        load_dataset("mnist", batch_size=2, data_dir=str(tmp_path))
    message = str(error.value)
    assert "'mnist'" in message and "--mnist_path" in message and "--data_dir" in message
    assert "\n" not in message


def test_missing_path(tmp_path):
    with pytest.raises(DatasetUnavailableError, match="does not exist"):
        load_mnist_arrays("train", mnist_path=tmp_path / "nowhere.npz")


def test_corrupt_npz(tmp_path):
    path = tmp_path / "mnist.npz"
    path.write_bytes(b"not a zip file")
    with pytest.raises(DatasetUnavailableError, match="not a readable .npz"):
        load_mnist_arrays("train", mnist_path=path)


def test_npz_without_split_keys(tmp_path):
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=X_TRAIN, y_train=Y_TRAIN)
    with pytest.raises(DatasetUnavailableError, match="lacks x_test/y_test"):
        load_mnist_arrays("test", mnist_path=path)


def test_npz_of_wrong_shape(tmp_path):
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=X_TRAIN[:, :27], y_train=Y_TRAIN)
    with pytest.raises(DatasetUnavailableError, match=r"shape \(5, 27, 28\)"):
        load_mnist_arrays("train", mnist_path=path)


def test_idx_dir_missing_a_file(idx_dir):
    (idx_dir / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DatasetUnavailableError, match="t10k-labels-idx1-ubyte.gz' is missing"):
        load_mnist_arrays("test", mnist_path=idx_dir)


def test_truncated_idx_file(idx_dir):
    path = idx_dir / "train-images-idx3-ubyte.gz"
    with gzip.open(path, "rb") as file:
        data = file.read()
    with gzip.open(path, "wb") as file:
        file.write(data[:-10])
    with pytest.raises(DatasetUnavailableError, match="holds 3910 bytes"):
        load_mnist_arrays("train", mnist_path=idx_dir)


def test_idx_file_without_idx_header(idx_dir):
    with gzip.open(idx_dir / "train-labels-idx1-ubyte.gz", "wb") as file:
        file.write(b"\x01\x02\x03\x04")
    with pytest.raises(DatasetUnavailableError, match="lacks an unsigned-byte idx header"):
        load_mnist_arrays("train", mnist_path=idx_dir)


def test_idx_file_not_gzip(idx_dir):
    (idx_dir / "train-images-idx3-ubyte.gz").write_bytes(b"plain bytes")
    with pytest.raises(DatasetUnavailableError, match="not a readable gzip"):
        load_mnist_arrays("train", mnist_path=idx_dir)


def test_local_files_have_train_and_test_only(npz_path):
    with pytest.raises(ValueError, match="Received: split='validation'"):
        load_mnist_arrays("validation", mnist_path=npz_path)


@pytest.mark.parametrize("source", ["npz_path", "idx_dir"])
def test_labelled_batches_pair_each_digit_with_its_label(source, request):
    dataset, info = load_dataset("mnist", mnist_path=str(request.getfixturevalue(source)),
                                 batch_size=5, value_range=(0.0, 255.0), labelled=True)
    assert info.class_names == tuple("0123456789")
    images, labels = next(iter(dataset))
    assert labels.dtype == "int32"
    for image, label in zip(images.numpy(), labels.numpy()):
        (row,) = np.flatnonzero(np.all(X_TRAIN == image[..., 0], axis=(1, 2)))
        assert label == Y_TRAIN[row]
    unlabelled, _ = load_dataset("mnist", mnist_path=str(request.getfixturevalue(source)),
                                 batch_size=5, value_range=(0.0, 255.0))
    np.testing.assert_array_equal(next(iter(unlabelled)).numpy(), images.numpy())


def test_labelled_tfds_mnist_pairs_each_digit_with_its_label(tmp_path):
    write_prepared_tfds(tmp_path, "mnist", X_TRAIN[..., None], Y_TRAIN)
    dataset, info = load_dataset("mnist", data_dir=str(tmp_path), batch_size=5,
                                 value_range=(0.0, 255.0), labelled=True)
    images, labels = next(iter(dataset))
    for image, label in zip(images.numpy(), labels.numpy()):
        (row,) = np.flatnonzero(np.all(X_TRAIN == image[..., 0], axis=(1, 2)))
        assert label == Y_TRAIN[row]
