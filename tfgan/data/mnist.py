"""MNIST digits from tensorflow-datasets, a Keras-layout `mnist.npz` or the original idx files.

Without `mnist_path`, MNIST comes through tensorflow-datasets (downloaded on first use into
`data_dir`). With `mnist_path`, it is read locally from either

- a `mnist.npz` in the layout `keras.datasets.mnist.load_data()` caches: `x_train`
  (60000, 28, 28) uint8, `y_train` (60000,), `x_test` (10000, 28, 28) uint8, `y_test` (10000,);
- a directory holding LeCun's four gzipped idx files (`IDX_FILES`).
"""

import gzip
import os
import struct
import zipfile

import numpy as np
import tensorflow_datasets as tfds

from tfgan.data.pipeline import DatasetInfo, DatasetUnavailableError, batch_arrays
from tfgan.data.tfds_images import prepare_builder

MNIST_SHAPE = (28, 28, 1)
IDX_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
IDX_UNSIGNED_BYTE = 0x08
LOCAL_SPLITS = tuple(IDX_FILES)
MNIST_PATH_HELP = "a Keras-layout mnist.npz or a folder with the four MNIST idx .gz files"
HOW_TO_FIX = (
    f"pass --mnist_path=<{MNIST_PATH_HELP}> (or set MNIST_PATH) or --data_dir=<a "
    f"tensorflow-datasets data dir that already holds the prepared mnist>."
)


def read_idx(path):
    """Reads one gzipped idx file (the format of LeCun's MNIST files) of unsigned bytes.

    The header is two zero bytes, the type code `0x08` (unsigned byte), the number of
    dimensions, then each dimension as a big-endian uint32; the data follow.

    Args:
        path: str, a `.gz` idx file.

    Returns:
        uint8 numpy array shaped as the header says.

    Raises:
        DatasetUnavailableError: if the file is missing, not gzip, or not a complete idx file
            of unsigned bytes.
    """
    try:
        with gzip.open(path, "rb") as file:
            data = file.read()
    except FileNotFoundError as error:
        raise DatasetUnavailableError(f"MNIST idx file {path!r} is missing.") from error
    except (OSError, EOFError) as error:
        raise DatasetUnavailableError(
            f"MNIST idx file {path!r} is not a readable gzip file."
        ) from error
    if len(data) < 4 or data[:2] != b"\0\0" or data[2] != IDX_UNSIGNED_BYTE:
        raise DatasetUnavailableError(
            f"MNIST idx file {path!r} lacks an unsigned-byte idx header."
        )
    header_size = 4 + 4 * data[3]
    if len(data) < header_size:
        raise DatasetUnavailableError(f"MNIST idx file {path!r} has a truncated header.")
    dims = struct.unpack(f">{data[3]}I", data[4:header_size])
    values = np.frombuffer(data, np.uint8, offset=header_size)
    if values.size != int(np.prod(dims)):
        raise DatasetUnavailableError(
            f"MNIST idx file {path!r} holds {values.size} bytes of data; its header {dims} needs "
            f"{int(np.prod(dims))}."
        )
    return values.reshape(dims)


def _read_idx_split(directory, split):
    image_file, label_file = IDX_FILES[split]
    return (
        read_idx(os.path.join(directory, image_file)),
        read_idx(os.path.join(directory, label_file)),
    )


def _read_npz_split(path, split):
    try:
        with np.load(path) as arrays:
            return arrays[f"x_{split}"], arrays[f"y_{split}"]
    except KeyError as error:
        raise DatasetUnavailableError(
            f"--mnist_path {path!r} lacks x_{split}/y_{split}; expected {MNIST_PATH_HELP}."
        ) from error
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise DatasetUnavailableError(
            f"--mnist_path {path!r} is not a readable .npz file; expected {MNIST_PATH_HELP}."
        ) from error


