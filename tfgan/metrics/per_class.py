"""A conditional generator measured per class: asked for class k, does it make class k, and how
well does it cover class k?

`evaluate_per_class` scores samples generated for known labels three ways:

- the class-balanced mixture with every metric of the data set (`evaluate_samples`), as an
  unconditional generator is scored (ask for `tfgan.labels.balanced_labels`);
- `conditional_accuracy`: the judge (the committed MNIST classifier; for the ring and the
  grid, the nearest mode) agrees with the requested label, overall and per class;
- every metric of the data set on the samples of each class alone, against the real samples
  of that class (MNIST: per-class FID, precision and recall against that digit's test
  images). An AC-GAN can reach 100 % conditional accuracy with little diversity within a class
  (Kang et al. 2021, ReACGAN); the per-class FID and recall show it.
"""

import numpy as np

from tfgan.data.toys import grid_modes, ring_modes
from tfgan.metrics.conditional import conditional_accuracy
from tfgan.metrics.evaluate import ImageOutputs, judged_samples, measure
from tfgan.metrics.registry import get_metrics
from tfgan.metrics.toy_modes import nearest_mode

# The judges of the kinds that have classes: judged fake samples -> predicted classes.
_JUDGES = {
    "mnist": lambda fake: np.argmax(fake.logits, axis=1),
    "ring": lambda fake: nearest_mode(fake, ring_modes()),
    "grid": lambda fake: nearest_mode(fake, grid_modes()),
}
CONDITIONAL_KINDS = tuple(_JUDGES)


def _rows(judged, mask):
    if judged is None:
        return None
    if isinstance(judged, ImageOutputs):
        return ImageOutputs(judged.logits[mask], judged.features[mask])
    return judged[mask]


def evaluate_per_class(samples, labels, kind, class_names, reference=None,
                       reference_labels=None, classifier=None, value_range=(0.0, 1.0),
                       progress_fn=None):
    """Measures samples of a conditional generator: mixture, conditional accuracy, per class.

    Args:
        samples: generator output for `labels`, as `evaluate_samples` takes it.
        labels: int array `[n]`, the class each sample was asked for.
        kind: str, one of `CONDITIONAL_KINDS` (`"mnist"`, `"ring"`, `"grid"`).
        class_names: sequence of str, the name of each class (keys of the per-class values).
        reference: `"mnist"` only: real images or their `ImageOutputs`. Defaults to `None`.
        reference_labels: `"mnist"` only: int array, the real images' labels. Defaults to
            `None`.
        classifier: `MnistClassifier` or `None` (the committed one). Defaults to `None`.
        value_range: `(lo, hi)` of float images. Defaults to `(0.0, 1.0)`.
        progress_fn: callable taking one str per stage, or `None`. Defaults to `None`.

    Returns:
        dict `{name: float}`: the mixture's metrics under their own names,
        `conditional_accuracy`, then for each class `c` `class <c> conditional_accuracy` and
        `class <c> <metric>` for every metric of the kind.

    Raises:
        ValueError: `kind` has no judge, the labels do not match the samples, or `"mnist"`
            without `reference` and `reference_labels`.
    """
    if kind not in _JUDGES:
        raise ValueError(f"Per-class metrics need a kind with classes, one of "
                         f"{CONDITIONAL_KINDS}. Received: kind={kind!r}")
    labels = np.asarray(labels).reshape(-1)
    if len(labels) != len(samples):
        raise ValueError(f"Give one label per sample. Received: {len(labels)} labels for "
                         f"{len(samples)} samples")
    if kind == "mnist" and reference_labels is None:
        raise ValueError("kind 'mnist' needs the real images' labels for per-class metrics. "
                         "Received: reference_labels=None")
    functions = get_metrics(kind)
    fake, real = judged_samples(samples, kind, reference, classifier, value_range, progress_fn)
    results = measure(fake, real, functions, progress_fn)
    accuracy = conditional_accuracy(_JUDGES[kind](fake), labels, len(class_names))
    results["conditional_accuracy"] = accuracy.accuracy
    for index, name in enumerate(class_names):
        mask = labels == index
        if not mask.any():
            continue
        if progress_fn is not None:
            progress_fn(f"class {name}")
        results[f"class {name} conditional_accuracy"] = float(accuracy.per_class[index])
        real_rows = (None if real is None
                     else _rows(real, np.asarray(reference_labels).reshape(-1) == index))
        for metric, value in measure(_rows(fake, mask), real_rows, functions).items():
            results[f"class {name} {metric}"] = value
    return results
