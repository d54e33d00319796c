"""Stacked MNIST mode coverage: how many of the 1000 digit triples a generator makes."""

import collections

import numpy as np

from tfgan.metrics.class_histogram import class_histogram, kl_from_uniform
from tfgan.metrics.classifier import classifier_outputs

NUM_MODES = 1000

StackedMnistCoverage = collections.namedtuple("StackedMnistCoverage", ["modes_captured", "kl"])


def stacked_mnist_classes(classifier, images, batch_size=500):
    """Classifies each channel of Stacked MNIST images and returns their 3-digit classes.

    Args:
        classifier: `tfgan.metrics.MnistClassifier`.
        images: float array `[n, 28, 28, 3]` in [0, 1], channel 0 the hundreds digit.
        batch_size: int, digits per forward pass. Defaults to `500`.

    Returns:
        int64 numpy array `[n]`: `100 * d0 + 10 * d1 + d2` with `d_c` the digit the
        classifier predicts for channel c.

    Raises:
        ValueError: `images` is not `[n, 28, 28, 3]` with n >= 1, or lies outside [0, 1].
    """
    images = np.asarray(images, dtype="float32")
    if images.ndim != 4 or images.shape[1:] != (28, 28, 3) or not len(images):
        raise ValueError(
            f"images must have shape [n, 28, 28, 3], n >= 1. Received: images.shape={images.shape}")
    # [n, 28, 28, 3] -> [n * 3, 28, 28, 1], the three channels of image i at rows 3i..3i+2.
    digits = np.transpose(images, (0, 3, 1, 2)).reshape(-1, 28, 28, 1)
    logits, _ = classifier_outputs(classifier, digits, batch_size)
    predicted = np.argmax(logits, axis=1).reshape(-1, 3)
    return predicted @ np.array([100, 10, 1], dtype=np.int64)


def stacked_mnist_coverage(classes):
    """Modes captured out of 1000 and KL from uniform of Stacked MNIST classes.

    The measures of Metz et al. 2017 (https://arxiv.org/abs/1611.02163), Srivastava et al.
    2017 (VEEGAN, https://arxiv.org/abs/1705.07761, 26000 samples) and Lin et al. 2018
    (PacGAN, https://arxiv.org/abs/1712.04086): a mode is captured if at least one sample is
    classified as it, and

        KL(p || u) = sum_c p_c log(1000 p_c)

    compares the histogram p of the predicted classes with the uniform data distribution u
    (0 at best, log 1000 = 6.91 for a single mode).

    Args:
        classes: int array `[n]` in [0, 1000), e.g. from `stacked_mnist_classes`.

    Returns:
        `StackedMnistCoverage(modes_captured, kl)`: an int in [1, 1000] and a float.

    Raises:
        ValueError: `classes` is empty, not 1-D or outside [0, 1000).
    """
    histogram = class_histogram(classes, NUM_MODES)
    return StackedMnistCoverage(int(np.count_nonzero(histogram)), kl_from_uniform(histogram))