def _read_local_split(mnist_path, split):
    if split not in LOCAL_SPLITS:
        raise ValueError(
            f"A local --mnist_path holds the splits {LOCAL_SPLITS}. Received: split={split!r}"
        )
    if not os.path.exists(mnist_path):
        raise DatasetUnavailableError(
            f"--mnist_path {mnist_path!r} does not exist; expected {MNIST_PATH_HELP}."
        )
    if os.path.isdir(mnist_path):
        images, labels = _read_idx_split(mnist_path, split)
    else:
        images, labels = _read_npz_split(mnist_path, split)
    if images.dtype != np.uint8 or images.shape[1:] not in (MNIST_SHAPE[:2], MNIST_SHAPE):
        raise DatasetUnavailableError(
            f"--mnist_path {mnist_path!r} holds {split} images of shape {images.shape} and dtype "
            f"{images.dtype}; expected uint8 [n, 28, 28]."
        )
    if labels.shape != images.shape[:1]:
        raise DatasetUnavailableError(
            f"--mnist_path {mnist_path!r} holds {len(images)} {split} images but labels of "
            f"shape {labels.shape}."
        )
    return images, labels


def load_mnist_arrays(split, mnist_path=None, data_dir=None):
    """Reads one MNIST split into memory.

    Args:
        split: str, `"train"` or `"test"`; through tensorflow-datasets any tfds split
            (`"train[:1000]"`).
        mnist_path: str or `None`, a Keras-layout `mnist.npz` or a directory with the four
            idx `.gz` files. Defaults to `None` (use tensorflow-datasets).
        data_dir: str or `None`, the tfds data directory, used when `mnist_path` is `None`.
            Defaults to `None` (tfds's default, `~/tensorflow_datasets`).

    Returns:
        `(images, labels)`: uint8 numpy array `[n, 28, 28, 1]` with values in [0, 255] and
        int64 numpy array `[n]`.

    Raises:
        ValueError: if `mnist_path` is given and `split` is not `"train"` or `"test"`.
        DatasetUnavailableError: if `mnist_path` is missing or corrupt, or tensorflow-datasets
            cannot download MNIST.
    """
    if mnist_path is not None:
        images, labels = _read_local_split(os.fspath(mnist_path), split)
    else:
        builder = prepare_builder(tfds.builder("mnist", data_dir=data_dir), HOW_TO_FIX)
        arrays = tfds.as_numpy(builder.as_dataset(split=split, batch_size=-1))
        images, labels = arrays["image"], arrays["label"]
    return images.reshape((-1, *MNIST_SHAPE)), labels.astype(np.int64)


CLASS_NAMES = tuple(str(digit) for digit in range(10))


def load_mnist(
    *, batch_size, value_range, seed=0, split="train", mnist_path=None, data_dir=None,
    image_size=None, labelled=False,
):
    """Streams batches of MNIST digits, held in memory.

    Args:
        batch_size: int, the number of images per batch.
        value_range: `(lo, hi)` tuple of floats the pixels are scaled to.
        seed: int, the shuffle seed. Defaults to `0`.
        split: str, see `load_mnist_arrays`. Defaults to `"train"`.
        mnist_path: str or `None`, see `load_mnist_arrays`. Defaults to `None`.
        data_dir: str or `None`, see `load_mnist_arrays`. Defaults to `None`.
        image_size: int or `None`, resize the digits to `image_size x image_size`. Defaults
            to `None` (28 x 28).
        labelled: bool, yield `(images, labels)` with each digit's int32 label. Defaults to
            `False`.

    Returns:
        `(dataset, info)`: an infinite `tf.data.Dataset` of float32 batches
        `[batch_size, H, W, 1]` (with `labelled`, `(images, labels)`) and its `DatasetInfo`
        (kind `"image"`; with `labelled`, `class_names` `"0"` to `"9"`).

    Raises:
        ValueError, DatasetUnavailableError: see `load_mnist_arrays`.
    """
    images, labels = load_mnist_arrays(split, mnist_path=mnist_path, data_dir=data_dir)
    size = MNIST_SHAPE[0] if image_size is None else image_size
    image_shape = (size, size, MNIST_SHAPE[2])
    dataset = batch_arrays(
        images,
        image_shape=image_shape,
        batch_size=batch_size,
        value_range=value_range,
        seed=seed,
        labels=labels if labelled else None,
    )
    info = DatasetInfo(
        name="mnist",
        kind="image",
        data_shape=image_shape,
        value_range=value_range,
        num_examples=len(images),
        class_names=CLASS_NAMES if labelled else None,
    )
    return dataset, info
