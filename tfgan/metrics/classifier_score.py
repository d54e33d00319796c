"""Classifier score: the Inception Score with an MNIST classifier in place of Inception."""

import keras
import numpy as np
import tensorflow as tf


def _log_softmax(logits):
    logits = np.asarray(logits, dtype="float64")
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def classifier_score(logits, splits=1):
    """Classifier score of generated samples from their classifier logits.

    Salimans et al. 2016, "Improved Techniques for Training GANs"
    (https://arxiv.org/abs/1606.03498), with the MNIST classifier in place of Inception:

        score = exp(E_x KL(p(y|x) || p(y))),   p(y) = E_x p(y|x).

    It is 1 when every sample gets the same prediction and reaches the number of classes
    (10 for MNIST) when every prediction is confident and the classes are equally frequent.
    With `splits > 1` the samples are cut into that many equal consecutive parts, each part
    is scored with its own p(y), and the mean and standard deviation over parts are returned
    (as published Inception Scores are).

    Args:
        logits: float array `[n, num_classes]`, the classifier's logits for n samples.
        splits: int, the number of parts, 1 <= splits <= n. Defaults to `1`.

    Returns:
        float score if `splits == 1`, else a tuple `(mean, std)` of floats over the parts.

    Raises:
        ValueError: `logits` is not 2-D or `splits` is out of range.
    """
    logits = np.asarray(logits, dtype="float64")
    if logits.ndim != 2 or not len(logits):
        raise ValueError(
            f"logits must have shape [n, num_classes]. Received: logits.shape={logits.shape}")
    if not 1 <= splits <= len(logits):
        raise ValueError(f"splits must be in [1, {len(logits)}]. Received: splits={splits}")
    scores = [_score(part) for part in np.array_split(_log_softmax(logits), splits)]
    if splits == 1:
        return scores[0]
    return float(np.mean(scores)), float(np.std(scores))


def _score(log_probs):
    """exp(E_x KL(p(y|x) || p(y))) from log p(y|x) `[n, num_classes]`."""
    probs = np.exp(log_probs)
    log_marginal = np.log(probs.mean(axis=0))
    kl = np.sum(probs * (log_probs - log_marginal), axis=1)
    return float(np.exp(kl.mean()))


@keras.saving.register_keras_serializable(package="tfgan")
class ClassifierScore(keras.metrics.Metric):
    """Streaming classifier score: `classifier_score(logits)` over all batches seen.

    E_x KL(p(y|x) || p(y)) = E_x sum_y p(y|x) log p(y|x) - sum_y p(y) log p(y), so the
    metric keeps the sum of p(y|x), the sum of the negative entropies and the count.

    Args:
        num_classes: int, the width of the logits. Defaults to `10`.
        name: str. Defaults to `"classifier_score"`.
        dtype: the metric's dtype. Defaults to `None` (float32).

    Example:

    >>> metric = ClassifierScore()
    >>> metric.update_state(logits)  # [batch, 10] classifier logits of generated images
    >>> metric.result()
    """

    def __init__(self, num_classes=10, name="classifier_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        if num_classes < 2:
            raise ValueError(f"num_classes must be at least 2. Received: num_classes={num_classes}")
        self.num_classes = num_classes
        self.prob_sum = self.add_variable((num_classes,), "zeros", name="prob_sum")
        self.neg_entropy_sum = self.add_variable((), "zeros", name="neg_entropy_sum")
        self.count = self.add_variable((), "zeros", name="count")

    def update_state(self, logits, sample_weight=None):
        """Adds a batch of logits `[batch, num_classes]`."""
        log_probs = tf.nn.log_softmax(tf.cast(logits, self.dtype), axis=-1)
        probs = tf.exp(log_probs)
        self.prob_sum.assign_add(tf.reduce_sum(probs, axis=0))
        self.neg_entropy_sum.assign_add(tf.reduce_sum(probs * log_probs))
        self.count.assign_add(tf.cast(tf.shape(log_probs)[0], self.dtype))

    def result(self):
        marginal = self.prob_sum / tf.maximum(self.count, 1.0)
        marginal_neg_entropy = tf.reduce_sum(
            tf.math.multiply_no_nan(tf.math.log(marginal), marginal))
        return tf.exp(self.neg_entropy_sum / tf.maximum(self.count, 1.0) - marginal_neg_entropy)

    def get_config(self):
        config = super().get_config()
        config.update({"num_classes": self.num_classes})
        return config
