import keras
import numpy as np
import pytest

from tfgan.metrics.frechet import (
    FrechetDistance,
    feature_moments,
    frechet_distance,
    frechet_distance_from_moments,
)


def _with_exact_moments(mean, cov, n=200, seed=0):
    """Samples whose sample mean and (ddof=1) covariance are exactly `mean` and `cov`."""
    x = np.random.default_rng(seed).normal(size=(n, len(mean)))
    x -= x.mean(axis=0)
    whitened = x @ np.linalg.inv(np.linalg.cholesky(np.cov(x, rowvar=False))).T
    return whitened @ np.linalg.cholesky(cov).T + mean


def test_feature_moments_are_mean_and_unbiased_covariance():
    features = np.array([[0.0, 1.0], [2.0, 1.0], [4.0, 4.0]])
    mean, cov = feature_moments(features)
    np.testing.assert_allclose(mean, [2.0, 2.0])
    np.testing.assert_allclose(cov, [[4.0, 3.0], [3.0, 3.0]])


def test_identical_sets_are_at_distance_zero():
    features = np.random.default_rng(1).normal(size=(300, 16))
    assert frechet_distance(features, features) == pytest.approx(0.0, abs=1e-8)


def test_two_known_diagonal_gaussians_match_the_closed_form():
    # d^2 = ||m_a - m_b||^2 + sum_i (sqrt(s_a,i) - sqrt(s_b,i))^2 for diagonal covariances.
    mean_a, var_a = np.array([0.0, 1.0, -2.0]), np.array([1.0, 4.0, 9.0])
    mean_b, var_b = np.array([1.0, 1.0, 0.0]), np.array([4.0, 1.0, 9.0])
    a = _with_exact_moments(mean_a, np.diag(var_a), seed=2)
    b = _with_exact_moments(mean_b, np.diag(var_b), seed=3)
    expected = 1.0 + 4.0 + (1.0 + 1.0 + 0.0)
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-9)


def test_a_shared_rotation_does_not_change_the_distance():
    angle = 0.7
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    cov_a = rotation @ np.diag([1.0, 9.0]) @ rotation.T
    cov_b = rotation @ np.diag([4.0, 1.0]) @ rotation.T
    distance = frechet_distance_from_moments(np.zeros(2), cov_a, np.zeros(2), cov_b)
    assert distance == pytest.approx((1.0 - 2.0) ** 2 + (3.0 - 1.0) ** 2)


def test_non_commuting_covariances_match_the_eigenvalues_of_the_product():
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(5, 5)), rng.normal(size=(5, 5))
    cov_a, cov_b = x @ x.T, y @ y.T
    trace_sqrt = np.sum(np.sqrt(np.linalg.eigvals(cov_a @ cov_b).real))
    expected = 1.0 + np.trace(cov_a) + np.trace(cov_b) - 2.0 * trace_sqrt
    distance = frechet_distance_from_moments(np.zeros(5), cov_a, np.eye(5)[0], cov_b)
    assert distance == pytest.approx(expected, rel=1e-9)


def test_is_symmetric():
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=(100, 4)), rng.normal(1.0, 2.0, size=(80, 4))
    assert frechet_distance(a, b) == pytest.approx(frechet_distance(b, a), rel=1e-9)


def test_rank_deficient_covariances_give_a_finite_non_negative_distance():
    # 3 samples in 10 dimensions: covariances of rank 2 whose round-off eigenvalues go negative.
    rng = np.random.default_rng(6)
    a, b = rng.normal(size=(3, 10)), rng.normal(size=(3, 10))
    assert np.isfinite(frechet_distance(a, b)) and frechet_distance(a, b) > 0.0
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-7)


@pytest.mark.parametrize("features_a, features_b, message", [
    (np.zeros((1, 3)), np.zeros((4, 3)), r"Received: features.shape=\(1, 3\)"),
    (np.zeros(4), np.zeros((4, 3)), r"Received: features.shape=\(4,\)"),
    (np.zeros((4, 2)), np.zeros((4, 3)), r"Received: shapes=\(2,\), \(2, 2\), \(3,\), \(3, 3\)"),
])
def test_invalid_features_raise(features_a, features_b, message):
    with pytest.raises(ValueError, match=message):
        frechet_distance(features_a, features_b)


def test_keras_metric_matches_the_function_across_batches():
    rng = np.random.default_rng(7)
    real, fake = rng.normal(size=(200, 6)), rng.normal(0.5, 1.5, size=(120, 6))
    metric = FrechetDistance(*feature_moments(real))
    for batch in np.split(fake, 3):
        metric.update_state(batch)
    assert float(metric.result()) == pytest.approx(frechet_distance(real, fake), rel=1e-5)
    metric.reset_state()
    metric.update_state(real)
    assert float(metric.result()) == pytest.approx(0.0, abs=1e-5)


def test_keras_metric_config_round_trip_and_validation():
    metric = FrechetDistance(np.zeros(2), np.eye(2), name="fid")
    clone = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(metric))
    assert isinstance(clone, FrechetDistance) and clone.name == "fid"
    np.testing.assert_array_equal(clone.reference_cov, np.eye(2))
    with pytest.raises(ValueError, match=r"Received: shapes=\(2,\), \(3, 3\)"):
        FrechetDistance(np.zeros(2), np.eye(3))
