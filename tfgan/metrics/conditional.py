"""Conditional accuracy: how often a conditional generator makes the class it was asked for.

A class-conditional generator asked for label `k` should make a sample that a judge (the
committed MNIST classifier; for the toys, the nearest mode) puts in class `k`. The figure is
the agreement of the judge with the request, overall and per class. It says nothing of the
diversity within a class (an AC-GAN can score 100 % with one sample per class: Kang et al.
2021, ReACGAN), so it is reported beside per-class FID and recall (`tfgan.metrics.evaluate`).
"""

import collections

import numpy as np

ConditionalAccuracy = collections.namedtuple(
    "ConditionalAccuracy", ["accuracy", "per_class"])


def conditional_accuracy(predicted, requested, num_classes):
    """The share of samples whose judged class is the one they were made for.

        accuracy  = mean_i [predicted_i == requested_i]
        per_class = mean_{i : requested_i = k} [predicted_i == k],  for each class k

    Args:
        predicted: int array `[n]`, the judge's class of each sample.
        requested: int array `[n]`, the label each sample was generated for.
        num_classes: int >= 1.

    Returns:
        `ConditionalAccuracy(accuracy, per_class)`: a float in [0, 1] and a float array
        `[num_classes]` (NaN for a class that was never requested).

    Raises:
        ValueError: the arrays are empty, differ in length, or hold a label outside
            `[0, num_classes)`.

    Example:

    >>> conditional_accuracy([0, 1, 1, 2], [0, 1, 2, 2], 3).accuracy
    0.75
    """
    predicted = np.asarray(predicted).reshape(-1)
    requested = np.asarray(requested).reshape(-1)
    if not len(requested) or predicted.shape != requested.shape:
        raise ValueError(
            "predicted and requested must be non-empty and of equal length. Received: "
            f"lengths {len(predicted)} and {len(requested)}")
    if requested.min() < 0 or requested.max() >= num_classes:
        raise ValueError(f"requested labels must be in [0, {num_classes}). Received: "
                         f"[{requested.min()}, {requested.max()}]")
    correct = predicted == requested
    counts = np.bincount(requested, minlength=num_classes)
    hits = np.bincount(requested, weights=correct, minlength=num_classes)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_class = np.where(counts > 0, hits / np.maximum(counts, 1), np.nan)
    return ConditionalAccuracy(float(np.mean(correct)), per_class)
