"""Predicted-class histogram and its KL divergence from uniform (mode dropping)."""

import keras
import numpy as np
import tensorflow as tf


def class_histogram(labels, num_classes=10):
    """Fraction of samples given each class.

    Args:
        labels: int array `[n]` of class indices in [0, num_classes), e.g. the argmax of
            the classifier's logits for n generated images.
        num_classes: int >= 1. Defaults to `10`.

    Returns:
        float64 numpy array `[num_classes]` summing to 1.

    Raises:
        ValueError: `labels` is empty, not 1-D, or holds a value outside [0, num_classes).
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or not len(labels):
        raise ValueError(
            f"labels must have shape [n], n >= 1. Received: labels.shape={labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0 \
            or labels.max() >= num_classes:
        raise ValueError(
            f"labels must be ints in [0, {num_classes}). "
            f"Received: labels range=[{labels.min()}, {labels.max()}]")
    return np.bincount(labels, minlength=num_classes) / len(labels)


def kl_from_uniform(histogram):
    """KL divergence of a class histogram from the uniform distribution over its classes.

    Used for mode dropping by Srivastava et al. 2017 (VEEGAN, https://arxiv.org/abs/1705.07761)
    and Lin et al. 2018 (PacGAN, https://arxiv.org/abs/1712.04086) on Stacked MNIST:

        KL(p || u) = sum_c p_c log(p_c K),   u_c = 1 / K,   0 log 0 = 0.

    0 when every class is equally frequent; log K (log 10 = 2.303 for digits) when one class
    takes every sample.

    Args:
        histogram: float array `[K]`, non-negative, summing to 1 (see `class_histogram`).

    Returns:
        float in [0, log K], in nats.

    Raises:
        ValueError: `histogram` is not 1-D, has a negative entry or does not sum to 1.
    """
    histogram = np.asarray(histogram, dtype="float64")
    if histogram.ndim != 1 or histogram.min() < 0 or abs(histogram.sum() - 1.0) > 1e-6:
        raise ValueError(
            "histogram must be a 1-D distribution summing to 1. "
            f"Received: histogram={histogram.tolist()}")
    present = histogram[histogram > 0]
    return float(np.sum(present * np.log(present * len(histogram))))


def class_kl(logits):
    """KL from uniform of the histogram of the classes the classifier predicts.

    `kl_from_uniform(class_histogram(argmax(logits)))`: 0 when the generator makes every
    class equally often, log(num_classes) when it makes one class only.

    Args:
        logits: float array `[n, num_classes]`, the classifier's logits for n samples.

    Returns:
        float in [0, log num_classes].

    Raises:
        ValueError: `logits` is not `[n, num_classes]` with n >= 1.
    """
    logits = np.asarray(logits)
    if logits.ndim != 2 or not len(logits):
        raise ValueError(
            f"logits must have shape [n, num_classes]. Received: logits.shape={logits.shape}")
    return kl_from_uniform(class_histogram(np.argmax(logits, axis=1), logits.shape[1]))


@keras.saving.register_keras_serializable(package="tfgan")
class ClassKL(keras.metrics.Metric):
    """Streaming `class_kl`: counts predicted classes over all batches seen.

    Args:
        num_classes: int, the width of the logits. Defaults to `10`.
        name: str. Defaults to `"class_kl"`.
        dtype: the metric's dtype. Defaults to `None` (float32).

    Example:

    >>> metric = ClassKL()
    >>> metric.update_state(logits)  # [batch, 10] classifier logits of generated images
    >>> metric.result()
    """

    def __init__(self, num_classes=10, name="class_kl", dtype=None):
        super().__init__(name=name, dtype=dtype)
        if num_classes < 2:
            raise ValueError(f"num_classes must be at least 2. Received: num_classes={num_classes}")
        self.num_classes = num_classes
        self.counts = self.add_variable((num_classes,), "zeros", name="counts")

    def update_state(self, logits, sample_weight=None):
        """Adds a batch of logits `[batch, num_classes]`."""
        predicted = tf.one_hot(tf.argmax(logits, axis=-1), self.num_classes, dtype=self.dtype)
        self.counts.assign_add(tf.reduce_sum(predicted, axis=0))

    def result(self):
        histogram = self.counts / tf.maximum(tf.reduce_sum(self.counts), 1.0)
        return tf.reduce_sum(
            tf.math.multiply_no_nan(tf.math.log(histogram * self.num_classes), histogram))

    def get_config(self):
        config = super().get_config()
        config.update({"num_classes": self.num_classes})
        return config
