"""Tests for tfgan.data.folder: image directories decoded with tf.io."""

import numpy as np
import pytest
import tensorflow as tf

from tfgan.data import load_dataset
from tfgan.data.folder import list_images

LEVELS = np.array([0, 102, 255], np.uint8)


def write_png(path, value, height, width, channels):
    path.parent.mkdir(parents=True, exist_ok=True)
    image = np.full((height, width, channels), value, np.uint8)
    path.write_bytes(tf.io.encode_png(image).numpy())


@pytest.fixture
def rgb_dir(tmp_path):
    """Three constant 6x4 RGB images at different depths, and files that are not images."""
    write_png(tmp_path / "a.png", LEVELS[0], 6, 4, 3)
    write_png(tmp_path / "sub" / "b.PNG", LEVELS[1], 6, 4, 3)
    write_png(tmp_path / "sub" / "deeper" / "c.png", LEVELS[2], 6, 4, 3)
    (tmp_path / "notes.txt").write_text("not an image")
    return tmp_path


def test_list_images_is_recursive_sorted_and_skips_other_files(rgb_dir, tmp_path):
    jpeg = tmp_path / "sub" / "d.jpeg"
    jpeg.write_bytes(tf.io.encode_jpeg(np.zeros((6, 4, 3), np.uint8)).numpy())
    assert list_images(str(rgb_dir)) == [
        str(rgb_dir / "a.png"),
        str(rgb_dir / "sub" / "b.PNG"),
        str(rgb_dir / "sub" / "d.jpeg"),
        str(rgb_dir / "sub" / "deeper" / "c.png"),
    ]


def test_batches_keep_the_first_image_shape_and_scale(rgb_dir):
    dataset, info = load_dataset(
        "folder", batch_size=3, value_range=(-1.0, 1.0), image_dir=str(rgb_dir)
    )
    assert (info.name, info.kind, info.data_shape, info.num_examples) == (
        "folder", "image", (6, 4, 3), 3
    )
    assert dataset.element_spec.shape == (3, 6, 4, 3)
    batch = next(iter(dataset)).numpy()
    np.testing.assert_allclose(np.sort(batch[:, 0, 0, 0]), LEVELS / 127.5 - 1.0, atol=1e-6)
    np.testing.assert_array_equal(batch, batch[:, :1, :1, :1] * np.ones_like(batch))


def test_image_size_resizes_every_image(rgb_dir):
    write_png(rgb_dir / "z_big.png", LEVELS[1], 12, 12, 3)
    dataset, info = load_dataset("folder", batch_size=4, image_size=8, image_dir=str(rgb_dir))
    assert info.data_shape == (8, 8, 3)
    batch = next(iter(dataset)).numpy()
    assert batch.shape == (4, 8, 8, 3)
    np.testing.assert_allclose(
        np.sort(batch[:, 3, 3, 0]), np.sort(np.append(LEVELS, LEVELS[1])) / 255.0, atol=1e-5
    )


def test_grey_first_image_makes_grey_batches(tmp_path):
    write_png(tmp_path / "a.png", 51, 5, 5, 1)
    write_png(tmp_path / "b.png", 204, 10, 10, 3)
    dataset, info = load_dataset("folder", batch_size=2, image_dir=str(tmp_path))
    assert info.data_shape == (5, 5, 1)
    batch = next(iter(dataset)).numpy()
    # The RGB image is converted to grey and resized to the first image's 5x5.
    np.testing.assert_allclose(np.sort(batch[:, 2, 2, 0]), [0.2, 0.8], atol=1e-2)


def test_same_seed_same_order(rgb_dir):
    def first_values(seed):
        dataset, _ = load_dataset("folder", batch_size=1, seed=seed, image_dir=str(rgb_dir))
        return [batch[0, 0, 0, 0] for batch in dataset.take(12).as_numpy_iterator()]

    assert first_values(5) == first_values(5)
    assert first_values(5) != first_values(6)


def test_folder_without_images(tmp_path):
    (tmp_path / "notes.txt").write_text("not an image")
    with pytest.raises(ValueError, match=r"no \.png/\.jpg/\.jpeg images\. Received: image_dir="):
        load_dataset("folder", batch_size=2, image_dir=str(tmp_path))


@pytest.mark.parametrize("image_dir", [None, "/nonexistent/tfgan-images"])
def test_missing_folder(image_dir):
    with pytest.raises(ValueError, match=f"existing directory.*Received: image_dir={image_dir!r}"):
        load_dataset("folder", batch_size=2, image_dir=image_dir)


def test_labelled_folder_takes_its_classes_from_the_sub_folder_names(tmp_path):
    for name, value in (("cat", 10), ("dog", 200), ("bird", 90)):
        for index in range(2):
            write_png(tmp_path / name / f"{index}.png", value, 4, 4, 1)
    dataset, info = load_dataset("folder", image_dir=str(tmp_path), batch_size=6, seed=0,
                                 value_range=(0.0, 255.0), labelled=True)
    assert info.class_names == ("bird", "cat", "dog")
    images, labels = next(iter(dataset))
    assert labels.dtype == tf.int32 and images.shape == (6, 4, 4, 1)
    value_of_class = {0: 90, 1: 10, 2: 200}
    for image, label in zip(images.numpy(), labels.numpy()):
        np.testing.assert_allclose(image, value_of_class[label], atol=1e-3)
    assert sorted(labels.numpy().tolist()) == [0, 0, 1, 1, 2, 2]


def test_labelled_folder_refuses_images_outside_the_class_folders(rgb_dir):
    with pytest.raises(ValueError, match=r"one sub-directory of images per class"):
        load_dataset("folder", image_dir=str(rgb_dir), batch_size=2, labelled=True)
