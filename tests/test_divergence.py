"""Tests for tfgan.divergence: which losses and weights count as diverged."""

import keras
import numpy as np
import pytest

from tfgan import divergence


@pytest.mark.parametrize("logs, bound, expected", [
    ({"d_loss": 0.7, "g_loss": 1.3}, 1e6, None),
    ({"d_loss": 9.4e16, "g_loss": 1.3}, 1e6, "d_loss is 9.4e+16 (past the divergence bound 1e+06)"),
    ({"d_loss": 0.7, "g_loss": float("nan")}, 1e6, "g_loss is nan (past the divergence bound 1e+06)"),
    ({"d_loss": -float("inf")}, 0.0, "d_loss is -inf (past the divergence bound 0)"),
    ({"d_loss": 9.4e16}, 0.0, None),  # bound 0: only NaN and infinity count
    ({"d_real": 5e6}, 1e6, None),  # not a loss that is checked
])
def test_diverged_loss(logs, bound, expected):
    assert divergence.diverged_loss(logs, ("d_loss", "g_loss"), bound) == expected


def test_diverged_weight_names_the_first_weight_past_the_bound():
    small = keras.Variable(np.ones((2, 2)), name="small")
    large = keras.Variable(np.array([1.0, -1.2e12]), name="large")
    assert divergence.diverged_weight([small], 1e6) is None
    assert divergence.diverged_weight([small, large], 1e6) == (
        "weight large reaches 1.2e+12 (divergence bound 1e+06)")
    assert divergence.diverged_weight([large], 0.0) is None
    large.assign([np.nan, 0.0])
    assert divergence.diverged_weight([large], 0.0) == "weight large reaches nan (divergence bound 0)"
