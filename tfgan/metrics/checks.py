"""Argument checks shared by the metric functions."""

import numpy as np


def check_features(features, name, min_rows):
    """Returns `features` as float64 `[n, d]`, raising unless n >= `min_rows`.

    Raises:
        ValueError: `features` is not 2-D or has fewer than `min_rows` rows.
    """
    features = np.asarray(features, dtype="float64")
    if features.ndim != 2 or len(features) < min_rows:
        raise ValueError(
            f"{name} must have shape [n, d] with n >= {min_rows}. "
            f"Received: {name}.shape={features.shape}")
    return features


def check_same_width(features_a, features_b, names):
    """Raises `ValueError` unless two `[n, d]` arrays share d."""
    if features_a.shape[1] != features_b.shape[1]:
        raise ValueError(
            f"{names[0]} and {names[1]} must have the same width. "
            f"Received: widths={features_a.shape[1]}, {features_b.shape[1]}")
