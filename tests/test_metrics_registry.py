import numpy as np
import pytest

from tfgan.data.toys import ring_modes, sample_toy
from tfgan.metrics.registry import METRICS, get_metrics


def test_every_kind_lists_its_metrics():
    assert set(METRICS) == {"mnist", "stacked_mnist", "ring", "grid", "gaussian_1d", "quadratic"}
    assert tuple(METRICS["mnist"]) == (
        "classifier_score", "frechet_distance", "kernel_distance", "precision_recall", "class_kl")


def test_get_metrics_returns_all_or_the_named_ones_in_order():
    assert get_metrics("ring") == METRICS["ring"]
    picked = get_metrics("mnist", ["class_kl", "classifier_score"])
    assert list(picked) == ["class_kl", "classifier_score"]


def test_toy_entries_return_named_values():
    ring = get_metrics("ring")["mode_coverage"](np.repeat(ring_modes(), 2, axis=0), None)
    assert ring == {"modes_captured": 8, "high_quality_fraction": 1.0, "reverse_kl": 0.0}
    grid = get_metrics("grid")["mode_coverage"](sample_toy("grid", 2500, seed=0), None)
    assert grid["modes_captured"] == 25
    moments = get_metrics("gaussian_1d")["moment_error"](np.array([[3.0], [5.0]]), None)
    assert moments == {"mean_error": 0.0, "std_error": 0.5}
    curve = get_metrics("quadratic")["curve_distance"](np.array([[0.0, 5.0]]), None)
    assert curve == {"curve_distance": pytest.approx(5.0)}
    stacked = get_metrics("stacked_mnist")["stacked_mnist_coverage"](np.arange(1000), None)
    assert stacked == {"modes_captured": 1000, "class_kl": pytest.approx(0.0, abs=1e-12)}


@pytest.mark.parametrize("kind, names, message", [
    ("cifar", None, "Received: kind='cifar'"),
    ("ring", ["frechet_distance"], r"Received: names=\('frechet_distance',\)"),
    ("mnist", [], r"Received: names=\(\)"),
])
def test_unknown_kinds_and_names_raise(kind, names, message):
    with pytest.raises(ValueError, match=message):
        get_metrics(kind, names)
