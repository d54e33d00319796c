import numpy as np
import pytest

from tfgan.metrics.kernel_distance import kernel_distance


def test_hand_computed_value_on_two_points_per_set():
    # d = 1, k(x, y) = (x y + 1)^3; a = {0, 1}, b = {1, 2}; subsets are the whole sets.
    # within a: 2 k(0, 1) / 2 = 1; within b: 2 k(1, 2) / 2 = 27;
    # across: (k(0,1) + k(0,2) + k(1,1) + k(1,2)) / 4 = (1 + 1 + 8 + 27) / 4 = 9.25.
    a, b = np.array([[0.0], [1.0]]), np.array([[1.0], [2.0]])
    assert kernel_distance(a, b, num_subsets=3) == pytest.approx(1.0 + 27.0 - 2.0 * 9.25)


def test_same_distribution_is_near_zero_and_a_shift_is_not():
    # Kernel values here are of order 1 to 8; shifting every feature by 1 gives about 9.
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(400, 8)), rng.normal(size=(400, 8))
    same = kernel_distance(a, b, num_subsets=20, max_subset_size=200)
    shifted = kernel_distance(a, b + 1.0, num_subsets=20, max_subset_size=200)
    assert abs(same) < 0.05
    assert shifted > 5.0


def test_a_set_against_itself_leaves_only_the_diagonal_correction():
    # With whole-set subsets, a = b gives 2 (S - T) / (m (m - 1)) - 2 S / m^2, where S sums
    # the kernel matrix and T its diagonal: slightly negative, since the unbiased estimate
    # leaves out k(x, x) within a set but not across the two sets.
    features = np.random.default_rng(1).normal(size=(30, 8))
    kernel = (features @ features.T / 8 + 1.0) ** 3
    total, diagonal, m = kernel.sum(), np.trace(kernel), len(features)
    expected = 2.0 * (total - diagonal) / (m * (m - 1)) - 2.0 * total / m**2
    assert kernel_distance(features, features, num_subsets=4) == pytest.approx(expected)
    assert -0.5 < expected < 0.0


def test_seed_makes_the_estimate_reproducible():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(50, 4)), rng.normal(0.3, size=(60, 4))
    first = kernel_distance(a, b, num_subsets=5, max_subset_size=20, seed=3)
    assert kernel_distance(a, b, num_subsets=5, max_subset_size=20, seed=3) == first
    assert kernel_distance(a, b, num_subsets=5, max_subset_size=20, seed=4) != first


@pytest.mark.parametrize("kwargs, message", [
    ({"features_a": np.zeros((1, 2))}, r"Received: features_a.shape=\(1, 2\)"),
    ({"features_b": np.zeros((3, 4))}, "Received: widths=2, 4"),
    ({"num_subsets": 0}, "Received: num_subsets=0"),
    ({"max_subset_size": 1}, "Received: max_subset_size=1"),
])
def test_invalid_arguments_raise(kwargs, message):
    arguments = {"features_a": np.zeros((3, 2)), "features_b": np.zeros((3, 2)), **kwargs}
    with pytest.raises(ValueError, match=message):
        kernel_distance(**arguments)
