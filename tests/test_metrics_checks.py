import numpy as np
import pytest

from tfgan.metrics.checks import check_features, check_same_width


def test_check_features_returns_float64_rows():
    features = check_features([[1, 2], [3, 4]], "x", 2)
    assert features.dtype == np.float64 and features.shape == (2, 2)


@pytest.mark.parametrize("features, message", [
    (np.zeros((1, 3)), r"x must have shape \[n, d\] with n >= 2. Received: x.shape=\(1, 3\)"),
    (np.zeros(3), r"Received: x.shape=\(3,\)"),
])
def test_check_features_rejects_too_few_rows_or_wrong_rank(features, message):
    with pytest.raises(ValueError, match=message):
        check_features(features, "x", 2)


def test_check_same_width():
    check_same_width(np.zeros((2, 3)), np.zeros((5, 3)), ("a", "b"))
    with pytest.raises(ValueError, match="a and b must have the same width. Received: widths=3, 4"):
        check_same_width(np.zeros((2, 3)), np.zeros((2, 4)), ("a", "b"))
