"""`evaluate_samples`: every metric of a kind of samples, from raw generator output."""

import collections
import functools

import numpy as np

from tfgan.metrics.classifier import classifier_outputs, load_classifier
from tfgan.metrics.registry import get_metrics
from tfgan.metrics.stacked_mnist import stacked_mnist_classes

ImageOutputs = collections.namedtuple("ImageOutputs", ["logits", "features"])


@functools.lru_cache(maxsize=1)
def default_classifier():
    """Returns the committed `MnistClassifier`, loaded once per process."""
    return load_classifier()


def to_unit_range(images, value_range=(0.0, 1.0)):
    """Maps images onto [0, 1], the classifier's input range.

    Args:
        images: uint8 array (read as [0, 255] whatever `value_range` says) or float array
            with values in `value_range`.
        value_range: `(lo, hi)` tuple of floats of float images, e.g. `(-1.0, 1.0)` for a tanh
            generator. Defaults to `(0.0, 1.0)`.

    Returns:
        float32 numpy array of the same shape in [0, 1] (clipped against round-off).

    Raises:
        ValueError: `value_range` is not an increasing pair.
    """
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images.astype("float32") / 255.0
    low, high = (float(bound) for bound in value_range)
    if not low < high:
        raise ValueError(f"value_range must satisfy lo < hi. Received: value_range={value_range}")
    return np.clip((images.astype("float32") - low) / (high - low), 0.0, 1.0)


def image_outputs(images, classifier=None, value_range=(0.0, 1.0)):
    """Classifier logits and features of MNIST-like images, the inputs of the image metrics.

    Compute them once for the real images and pass them as `reference` to
    `evaluate_samples` at every evaluation.

    Args:
        images: uint8 `[n, 28, 28, 1]` in [0, 255] or float in `value_range`.
        classifier: `MnistClassifier`. Defaults to `None` (the committed one).
        value_range: `(lo, hi)` of float images. Defaults to `(0.0, 1.0)`.

    Returns:
        `ImageOutputs(logits [n, 10], features [n, 128])` of float64 numpy arrays.

    Raises:
        ValueError: `images` is not `[n, 28, 28, 1]`.
    """
    classifier = classifier if classifier is not None else default_classifier()
    return ImageOutputs(*classifier_outputs(classifier, to_unit_range(images, value_range)))


def evaluate_samples(samples, kind, reference=None, classifier=None, value_range=(0.0, 1.0),
                     metrics=None, progress_fn=None):
    """Measures generated samples with the metrics of their kind.

    Args:
        samples: generator output: images `[n, 28, 28, 1]` (`"mnist"`) or `[n, 28, 28, 3]`
            (`"stacked_mnist"`) in `value_range`; points `[n, 2]` (`"ring"`, `"grid"`,
            `"quadratic"`) or `[n, 1]` (`"gaussian_1d"`) in data units.
        kind: str, one of `tfgan.metrics.registry.METRICS`.
        reference: for `"mnist"` only (required there): real images (uint8 in [0, 255] or
            float in `value_range`) or their `ImageOutputs` from `image_outputs`.
            Defaults to `None`.
        classifier: `MnistClassifier` for the image kinds. Defaults to `None` (the committed
            one).
        value_range: `(lo, hi)` of float images. Defaults to `(0.0, 1.0)`.
        metrics: iterable of metric names of the kind, or `None` for all. Defaults to `None`.
        progress_fn: callable taking one str, told each stage before it runs (the classifier
            pass, then each metric), or `None`. Defaults to `None`.

    Returns:
        dict `{value name: float or int}`, e.g. `{"classifier_score": 9.7,
        "frechet_distance": 1.2, "kernel_distance": 0.001, "precision": 0.8, "recall": 0.8,
        "class_kl": 0.01}` for `"mnist"` or `{"modes_captured": 8,
        "high_quality_fraction": 0.99}` for `"ring"`.

    Raises:
        ValueError: an unknown kind or metric, `"mnist"` without `reference`, or samples of
            the wrong shape.
    """
    functions = get_metrics(kind, metrics)
    progress = progress_fn or (lambda stage: None)
    fake, real = judged_samples(samples, kind, reference, classifier, value_range, progress)
    return measure(fake, real, functions, progress)


def judged_samples(samples, kind, reference=None, classifier=None, value_range=(0.0, 1.0),
                   progress_fn=None):
    """`(fake, real)`: what the metrics of `kind` read of generated and real samples.

    `"mnist"`: the classifier's `ImageOutputs` of both; `"stacked_mnist"`: the predicted
    3-digit classes of the samples and `None`; the toys: the points as float64 and `None`.
    Arguments as `evaluate_samples`'.
    """
    progress = progress_fn or (lambda stage: None)
    if kind == "mnist":
        if reference is None:
            raise ValueError("kind 'mnist' needs real reference images. Received: reference=None")
        progress(f"classifier features of {len(samples)} samples")
        fake = image_outputs(samples, classifier, value_range)
        if not isinstance(reference, ImageOutputs):
            reference = image_outputs(reference, classifier, value_range)
        return fake, reference
    if kind == "stacked_mnist":
        classifier = classifier if classifier is not None else default_classifier()
        progress(f"classifier predictions of {len(samples)} samples")
        return stacked_mnist_classes(classifier, to_unit_range(samples, value_range)), None
    return np.asarray(samples, dtype="float64"), None


def measure(fake, real, functions, progress_fn=None):
    """Runs metric `functions` (`get_metrics`' dict) on judged samples; merges their values."""
    results = {}
    for name, function in functions.items():
        if progress_fn is not None:
            progress_fn(name)
        results.update(function(fake, real))
    return results
