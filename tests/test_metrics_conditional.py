import numpy as np
import pytest

from tfgan.metrics import conditional_accuracy, nearest_mode


def test_conditional_accuracy_overall_and_per_class():
    result = conditional_accuracy([0, 1, 1, 2, 2, 0], [0, 1, 2, 2, 2, 1], 4)
    assert result.accuracy == pytest.approx(4 / 6)
    np.testing.assert_allclose(result.per_class[:3], [1.0, 0.5, 2 / 3])
    assert np.isnan(result.per_class[3])  # never requested


@pytest.mark.parametrize("predicted, requested", [([], []), ([0, 1], [0]), ([0], [5])])
def test_conditional_accuracy_refuses_bad_inputs(predicted, requested):
    with pytest.raises(ValueError):
        conditional_accuracy(predicted, requested, 3)


def test_nearest_mode_is_the_closest_centre():
    modes = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 2.0]])
    points = np.array([[0.1, -0.2], [1.9, 0.4], [0.9, 1.2], [5.0, 5.0]])
    np.testing.assert_array_equal(nearest_mode(points, modes), [0, 1, 2, 1])
