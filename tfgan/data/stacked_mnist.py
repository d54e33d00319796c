"""Stacked MNIST: three MNIST digits as the three channels of one image, 1000 modes.

Metz et al. 2017 (Unrolled GANs, https://arxiv.org/abs/1611.02163), Srivastava et al. 2017
(VEEGAN, https://arxiv.org/abs/1705.07761) and Lin et al. 2018 (PacGAN,
https://arxiv.org/abs/1712.04086) use it to count modes: each image stacks three digits
drawn independently and uniformly from MNIST, so its class is the 3-digit number
`100 * d0 + 10 * d1 + d2` (channel 0 is the hundreds digit), one of 1000 equally likely modes.

Triples are drawn on the fly with TensorFlow's stateless random ops: batch `k` of
`load_stacked_mnist` depends only on `(seed, k)`, and `stack_mnist(..., n, seed)` is the first
batch of `load_stacked_mnist(..., batch_size=n, seed=seed)` (before scaling).
"""

import numpy as np
import tensorflow as tf

from tfgan.data.pipeline import DatasetInfo, scale_images

NUM_MODES = 1000
STACKED_SHAPE = (28, 28, 3)


def _check_images(images):
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim != 3 or images.shape[1:] != STACKED_SHAPE[:2] or not len(images):
        raise ValueError(
            "images must be MNIST digits [n, 28, 28] or [n, 28, 28, 1], n >= 1. "
            f"Received: images.shape={np.shape(images)}")
    return images


def _batch_seed(seed, step):
    return tf.stack([tf.cast(seed, tf.int64), tf.cast(step, tf.int64)])


def _draw_triples(num_samples, num_images, seed_pair):
    """Indices `[num_samples, 3]` drawn uniformly from `[0, num_images)`."""
    return tf.random.stateless_uniform(
        [num_samples, 3], seed_pair, minval=0, maxval=num_images, dtype=tf.int32)


def _stack(images, indices):
    """`[n, 28, 28]` digits gathered by `[b, 3]` indices -> `[b, 28, 28, 3]`."""
    return tf.transpose(tf.gather(images, indices), [0, 2, 3, 1])


def stack_mnist(images, labels, num_samples, seed=0):
    """Draws Stacked MNIST images and their 3-digit classes as numpy arrays.

    Args:
        images: uint8 array `[n, 28, 28]` or `[n, 28, 28, 1]` of MNIST digits in [0, 255]
            (e.g. from `tfgan.data.load_mnist_arrays`).
        labels: int array `[n]` of the digits' classes in [0, 10).
        num_samples: int >= 1, the number of stacked images.
        seed: int, the same seed gives the same images. Defaults to `0`.

    Returns:
        `(stacked, classes)`: array `[num_samples, 28, 28, 3]` of the input's dtype and
        int64 array `[num_samples]` with values `100 * d0 + 10 * d1 + d2` in [0, 1000).

    Raises:
        ValueError: `images` is not a stack of 28x28 digits, `labels` does not match it, or
            `num_samples` < 1.
    """
    images = _check_images(images)
    labels = np.asarray(labels).astype(np.int64)
    if labels.shape != (len(images),):
        raise ValueError(
            f"labels must have shape ({len(images)},). Received: labels.shape={labels.shape}")
    if labels.min() < 0 or labels.max() > 9:
        raise ValueError(
            "labels must be digits in [0, 10). "
            f"Received: labels range=[{labels.min()}, {labels.max()}]")
    if num_samples < 1:
        raise ValueError(f"num_samples must be at least 1. Received: num_samples={num_samples}")
    indices = _draw_triples(num_samples, len(images), _batch_seed(seed, 0)).numpy()
    classes = labels[indices] @ np.array([100, 10, 1])
    return _stack(images, indices).numpy(), classes


def load_stacked_mnist(images, *, batch_size, value_range=(0.0, 1.0), seed=0):
    """Streams batches of Stacked MNIST images drawn on the fly from MNIST digits.

    Args:
        images: uint8 array `[n, 28, 28]` or `[n, 28, 28, 1]` of MNIST digits in [0, 255].
        batch_size: int, the number of images per batch.
        value_range: `(lo, hi)` tuple of floats the pixels are scaled to. Defaults to
            `(0.0, 1.0)`.
        seed: int, the same seed gives the same batches. Defaults to `0`.

    Returns:
        `(dataset, info)`: an infinite, prefetched `tf.data.Dataset` of float32 batches
        `[batch_size, 28, 28, 3]` and its `DatasetInfo` (kind `"image"`, `num_examples`
        `None`: the n^3 triples are drawn independently, like the toys' points).

    Raises:
        ValueError: `images` is not a stack of 28x28 digits.
    """
    digits = tf.constant(_check_images(images))

    def make_batch(step):
        indices = _draw_triples(batch_size, len(images), _batch_seed(seed, step))
        return scale_images(_stack(digits, indices), value_range)

    dataset = tf.data.Dataset.counter().map(make_batch, num_parallel_calls=tf.data.AUTOTUNE)
    info = DatasetInfo(
        name="stacked_mnist", kind="image", data_shape=STACKED_SHAPE,
        value_range=tuple(value_range), num_examples=None)
    return dataset.prefetch(tf.data.AUTOTUNE), info
