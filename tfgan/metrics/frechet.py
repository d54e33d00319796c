"""Fréchet distance between feature distributions (FID with the MNIST classifier's features)."""

import keras
import numpy as np
import tensorflow as tf

from tfgan.metrics.checks import check_features


def feature_moments(features):
    """Returns the mean `[d]` and covariance `[d, d]` (ddof=1) of features `[n, d]`, n >= 2.

    Raises:
        ValueError: `features` is not `[n, d]` with n >= 2.
    """
    features = check_features(features, "features", 2)
    return features.mean(axis=0), np.cov(features, rowvar=False).reshape(features.shape[1], -1)


def frechet_distance_from_moments(mean_a, cov_a, mean_b, cov_b):
    """Fréchet distance between the Gaussians N(mean_a, cov_a) and N(mean_b, cov_b).

    Heusel et al. 2017, "GANs Trained by a Two Time-Scale Update Rule Converge to a Local
    Nash Equilibrium" (https://arxiv.org/abs/1706.08500):

        d^2 = ||mean_a - mean_b||^2 + Tr(cov_a + cov_b - 2 (cov_a cov_b)^(1/2)).

    Tr((cov_a cov_b)^(1/2)) is computed without a general matrix square root: cov_a cov_b has
    the eigenvalues of the symmetric positive semi-definite S cov_b S, S = cov_a^(1/2) (from
    an eigen-decomposition of cov_a), so the trace is the sum of the square roots of that
    matrix's eigenvalues. Eigenvalues that round-off makes slightly negative are clipped to 0.

    Args:
        mean_a: float array `[d]`.
        cov_a: float array `[d, d]`, symmetric positive semi-definite.
        mean_b: float array `[d]`.
        cov_b: float array `[d, d]`, symmetric positive semi-definite.

    Returns:
        float, the squared Fréchet distance d^2 (what "FID" reports), >= 0.

    Raises:
        ValueError: the shapes do not agree.
    """
    mean_a, mean_b = np.asarray(mean_a, "float64"), np.asarray(mean_b, "float64")
    cov_a, cov_b = np.asarray(cov_a, "float64"), np.asarray(cov_b, "float64")
    dim = mean_a.shape[-1] if mean_a.ndim == 1 else -1
    if mean_a.shape != (dim,) or mean_b.shape != (dim,) or cov_a.shape != (dim, dim) \
            or cov_b.shape != (dim, dim):
        raise ValueError(
            "means must be [d] and covariances [d, d] with one d. Received: shapes="
            f"{mean_a.shape}, {cov_a.shape}, {mean_b.shape}, {cov_b.shape}")
    return float(_frechet_distance(mean_a, cov_a, mean_b, cov_b))


def _frechet_distance(mean_a, cov_a, mean_b, cov_b):
    """`frechet_distance_from_moments` on float64 tensors; also runs inside `tf.function`."""
    eigenvalues, eigenvectors = tf.linalg.eigh(cov_a)
    sqrt_a = tf.matmul(eigenvectors * tf.sqrt(tf.maximum(eigenvalues, 0.0)), eigenvectors,
                       transpose_b=True)
    product = tf.matmul(tf.matmul(sqrt_a, cov_b), sqrt_a)
    product = 0.5 * (product + tf.transpose(product))
    trace_sqrt = tf.reduce_sum(tf.sqrt(tf.maximum(tf.linalg.eigvalsh(product), 0.0)))
    mean_term = tf.reduce_sum(tf.square(mean_a - mean_b))
    distance = mean_term + tf.linalg.trace(cov_a) + tf.linalg.trace(cov_b) - 2.0 * trace_sqrt
    return tf.maximum(distance, 0.0)


def frechet_distance(features_a, features_b):
    """Fréchet distance between two sets of features (FID when they are Inception features).

    Fits a Gaussian to each set (mean and ddof=1 covariance) and returns
    `frechet_distance_from_moments` of the two:

        d^2 = ||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2))

    (Heusel et al. 2017, https://arxiv.org/abs/1706.08500). 0 for identical sets; symmetric.

    Args:
        features_a: float array `[n_a, d]`, n_a >= 2.
        features_b: float array `[n_b, d]`, n_b >= 2.

    Returns:
        float, the squared Fréchet distance, >= 0.

    Raises:
        ValueError: a set is not `[n, d]` with n >= 2, or the widths differ.
    """
    mean_a, cov_a = feature_moments(features_a)
    mean_b, cov_b = feature_moments(features_b)
    return frechet_distance_from_moments(mean_a, cov_a, mean_b, cov_b)


@keras.saving.register_keras_serializable(package="tfgan")
class FrechetDistance(keras.metrics.Metric):
    """Streaming Fréchet distance of the features seen so far to fixed reference moments.

    Keeps the count, the sum and the sum of outer products of the features (in float64) and
    reports `frechet_distance_from_moments` of their mean and covariance against the
    reference's, e.g. `feature_moments(classifier features of real test images)`.

    Args:
        reference_mean: float array `[d]`.
        reference_cov: float array `[d, d]`.
        name: str. Defaults to `"frechet_distance"`.
        dtype: the dtype of `result()`. Defaults to `None` (float32).

    Example:

    >>> metric = FrechetDistance(*feature_moments(real_features))
    >>> metric.update_state(fake_features)  # [batch, d], over several batches
    >>> metric.result()
    """

    def __init__(self, reference_mean, reference_cov, name="frechet_distance", dtype=None):
        super().__init__(name=name, dtype=dtype)
        reference_mean = np.asarray(reference_mean, "float64")
        reference_cov = np.asarray(reference_cov, "float64")
        dim = len(reference_mean)
        if reference_mean.shape != (dim,) or reference_cov.shape != (dim, dim):
            raise ValueError(
                "reference_mean must be [d] and reference_cov [d, d]. Received: shapes="
                f"{reference_mean.shape}, {reference_cov.shape}")
        self.reference_mean = reference_mean
        self.reference_cov = reference_cov
        self.count = self.add_variable((), "zeros", dtype="float64", name="count")
        self.feature_sum = self.add_variable((dim,), "zeros", dtype="float64", name="feature_sum")
        self.outer_sum = self.add_variable((dim, dim), "zeros", dtype="float64", name="outer_sum")

    def update_state(self, features, sample_weight=None):
        """Adds a batch of features `[batch, d]`."""
        features = tf.cast(features, "float64")
        self.count.assign_add(tf.cast(tf.shape(features)[0], "float64"))
        self.feature_sum.assign_add(tf.reduce_sum(features, axis=0))
        self.outer_sum.assign_add(tf.matmul(features, features, transpose_a=True))

    def result(self):
        mean = self.feature_sum / tf.maximum(self.count, 1.0)
        scatter = self.outer_sum - self.count * tf.tensordot(mean, mean, axes=0)
        cov = scatter / tf.maximum(self.count - 1.0, 1.0)
        distance = _frechet_distance(
            mean, cov, tf.constant(self.reference_mean), tf.constant(self.reference_cov))
        return tf.cast(distance, self.dtype)

    def get_config(self):
        config = super().get_config()
        config.update({
            "reference_mean": self.reference_mean.tolist(),
            "reference_cov": self.reference_cov.tolist(),
        })
        return config
