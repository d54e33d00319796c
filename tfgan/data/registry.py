"""`load_dataset`: one entry point that picks the pipeline for a data set name."""

import tensorflow_datasets as tfds

from tfgan.data import folder, mnist, stacked_mnist, tfds_images, toys

DATASETS = (*toys.TOYS, "mnist", "stacked_mnist", "folder")
DEFAULT_IMAGE_RANGE = (0.0, 1.0)


def dataset_names():
    """Returns every name `load_dataset` accepts.

    Returns:
        tuple of str: `DATASETS` (the toys, `"mnist"`, `"stacked_mnist"`, `"folder"`), then the
        tensorflow-datasets builder names (only those with an `"image"` feature load).
    """
    # `set`: tfds lists a builder twice once its module has been imported (e.g. tf_flowers).
    return DATASETS + tuple(sorted(set(tfds.list_builders()) - set(DATASETS)))


def _check_positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int. Received: {name}={value!r}")


def _image_range(value_range):
    if value_range is None:
        return DEFAULT_IMAGE_RANGE
    try:
        low, high = (float(bound) for bound in value_range)
        valid = low < high
    except (TypeError, ValueError):
        valid = False
    if not valid:
        raise ValueError(
            f"value_range must be a (lo, hi) pair of numbers with lo < hi. "
            f"Received: value_range={value_range!r}"
        )
    return (low, high)


def load_dataset(
    name, *, batch_size, value_range=DEFAULT_IMAGE_RANGE, seed=0, split="train", data_dir=None,
    mnist_path=None, image_dir=None, image_size=None, shuffle_buffer=10000, labelled=False,
):
    """Builds the training input pipeline of a data set.

    Toys are infinite streams of independent points; image data sets are shuffled (seeded,
    reshuffled every epoch) and repeated forever. Arguments that do not apply to the chosen
    data set are ignored.

    Args:
        name: str, a toy (`"quadratic"`, `"gaussian_1d"`, `"two_curves"`, `"ring"`,
            `"grid"`), `"mnist"`, `"stacked_mnist"` (three MNIST digits of `split` as the
            channels of one image, see `tfgan.data.stacked_mnist`), `"folder"`, or the name of
            a tensorflow-datasets image data set (`"fashion_mnist"`, `"cifar10"`, ...).
        batch_size: int, the number of examples per batch.
        value_range: `(lo, hi)` tuple of floats that image pixels [0, 255] are mapped onto,
            e.g. `(-1.0, 1.0)` for a tanh generator; `None` means `(0.0, 1.0)`. Points ignore
            it. Defaults to `(0.0, 1.0)`.
        seed: int, the same seed gives the same batches. Defaults to `0`.
        split: str, the split of an image data set. Defaults to `"train"`.
        data_dir: str or `None`, the tensorflow-datasets data directory. Defaults to `None`.
        mnist_path: str or `None`, a local MNIST (`mnist.npz` or a folder of idx `.gz` files)
            for `"mnist"` and `"stacked_mnist"`. Defaults to `None`.
        image_dir: str or `None`, the image directory of `"folder"`. Defaults to `None`.
        image_size: int or `None`, resize images to `image_size x image_size`. Defaults to
            `None` (keep the data set's size).
        shuffle_buffer: int, the number of examples the shuffle draws from, for data sets
            streamed from files (`"folder"`, tensorflow-datasets); MNIST is held in memory and
            fully reshuffled every epoch. Defaults to `10000`.
        labelled: bool, yield `(samples, labels)` for class-conditional training: MNIST's
            digits, a tensorflow-datasets set's `"label"`, `"folder"`'s class
            sub-directories, the mode of a `"ring"` or `"grid"` point. `info.class_names`
            names the labels. Defaults to `False`.

    Returns:
        `(dataset, info)`: an infinite, prefetched `tf.data.Dataset` of float32 batches
        `[batch_size, *info.data_shape]` (static shape), with `labelled` paired with int32
        labels `[batch_size]`, and its `DatasetInfo`.

    Raises:
        ValueError: for an unknown name or an invalid argument, or `labelled` for a data set
            without labels (`"stacked_mnist"`, the curves and the 1-D Gaussian).
        DatasetUnavailableError: if the data can neither be read locally nor downloaded.

    Example:

    >>> dataset, info = load_dataset("ring", batch_size=64, seed=1)
    >>> info.data_shape
    (2,)
    """
    _check_positive_int("batch_size", batch_size)
    _check_positive_int("shuffle_buffer", shuffle_buffer)
    if image_size is not None:
        _check_positive_int("image_size", image_size)
    if name in toys.TOYS:
        return toys.load_toy(name, batch_size=batch_size, seed=seed, labelled=labelled)
    image_options = dict(
        batch_size=batch_size,
        value_range=_image_range(value_range),
        seed=seed,
        image_size=image_size,
    )
    if name == "mnist":
        return mnist.load_mnist(
            split=split, mnist_path=mnist_path, data_dir=data_dir, labelled=labelled,
            **image_options
        )
    if name == "stacked_mnist":
        if labelled:
            raise ValueError("stacked_mnist has no class labels (each image is three digits). "
                             f"Received: labelled={labelled}")
        if image_size is not None:
            raise ValueError(
                f"stacked_mnist images are 28x28; it cannot be resized. "
                f"Received: image_size={image_size}")
        images, _ = mnist.load_mnist_arrays(split, mnist_path=mnist_path, data_dir=data_dir)
        return stacked_mnist.load_stacked_mnist(
            images, batch_size=batch_size, value_range=image_options["value_range"], seed=seed)
    if name == "folder":
        return folder.load_folder(image_dir=image_dir, shuffle_buffer=shuffle_buffer,
                                  labelled=labelled, **image_options)
    if isinstance(name, str) and tfds_images.is_tfds_name(name):
        return tfds_images.load_tfds_images(name, split=split, data_dir=data_dir,
                                            shuffle_buffer=shuffle_buffer, labelled=labelled,
                                            **image_options)
    raise ValueError(
        f"Unknown dataset; expected one of {DATASETS} or a tensorflow-datasets image data set "
        f"such as 'fashion_mnist' or 'cifar10'. Received: name={name!r}"
    )
