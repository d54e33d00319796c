"""Image data sets from tensorflow-datasets (fashion_mnist, cifar10, ...).

tensorflow-datasets downloads and prepares a data set on first use. Where no dataset hub is
reachable, point `data_dir` at a tfds data directory that already holds the prepared data set
(e.g. one copied from a machine that could download it).
"""

import numpy as np
import tensorflow_datasets as tfds

from tfgan.data.pipeline import DatasetInfo, DatasetUnavailableError, batch_arrays, batch_images

# A split with at most this many bytes of pixels is decoded once and held in memory.
IN_MEMORY_BYTES = 2**30


def is_tfds_name(name):
    """Returns whether `name` (optionally `name/config:version`) names a tfds builder."""
    base_name = name.split(":")[0].split("/")[0]
    return base_name in tfds.list_builders()


def prepare_builder(builder, how_to_fix):
    """Makes sure a tfds builder's data are prepared, downloading them if needed.

    Args:
        builder: `tfds.core.DatasetBuilder`.
        how_to_fix: str, the end of the error message: which flag points at a local copy.

    Returns:
        `builder`, prepared.

    Raises:
        DatasetUnavailableError: if the download or the preparation fails (any error, chained
            as the cause: downloads fail in many ways).
    """
    try:
        builder.download_and_prepare()
    except Exception as error:
        raise DatasetUnavailableError(
            f"Could not download or prepare the tensorflow-datasets data set "
            f"{builder.name!r} ({type(error).__name__}); {how_to_fix}"
        ) from error
    return builder


def _image_shape(name, image_feature_shape, image_size):
    height, width, channels = image_feature_shape
    if image_size is not None:
        return (image_size, image_size, channels)
    if height is None or width is None:
        raise ValueError(
            f"The images of {name!r} vary in size; pass image_size to resize them. "
            f"Received: image_size={image_size!r}"
        )
    return (height, width, channels)


def load_tfds_images(
    name, *, batch_size, value_range, seed=0, split="train", data_dir=None, image_size=None,
    shuffle_buffer=10000,
):
    """Streams batches of images from a tensorflow-datasets image data set.

    Args:
        name: str, a tfds builder name with an `"image"` feature, optionally with
            `/config:version` (e.g. `"fashion_mnist"`, `"cifar10:3.0.2"`).
        batch_size: int, the number of images per batch.
        value_range: `(lo, hi)` tuple of floats the pixels are scaled to.
        seed: int, the shuffle seed. Defaults to `0`.
        split: str, a tfds split, slices allowed (`"train[:10%]"`). Defaults to `"train"`.
        data_dir: str or `None`, the tfds data directory. Defaults to `None` (tfds's default,
            `~/tensorflow_datasets`).
        image_size: int or `None`, resize images to `image_size x image_size`. Defaults to
            `None` (keep the data set's size).
        shuffle_buffer: int, the number of examples the shuffle draws from when the split is
            too large to hold in memory (over `IN_MEMORY_BYTES` of pixels); a smaller split is
            decoded once and fully reshuffled every epoch (`batch_arrays`). Defaults to
            `10000`.

    Returns:
        `(dataset, info)`: an infinite `tf.data.Dataset` of float32 batches
        `[batch_size, H, W, C]` and its `DatasetInfo` (kind `"image"`).

    Raises:
        ValueError: if the data set has no `"image"` feature, or its images vary in size and
            `image_size` is `None`.
        DatasetUnavailableError: if the data set is not in `data_dir` and cannot be
            downloaded.
    """
    builder = tfds.builder(name, data_dir=data_dir)
    if "image" not in builder.info.features:
        raise ValueError(
            f"tfgan trains on tensorflow-datasets data sets with an 'image' feature; this one "
            f"has {sorted(builder.info.features)}. Received: name={name!r}"
        )
    image_shape = _image_shape(name, builder.info.features["image"].shape, image_size)
    prepare_builder(
        builder,
        f"pass --data_dir=<a tensorflow-datasets data dir that already holds the prepared "
        f"{builder.name}>.",
    )
    num_examples = builder.info.splits[split].num_examples
    stored_shape = builder.info.features["image"].shape
    if None not in stored_shape and num_examples * np.prod(stored_shape) <= IN_MEMORY_BYTES:
        # Small data sets (MNIST-like, CIFAR) are decoded once and batched from memory.
        images = tfds.as_numpy(builder.as_dataset(split=split, batch_size=-1))["image"]
        dataset = batch_arrays(images, image_shape=image_shape, batch_size=batch_size,
                               value_range=value_range, seed=seed)
    else:
        dataset = batch_images(
            builder.as_dataset(split=split, shuffle_files=False),
            decode=lambda example: example["image"],
            image_shape=image_shape,
            batch_size=batch_size,
            value_range=value_range,
            seed=seed,
            shuffle_buffer=shuffle_buffer,
        )
    info = DatasetInfo(
        name=name,
        kind="image",
        data_shape=image_shape,
        value_range=value_range,
        num_examples=num_examples,
    )
    return dataset, info
