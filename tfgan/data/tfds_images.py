"""Image data sets from tensorflow-datasets (fashion_mnist, cifar10, ...).

tensorflow-datasets downloads and prepares a data set on first use. Where no dataset hub is
reachable, point `data_dir` at a tfds data directory that already holds the prepared data set
(e.g. one copied from a machine that could download it).

Offline, tfds retries each file ten times with back-off (about 3.5 minutes for MNIST) and
leaves partial files behind; `prepare_builder` first connects to every host the data set's
files come from (a few seconds at most), and removes whatever a failed download created.
"""

import contextlib
import os
import shutil
import socket
import urllib.parse
import urllib.request

import numpy as np
import tensorflow_datasets as tfds

from tfgan.data.pipeline import DatasetInfo, DatasetUnavailableError, batch_arrays, batch_images

# A split with at most this many bytes of pixels is decoded once and held in memory.
IN_MEMORY_BYTES = 2**30


def is_tfds_name(name):
    """Returns whether `name` (optionally `name/config:version`) names a tfds builder."""
    base_name = name.split(":")[0].split("/")[0]
    return base_name in tfds.list_builders()


CONNECT_TIMEOUT_SECONDS = 5.0
_DEFAULT_PORTS = {"http": 80, "https": 443, "ftp": 21}
# How deep below the data directory `_removed_on_failure` looks for what a download created.
_SNAPSHOT_DEPTH = 3


def _endpoints(urls):
    """The `(host, port)` to connect to for each URL: its proxy's when one applies."""
    proxies = urllib.request.getproxies()
    endpoints = []
    for url in urls:
        parts = urllib.parse.urlsplit(url)
        if not parts.hostname:
            continue
        proxy = proxies.get(parts.scheme)
        if proxy and not urllib.request.proxy_bypass(parts.hostname):
            parts = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        endpoint = (parts.hostname, parts.port or _DEFAULT_PORTS.get(parts.scheme, 443))
        if endpoint not in endpoints:
            endpoints.append(endpoint)
    return endpoints


def check_reachable(urls, how_to_fix, connect=None, timeout=CONNECT_TIMEOUT_SECONDS):
    """Connects once to each host `urls` are downloaded from (or to the proxy that applies).

    Args:
        urls: iterable of str, download URLs.
        how_to_fix: str, the end of the error message.
        connect: callable like `socket.create_connection(address, timeout)`, or `None` for
            `socket.create_connection`. Defaults to `None`.
        timeout: float, seconds per connection. Defaults to `5`.

    Raises:
        DatasetUnavailableError: naming the first host that cannot be reached.
    """
    connect = connect or socket.create_connection
    for host, port in _endpoints(urls):
        try:
            connect((host, port), timeout).close()
        except OSError as error:
            reason = " ".join(str(error).split()) or type(error).__name__
            raise DatasetUnavailableError(
                f"cannot reach {host}:{port} ({reason}); {how_to_fix}") from error


def _entries(root):
    """Every path below `root` down to `_SNAPSHOT_DEPTH` levels."""
    found = set()
    level = [root]
    for _ in range(_SNAPSHOT_DEPTH):
        next_level = []
        for directory in level:
            try:
                names = os.listdir(directory)
            except OSError:  # not a directory, or gone
                continue
            for name in names:
                path = os.path.join(directory, name)
                found.add(path)
                next_level.append(path)
        level = next_level
    return found


@contextlib.contextmanager
def _removed_on_failure(root):
    """Removes what the block created below `root` (or `root` itself) if the block raises."""
    root = os.fspath(root)
    existed = os.path.exists(root)
    before = _entries(root) if existed else set()
    try:
        yield
    except BaseException:
        if not existed:
            shutil.rmtree(root, ignore_errors=True)
        else:
            # The topmost new paths only: their parents were there before.
            for path in sorted(_entries(root) - before):
                if os.path.dirname(path) == root or os.path.dirname(path) in before:
                    if os.path.isdir(path) and not os.path.islink(path):
                        shutil.rmtree(path, ignore_errors=True)
                    elif os.path.lexists(path):
                        os.remove(path)
        raise


def prepare_builder(builder, how_to_fix, connect=None):
    """Makes sure a tfds builder's data are prepared, downloading them if needed.

    An unprepared data set's download hosts are connected to first (`check_reachable`), so
    an offline machine fails in seconds; a download that fails later leaves nothing behind
    in the data directory.

    Args:
        builder: `tfds.core.DatasetBuilder`.
        how_to_fix: str, the end of the error message: which flag points at a local copy.
        connect: callable or `None`, see `check_reachable`. Defaults to `None`.

    Returns:
        `builder`, prepared.

    Raises:
        DatasetUnavailableError: if a host cannot be reached, or the download or the
            preparation fails (any error, chained as the cause: downloads fail in many ways).
    """
    if builder.is_prepared():
        return builder
    where = f"the tensorflow-datasets data set {builder.name!r}"
    try:
        check_reachable(builder.url_infos or (), how_to_fix, connect)
    except DatasetUnavailableError as error:
        raise DatasetUnavailableError(f"Could not download {where}: {error}") from error
    try:
        with _removed_on_failure(builder.data_dir_root):
            builder.download_and_prepare()
    except Exception as error:
        raise DatasetUnavailableError(
            f"Could not download or prepare {where} ({type(error).__name__}); {how_to_fix}"
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
    shuffle_buffer=10000, labelled=False,
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
        labelled: bool, yield `(images, labels)` from the data set's `"label"` class
            feature; its names become `class_names`. Defaults to `False`.

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
    class_names = None
    if labelled:
        features = builder.info.features
        label = features["label"] if "label" in features else None
        if not isinstance(label, tfds.features.ClassLabel):
            raise ValueError(
                f"A labelled tensorflow-datasets data set needs a 'label' class feature; this "
                f"one has {sorted(builder.info.features)}. Received: name={name!r}")
        class_names = tuple(label.names)
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
        arrays = tfds.as_numpy(builder.as_dataset(split=split, batch_size=-1))
        dataset = batch_arrays(arrays["image"], image_shape=image_shape, batch_size=batch_size,
                               value_range=value_range, seed=seed,
                               labels=arrays["label"] if labelled else None)
    else:
        examples = builder.as_dataset(split=split, shuffle_files=False)
        if labelled:
            examples = examples.map(lambda example: (example["image"], example["label"]))
        dataset = batch_images(
            examples,
            labelled=labelled,
            decode=None if labelled else (lambda example: example["image"]),
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
        class_names=class_names,
    )
    return dataset, info
