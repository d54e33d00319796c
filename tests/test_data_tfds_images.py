"""Tests for tfgan.data.tfds_images: tfds image data sets read from a prepared data dir."""


import numpy as np
import pytest
import tensorflow_datasets as tfds

from tfgan.data import DatasetUnavailableError, load_dataset
from tfgan.data import tfds_images
from tfgan.data.tfds_images import is_tfds_name
from tfds_fixtures import Connection, reachable, unreachable, write_prepared_tfds


PIXEL_VALUES = np.array([0, 51, 204, 255], np.uint8)


@pytest.fixture(scope="module")
def fashion_dir(tmp_path_factory):
    """A tfds data dir holding a prepared fashion_mnist of four constant images."""
    data_dir = tmp_path_factory.mktemp("tfds")
    images = np.ones((4, 28, 28, 1), np.uint8) * PIXEL_VALUES[:, None, None, None]
    write_prepared_tfds(data_dir, "fashion_mnist", images, labels=range(4))
    return data_dir


def test_prepared_data_set_batches_scaled_images(fashion_dir):
    dataset, info = load_dataset(
        "fashion_mnist", batch_size=4, value_range=(-1.0, 1.0), data_dir=str(fashion_dir)
    )
    assert (info.name, info.kind, info.data_shape) == ("fashion_mnist", "image", (28, 28, 1))
    assert (info.value_range, info.num_examples) == ((-1.0, 1.0), 4)
    assert dataset.element_spec.shape == (4, 28, 28, 1)
    batch = next(iter(dataset)).numpy()
    # One epoch of four constant images: each pixel value once, mapped by v / 127.5 - 1.
    np.testing.assert_allclose(np.sort(batch[:, 0, 0, 0]), [-1.0, -0.6, 0.6, 1.0], atol=1e-6)
    np.testing.assert_array_equal(batch, batch[:, :1, :1, :] * np.ones_like(batch))


def test_a_split_too_large_for_memory_streams_the_same_images(fashion_dir, monkeypatch):
    monkeypatch.setattr(tfds_images, "IN_MEMORY_BYTES", 0)
    dataset, _ = load_dataset(
        "fashion_mnist", batch_size=4, value_range=(-1.0, 1.0), data_dir=str(fashion_dir)
    )
    batch = next(iter(dataset)).numpy()
    np.testing.assert_allclose(np.sort(batch[:, 0, 0, 0]), [-1.0, -0.6, 0.6, 1.0], atol=1e-6)


def test_image_size_resizes_and_split_slices_count(fashion_dir):
    dataset, info = load_dataset(
        "fashion_mnist", batch_size=2, split="train[:2]", image_size=14, data_dir=str(fashion_dir)
    )
    assert info.data_shape == (14, 14, 1)
    assert info.num_examples == 2
    batch = next(iter(dataset)).numpy()
    assert batch.shape == (2, 14, 14, 1)
    np.testing.assert_allclose(np.sort(batch[:, 5, 5, 0]), PIXEL_VALUES[:2] / 255.0, atol=1e-6)


def test_same_seed_same_batches(fashion_dir):
    def first_batches(seed):
        dataset, _ = load_dataset(
            "fashion_mnist", batch_size=1, seed=seed, data_dir=str(fashion_dir)
        )
        return [batch[0, 0, 0, 0] for batch in dataset.take(12).as_numpy_iterator()]

    assert first_batches(3) == first_batches(3)
    assert first_batches(3) != first_batches(4)


def test_download_failure_names_the_data_set_and_data_dir(tmp_path, monkeypatch):
    def fail_download(self, *args, **kwargs):
        raise tfds.download.DownloadError("Failed to get url https://example.invalid")

    reachable(monkeypatch)
    monkeypatch.setattr(tfds.core.DatasetBuilder, "download_and_prepare", fail_download)
    with pytest.raises(DatasetUnavailableError) as error:
        load_dataset("cifar10", batch_size=2, data_dir=str(tmp_path))
    message = str(error.value)
    assert "'cifar10'" in message and "--data_dir" in message and "DownloadError" in message
    assert "--mnist_path" not in message and "\n" not in message
    assert isinstance(error.value.__cause__, tfds.download.DownloadError)


