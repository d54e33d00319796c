"""Kernel distance (KID): unbiased MMD^2 with a cubic polynomial kernel on features."""

import numpy as np

from tfgan.metrics.checks import check_features, check_same_width


def kernel_distance(features_a, features_b, num_subsets=100, max_subset_size=1000, seed=0):
    """Kernel distance between two sets of features (KID with the MNIST classifier's features).

    Bińkowski et al. 2018, "Demystifying MMD GANs" (https://arxiv.org/abs/1801.01401): the
    unbiased estimate of the squared maximum mean discrepancy with the kernel
    k(x, y) = (x . y / d + 1)^3, on m = min(n_a, n_b, max_subset_size) samples of each set,

        MMD^2_u = sum_{i != j} k(a_i, a_j) / (m (m - 1)) + sum_{i != j} k(b_i, b_j) / (m (m - 1))
                  - 2 sum_{i, j} k(a_i, b_j) / m^2,

    averaged over `num_subsets` random subsets drawn without replacement (as StyleGAN2-ADA's
    `kernel_inception_distance` does). Unlike FID the estimate is unbiased, so it is near 0
    (and can be slightly negative) for two samples of one distribution.

    Args:
        features_a: float array `[n_a, d]`, n_a >= 2.
        features_b: float array `[n_b, d]`, n_b >= 2.
        num_subsets: int >= 1, the number of subset pairs averaged. Defaults to `100`.
        max_subset_size: int >= 2, the largest subset size m. Defaults to `1000`.
        seed: int, seeds the subset draws so a call is reproducible. Defaults to `0`.

    Returns:
        float, the mean MMD^2_u over the subsets.

    Raises:
        ValueError: a set is not `[n, d]` with n >= 2, the widths differ, or `num_subsets`
            or `max_subset_size` is out of range.
    """
    features_a = check_features(features_a, "features_a", 2)
    features_b = check_features(features_b, "features_b", 2)
    check_same_width(features_a, features_b, ("features_a", "features_b"))
    if num_subsets < 1:
        raise ValueError(f"num_subsets must be at least 1. Received: num_subsets={num_subsets}")
    if max_subset_size < 2:
        raise ValueError(
            f"max_subset_size must be at least 2. Received: max_subset_size={max_subset_size}")
    dim = features_a.shape[1]
    size = min(len(features_a), len(features_b), max_subset_size)
    rng = np.random.default_rng(seed)
    total = 0.0
    for _ in range(num_subsets):
        a = features_a[rng.choice(len(features_a), size, replace=False)]
        b = features_b[rng.choice(len(features_b), size, replace=False)]
        k_aa = (a @ a.T / dim + 1.0) ** 3
        k_bb = (b @ b.T / dim + 1.0) ** 3
        k_ab = (a @ b.T / dim + 1.0) ** 3
        within = (k_aa.sum() - np.trace(k_aa) + k_bb.sum() - np.trace(k_bb)) / (size * (size - 1))
        total += within - 2.0 * k_ab.mean()
    return float(total / num_subsets)

