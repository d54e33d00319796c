import numpy as np
import pytest

from tfgan.data.toys import GRID_STD, RING_STD, grid_modes, ring_modes, sample_toy
from tfgan.metrics.toy_modes import (
    ModeCoverage,
    MomentError,
    curve_distance,
    mode_coverage,
    moment_error,
)


def test_samples_on_every_ring_mode_capture_all_eight():
    samples = np.repeat(ring_modes(), 10, axis=0) + 2.0 * RING_STD * np.array([0.6, 0.8])
    coverage = mode_coverage(samples, ring_modes(), RING_STD)
    assert isinstance(coverage, ModeCoverage)
    assert coverage.modes_captured == 8 and coverage.high_quality_fraction == 1.0
    np.testing.assert_array_equal(coverage.mode_counts, np.full(8, 10))


def test_a_collapsed_generator_captures_one_mode():
    samples = np.tile(ring_modes()[3], (100, 1))
    coverage = mode_coverage(samples, ring_modes(), RING_STD)
    assert coverage.modes_captured == 1 and coverage.high_quality_fraction == 1.0
    assert coverage.mode_counts[3] == 100


def test_high_quality_fraction_counts_samples_within_three_std():
    modes = ring_modes()
    on_modes = modes + 2.9 * RING_STD * np.array([1.0, 0.0])  # 2.9 std away: high quality
    off_modes = modes + 3.1 * RING_STD * np.array([0.0, 1.0])  # 3.1 std away: not
    centre = np.zeros((4, 2))  # 2 away from every mode
    coverage = mode_coverage(np.concatenate([on_modes, off_modes, centre]), modes, RING_STD)
    assert coverage.modes_captured == 8
    assert coverage.high_quality_fraction == pytest.approx(8 / 20)


def test_min_samples_ignores_modes_with_too_few_samples():
    modes = ring_modes()
    samples = np.concatenate([np.tile(modes[0], (5, 1)), modes[1:2]])
    assert mode_coverage(samples, modes, RING_STD).modes_captured == 2
    assert mode_coverage(samples, modes, RING_STD, min_samples=2).modes_captured == 1


def test_true_grid_samples_capture_all_modes_with_the_gaussian_hq_fraction():
    # A 2-D isotropic Gaussian puts 1 - exp(-9 / 2) = 98.9% of its mass within 3 std.
    samples = sample_toy("grid", 2500, seed=0)
    coverage = mode_coverage(samples, grid_modes(), GRID_STD)
    assert coverage.modes_captured == 25
    assert coverage.high_quality_fraction == pytest.approx(1 - np.exp(-4.5), abs=0.01)


@pytest.mark.parametrize("kwargs, message", [
    ({"samples": np.zeros((0, 2))}, r"Received: samples.shape=\(0, 2\)"),
    ({"samples": np.zeros((3, 3))}, "Received: widths=3, 2"),
    ({"std": 0.0}, "Received: std=0.0, num_std=3.0"),
    ({"num_std": -1.0}, "Received: std=0.02, num_std=-1.0"),
    ({"min_samples": 0}, "Received: min_samples=0"),
])
def test_mode_coverage_rejects_invalid_arguments(kwargs, message):
    arguments = {"samples": np.zeros((3, 2)), "modes": ring_modes(), "std": RING_STD, **kwargs}
    with pytest.raises(ValueError, match=message):
        mode_coverage(**arguments)


def test_moment_error_hand_computed():
    # mean(3, 5) = 4, std (ddof=0) = 1: errors 0 and 0.5 against N(4, 0.5^2).
    assert moment_error(np.array([[3.0], [5.0]])) == MomentError(0.0, 0.5)
    assert moment_error(np.array([1.0, 1.0]), mean=0.0, std=2.0) == pytest.approx((1.0, 2.0))


def test_moment_error_of_true_samples_is_small():
    error = moment_error(sample_toy("gaussian_1d", 20000, seed=1))
    assert error.mean_error < 0.02 and error.std_error < 0.02


@pytest.mark.parametrize("samples", [np.zeros((4, 2)), np.zeros(0), np.zeros((2, 1, 1))])
def test_moment_error_rejects_non_1d_samples(samples):
    with pytest.raises(ValueError, match="Received: samples.shape="):
        moment_error(samples)


def test_points_on_the_curve_are_at_distance_zero():
    assert curve_distance(sample_toy("quadratic", 500, seed=2)) == pytest.approx(0.0, abs=1e-6)


def test_hand_computed_distances_to_the_curve():
    # Below the vertex (0, 10) the vertex is nearest: (0, 5) is 5 away. Above it, (0, 20) has
    # feet t = +-sqrt(20 - 10 - 1/2): distance sqrt(9.5 + (10 - 9.5)^2) = sqrt(9.75), less
    # than its vertical gap of 10.
    assert curve_distance([[0.0, 5.0]]) == pytest.approx(5.0)
    assert curve_distance([[0.0, 20.0]]) == pytest.approx(np.sqrt(9.75))
    assert curve_distance([[0.0, 5.0], [0.0, 20.0]]) == pytest.approx((5 + np.sqrt(9.75)) / 2)


def test_distance_is_geometric_where_the_curve_is_steep():
    # 0.1 along the outward normal of (40, 1610), where the slope is 80: the vertical gap
    # would be about 8, the distance is 0.1.
    t = 40.0
    normal = np.array([2 * t, -1.0]) / np.hypot(2 * t, 1.0)
    point = np.array([t, 10 + t * t]) + 0.1 * normal
    assert curve_distance(point[None]) == pytest.approx(0.1, rel=1e-6)


@pytest.mark.parametrize("points", [np.zeros((3, 3)), np.zeros((0, 2)), np.zeros(2)])
def test_curve_distance_rejects_non_2d_points(points):
    with pytest.raises(ValueError, match=r"Received: points.shape="):
        curve_distance(points)


def test_reverse_kl_is_that_of_the_high_quality_mode_histogram():
    # High-quality samples 2, 1, 1 on three of the 8 ring modes, one far sample left out:
    # p = (1/2, 1/4, 1/4), KL(p || 1/8) = 1/2 log 4 + 2 * 1/4 log 2 = 1.5 log 2.
    modes = ring_modes()
    samples = np.concatenate([modes[[0, 0, 1, 2]], [[9.0, 9.0]]])
    np.testing.assert_allclose(mode_coverage(samples, modes, RING_STD).reverse_kl,
                               1.5 * np.log(2.0))
    assert mode_coverage(modes, modes, RING_STD).reverse_kl == 0.0
    assert mode_coverage(np.array([[9.0, 9.0]]), modes, RING_STD).reverse_kl == np.inf
