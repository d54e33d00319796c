"""Images from a directory: every .png, .jpg and .jpeg file under it, at any depth.

Labelled (class-conditional training), the directory holds one sub-directory per class, and
the class names are the sub-directories' names in sorted order, as
`keras.utils.image_dataset_from_directory` reads them.
"""

import os

import tensorflow as tf

from tfgan.data.pipeline import DatasetInfo, batch_images

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")


def list_images(image_dir):
    """Returns the sorted paths of the image files under `image_dir`, searched recursively.

    Args:
        image_dir: str, a directory.

    Returns:
        list of str, the files whose extension (any case) is in `IMAGE_EXTENSIONS`.
    """
    return sorted(
        os.path.join(root, file_name)
        for root, _, file_names in os.walk(image_dir)
        for file_name in file_names
        if file_name.lower().endswith(IMAGE_EXTENSIONS)
    )


def _decode(path, channels):
    return tf.io.decode_image(
        tf.io.read_file(path), channels=channels, dtype=tf.uint8, expand_animations=False
    )


def class_folders(image_dir):
    """The sorted names of the sub-directories of `image_dir` that hold images (the classes).

    Args:
        image_dir: str, a directory.

    Returns:
        tuple of str.
    """
    return tuple(sorted(entry.name for entry in os.scandir(image_dir)
                        if entry.is_dir() and list_images(entry.path)))


def load_folder(
    *, image_dir, batch_size, value_range, seed=0, image_size=None, shuffle_buffer=10000,
    labelled=False,
):
    """Streams batches of the images in a directory, decoded with `tf.io`.

    The first image (in sorted path order) fixes the output: its height and width unless
    `image_size` is given, and its channels, grey (1; also grey with alpha) or RGB (3; also
    RGBA, whose alpha is dropped). Every image is converted to those channels and resized.

    Args:
        image_dir: str, a directory holding `.png`, `.jpg` or `.jpeg` files, at any depth.
        batch_size: int, the number of images per batch.
        value_range: `(lo, hi)` tuple of floats the pixels are scaled to.
        seed: int, the shuffle seed. Defaults to `0`.
        image_size: int or `None`, resize images to `image_size x image_size`. Defaults to
            `None` (the first image's size).
        shuffle_buffer: int, the number of files the shuffle draws from. Defaults to `10000`.
        labelled: bool, yield `(images, labels)`: label k for the images of the k-th class
            sub-directory (`class_folders`); images directly in `image_dir` are then refused.
            Defaults to `False`.

    Returns:
        `(dataset, info)`: an infinite `tf.data.Dataset` of float32 batches
        `[batch_size, H, W, C]` (with `labelled`, `(images, int32 labels)`) and its
        `DatasetInfo` (kind `"image"`, name `"folder"`, `class_names` the sub-directories).

    Raises:
        ValueError: if `image_dir` is not a directory or holds no image files; with
            `labelled`, if it has fewer than two class sub-directories or images outside them.
    """
    if image_dir is None or not os.path.isdir(image_dir):
        raise ValueError(
            f"image_dir must be an existing directory of {'/'.join(IMAGE_EXTENSIONS)} images. "
            f"Received: image_dir={image_dir!r}"
        )
    paths = list_images(image_dir)
    if not paths:
        raise ValueError(
            f"image_dir holds no {'/'.join(IMAGE_EXTENSIONS)} images. "
            f"Received: image_dir={image_dir!r}"
        )
    class_names = None
    examples = tf.data.Dataset.from_tensor_slices(paths)
    if labelled:
        class_names = class_folders(image_dir)
        outside = [path for path in paths
                   if os.path.relpath(path, image_dir).split(os.sep)[0] not in class_names]
        if len(class_names) < 2 or outside:
            raise ValueError(
                "A labelled image_dir holds one sub-directory of images per class, at least "
                f"two, and no images outside them. Received: image_dir={image_dir!r} with "
                f"classes {list(class_names)} and {len(outside)} images outside them")
        labels = [class_names.index(os.path.relpath(path, image_dir).split(os.sep)[0])
                  for path in paths]
        examples = tf.data.Dataset.from_tensor_slices((paths, labels))
    height, width, first_channels = _decode(paths[0], channels=0).shape
    channels = 1 if first_channels in (1, 2) else 3
    if image_size is not None:
        height = width = image_size
    image_shape = (height, width, channels)
    dataset = batch_images(
        examples,
        labelled=labelled,
        decode=lambda path: _decode(path, channels),
        image_shape=image_shape,
        batch_size=batch_size,
        value_range=value_range,
        seed=seed,
        shuffle_buffer=shuffle_buffer,
    )
    info = DatasetInfo(
        name="folder",
        kind="image",
        data_shape=image_shape,
        value_range=value_range,
        num_examples=len(paths),
        class_names=class_names,
    )
    return dataset, info
