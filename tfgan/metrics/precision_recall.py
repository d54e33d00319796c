"""Improved precision and recall: k-nearest-neighbour estimates of the two manifolds."""

import collections

import numpy as np

from tfgan.metrics.checks import check_features, check_same_width

PrecisionRecall = collections.namedtuple("PrecisionRecall", ["precision", "recall"])
# The neighbour that sets each ball's radius, the paper's: each set needs more points.
NEIGHBOURS = 3


def precision_recall(real_features, fake_features, k=NEIGHBOURS, batch_size=1000):
    """Precision and recall of generated features against real ones.

    Kynkäänniemi et al. 2019, "Improved Precision and Recall Metric for Assessing Generative
    Models" (https://arxiv.org/abs/1904.06991). Each set's manifold is the union of balls
    around its points, each ball reaching the point's k-th nearest neighbour in its own set:

        f(x, S) = 1 if ||x - s|| <= ||s - NN_k(s, S)|| for some s in S, else 0,
        precision = mean over fake x of f(x, real),   recall = mean over real x of f(x, fake).

    Precision is the fraction of generated samples that look real (fidelity); recall is the
    fraction of real samples the generator covers (diversity). A generator that repeats one
    realistic image has precision near 1 and recall near 0.

    Args:
        real_features: float array `[n_real, d]`, n_real > k.
        fake_features: float array `[n_fake, d]`, n_fake > k.
        k: int >= 1, the neighbour that sets each ball's radius. Defaults to `3` (the paper's).
        batch_size: int, rows of the distance matrix computed at once (memory only).
            Defaults to `1000`.

    Returns:
        `PrecisionRecall(precision, recall)` of floats in [0, 1].

    Raises:
        ValueError: `k` < 1, a set is not `[n, d]` with n > k, or the widths differ.
    """
    real, fake = _checked(real_features, fake_features, k)
    real_radii = _kth_neighbour_distances(real, k, batch_size)
    fake_radii = _kth_neighbour_distances(fake, k, batch_size)
    precision = float(np.mean(_inside(fake, real, real_radii, batch_size)))
    recall = float(np.mean(_inside(real, fake, fake_radii, batch_size)))
    return PrecisionRecall(precision, recall)


def recall_misses(real_features, fake_features, k=NEIGHBOURS, batch_size=1000):
    """Which real samples the generated ones miss: recall's failures, to look at.

    Args:
        real_features: float array `[n_real, d]`, n_real > k.
        fake_features: float array `[n_fake, d]`, n_fake > k.
        k: int >= 1, as `precision_recall`'s. Defaults to `3`.
        batch_size: int, rows of the distance matrix computed at once. Defaults to `1000`.

    Returns:
        bool array `[n_real]`: True where a real sample lies in no generated sample's ball
        (its mean is `1 - recall`).

    Raises:
        ValueError: as `precision_recall`.
    """
    real, fake = _checked(real_features, fake_features, k)
    return ~_inside(real, fake, _kth_neighbour_distances(fake, k, batch_size), batch_size)


def _checked(real_features, fake_features, k):
    if k < 1:
        raise ValueError(f"k must be at least 1. Received: k={k}")
    real = check_features(real_features, "real_features", k + 1)
    fake = check_features(fake_features, "fake_features", k + 1)
    check_same_width(real, fake, ("real_features", "fake_features"))
    return real, fake


def _squared_distances(x, y):
    """Squared Euclidean distances `[len(x), len(y)]`, clipped at 0 against round-off."""
    squared = (x * x).sum(axis=1)[:, None] + (y * y).sum(axis=1)[None, :] - 2.0 * x @ y.T
    return np.maximum(squared, 0.0)


def _kth_neighbour_distances(points, k, batch_size):
    """Squared distance from each point to its k-th nearest other point of the same set."""
    radii = []
    for start in range(0, len(points), batch_size):
        squared = _squared_distances(points[start:start + batch_size], points)
        # Index 0 of each sorted row is the point itself (distance 0).
        radii.append(np.partition(squared, k, axis=1)[:, k])
    return np.concatenate(radii)


def _inside(queries, centres, squared_radii, batch_size):
    """bool `[len(queries)]`: each query inside at least one ball (centre, radius)."""
    return np.concatenate([
        np.any(_squared_distances(queries[start:start + batch_size], centres)
               <= squared_radii[None, :], axis=1)
        for start in range(0, len(queries), batch_size)])
