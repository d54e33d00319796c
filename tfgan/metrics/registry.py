"""Metric names -> functions, grouped by the kind of samples they measure.

Every entry is a function `(fake, real) -> dict[str, float]` so a caller can pick metrics by
name (`evaluate_samples(..., metrics=("frechet_distance",))`) and log every value it returns:

- kind `"mnist"`: `fake` and `real` are `tfgan.metrics.evaluate.ImageOutputs` (the
  classifier's logits and features);
- kind `"stacked_mnist"`: `fake` is the int array of predicted 3-digit classes;
- kinds `"ring"`, `"grid"`, `"gaussian_1d"`, `"quadratic"`: `fake` is the float array of
  generated points.

`real` is `None` for every kind but `"mnist"`: the toys' and Stacked MNIST's true
distributions are known.
"""

from tfgan.data.toys import GRID_STD, RING_STD, grid_modes, ring_modes
from tfgan.metrics.class_histogram import class_kl
from tfgan.metrics.classifier_score import classifier_score
from tfgan.metrics.frechet import frechet_distance
from tfgan.metrics.kernel_distance import kernel_distance
from tfgan.metrics.precision_recall import precision_recall
from tfgan.metrics.stacked_mnist import stacked_mnist_coverage
from tfgan.metrics.toy_modes import curve_distance, mode_coverage, moment_error

def _classifier_score(fake, real):
    return {"classifier_score": classifier_score(fake.logits)}


def _frechet_distance(fake, real):
    return {"frechet_distance": frechet_distance(real.features, fake.features)}


def _kernel_distance(fake, real):
    return {"kernel_distance": kernel_distance(real.features, fake.features)}


def _precision_recall(fake, real):
    return precision_recall(real.features, fake.features)._asdict()


def _class_kl(fake, real):
    return {"class_kl": class_kl(fake.logits)}


def _stacked_mnist_coverage(fake, real):
    coverage = stacked_mnist_coverage(fake)
    return {"modes_captured": coverage.modes_captured, "class_kl": coverage.kl}


def _mode_coverage_on(modes, std):
    def metric(fake, real):
        coverage = mode_coverage(fake, modes, std)
        return {"modes_captured": coverage.modes_captured,
                "high_quality_fraction": coverage.high_quality_fraction,
                "reverse_kl": coverage.reverse_kl}
    return metric


def _moment_error(fake, real):
    return moment_error(fake)._asdict()


def _curve_distance(fake, real):
    return {"curve_distance": curve_distance(fake)}


METRICS = {
    "mnist": {
        "classifier_score": _classifier_score,
        "frechet_distance": _frechet_distance,
        "kernel_distance": _kernel_distance,
        "precision_recall": _precision_recall,
        "class_kl": _class_kl,
    },
    "stacked_mnist": {"stacked_mnist_coverage": _stacked_mnist_coverage},
    "ring": {"mode_coverage": _mode_coverage_on(ring_modes(), RING_STD)},
    "grid": {"mode_coverage": _mode_coverage_on(grid_modes(), GRID_STD)},
    "gaussian_1d": {"moment_error": _moment_error},
    "quadratic": {"curve_distance": _curve_distance},
}


def get_metrics(kind, names=None):
    """Returns the metric functions of a kind of samples, by name.

    Args:
        kind: str, one of `METRICS`: `"mnist"`, `"stacked_mnist"`, `"ring"`, `"grid"`,
            `"gaussian_1d"`, `"quadratic"`.
        names: iterable of str, the metrics wanted, or `None` for all of the kind.
            Defaults to `None`.

    Returns:
        dict `{name: function (fake, real) -> dict[str, float]}` in the requested order.

    Raises:
        ValueError: an unknown kind, or a name the kind does not have.
    """
    if kind not in METRICS:
        raise ValueError(f"kind must be one of {tuple(METRICS)}. Received: kind={kind!r}")
    available = METRICS[kind]
    if names is None:
        return dict(available)
    names = tuple(names)
    unknown = [name for name in names if name not in available]
    if unknown or not names:
        raise ValueError(
            f"metrics for kind {kind!r} must be among {tuple(available)}. Received: names={names}")
    return {name: available[name] for name in names}