def test_an_unreachable_host_fails_before_any_download_and_writes_nothing(tmp_path,
                                                                         monkeypatch):
    tried = unreachable(monkeypatch)
    monkeypatch.setattr(tfds.core.DatasetBuilder, "download_and_prepare",
                        lambda self, *args, **kwargs: pytest.fail("downloaded"))
    data_dir = tmp_path / "tfds"
    with pytest.raises(DatasetUnavailableError) as error:
        load_dataset("cifar10", batch_size=2, data_dir=str(data_dir))
    assert str(error.value) == (
        "Could not download the tensorflow-datasets data set 'cifar10': cannot reach "
        "www.cs.toronto.edu:443 ([Errno -2] Name or service not known); pass --data_dir=<a "
        "tensorflow-datasets data dir that already holds the prepared cifar10>.")
    assert tried == [("www.cs.toronto.edu", 443)]
    assert not data_dir.exists()


def test_a_failed_download_removes_only_what_it_created(tmp_path, monkeypatch):
    data_dir = tmp_path / "tfds"
    (data_dir / "other").mkdir(parents=True)
    (data_dir / "other" / "kept.txt").write_text("x")
    (data_dir / "downloads").mkdir()

    def partial_download(self, *args, **kwargs):
        (data_dir / "downloads" / "cifar10" / "part.tmp").parent.mkdir(parents=True)
        (data_dir / "downloads" / "cifar10" / "part.tmp").write_text("x")
        (data_dir / "cifar10" / "incomplete.X_3.0.2").mkdir(parents=True)
        (data_dir / "other" / "new.txt").write_text("x")
        raise tfds.download.DownloadError("connection reset")

    reachable(monkeypatch)
    monkeypatch.setattr(tfds.core.DatasetBuilder, "download_and_prepare", partial_download)
    with pytest.raises(DatasetUnavailableError, match="DownloadError"):
        load_dataset("cifar10", batch_size=2, data_dir=str(data_dir))
    left = sorted(str(path.relative_to(data_dir)) for path in data_dir.rglob("*"))
    assert left == ["downloads", "other", "other/kept.txt"]


def test_a_prepared_data_set_needs_no_connection(fashion_dir, monkeypatch):
    unreachable(monkeypatch)
    dataset, _ = load_dataset("fashion_mnist", batch_size=2, data_dir=fashion_dir)
    assert next(iter(dataset)).shape == (2, 28, 28, 1)


@pytest.mark.parametrize("proxy, expected", [
    ("", [("storage.example", 443), ("files.example", 8080)]),
    ("http://proxy.example:3128", [("proxy.example", 3128), ("files.example", 8080)]),
])
def test_check_reachable_connects_to_each_host_or_its_proxy(monkeypatch, proxy, expected):
    for name in ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "no_proxy",
                 "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    if proxy:
        monkeypatch.setenv("https_proxy", proxy)
    tried = []

    def connect(address, timeout):
        tried.append(address)
        return Connection()

    tfds_images.check_reachable(
        ["https://storage.example/a.gz", "https://storage.example/b.gz",
         "http://files.example:8080/c.gz"], "pass --data_dir.", connect=connect)
    assert tried == expected


def test_data_set_without_images_is_rejected(tmp_path):
    with pytest.raises(ValueError, match=r"'image' feature.*Received: name='glue'"):
        load_dataset("glue", batch_size=2, data_dir=str(tmp_path))


def test_images_of_varying_size_need_image_size(tmp_path):
    with pytest.raises(ValueError, match=r"vary in size.*Received: image_size=None"):
        load_dataset("tf_flowers", batch_size=2, data_dir=str(tmp_path))


@pytest.mark.parametrize(
    "name, expected",
    [("cifar10", True), ("cifar10:3.0.2", True), ("mnist/config", True), ("cifar1O", False)],
)
def test_is_tfds_name(name, expected):
    assert is_tfds_name(name) is expected


@pytest.mark.parametrize("in_memory_bytes", [tfds_images.IN_MEMORY_BYTES, 0])
def test_labelled_batches_carry_the_label_feature_and_its_names(
        fashion_dir, monkeypatch, in_memory_bytes):
    monkeypatch.setattr(tfds_images, "IN_MEMORY_BYTES", in_memory_bytes)
    dataset, info = load_dataset("fashion_mnist", batch_size=4, value_range=(0.0, 255.0),
                                 data_dir=str(fashion_dir), labelled=True)
    assert info.class_names[:2] == ("T-shirt/top", "Trouser") and len(info.class_names) == 10
    images, labels = next(iter(dataset))
    # Image k is the constant PIXEL_VALUES[k], written with label k.
    np.testing.assert_allclose(images.numpy()[:, 0, 0, 0], PIXEL_VALUES[labels.numpy()])
