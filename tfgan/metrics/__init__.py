"""Metrics of generated samples: image metrics on an MNIST classifier's outputs, toy coverage."""

from tfgan.metrics.class_histogram import ClassKL, class_histogram, class_kl, kl_from_uniform
from tfgan.metrics.classifier import (
    MnistClassifier,
    classifier_outputs,
    load_classifier,
    save_classifier,
    train_classifier,
)
from tfgan.metrics.classifier_score import ClassifierScore, classifier_score
from tfgan.metrics.conditional import ConditionalAccuracy, conditional_accuracy
from tfgan.metrics.evaluate import ImageOutputs, evaluate_samples, image_outputs, to_unit_range
from tfgan.metrics.frechet import (
    FrechetDistance,
    feature_moments,
    frechet_distance,
    frechet_distance_from_moments,
)
from tfgan.metrics.kernel_distance import kernel_distance
from tfgan.metrics.per_class import CONDITIONAL_KINDS, evaluate_per_class
from tfgan.metrics.precision_recall import PrecisionRecall, precision_recall, recall_misses
from tfgan.metrics.registry import METRICS, get_metrics
from tfgan.metrics.stacked_mnist import (
    StackedMnistCoverage,
    stacked_mnist_classes,
    stacked_mnist_coverage,
)
from tfgan.metrics.toy_modes import (
    ModeCoverage,
    MomentError,
    curve_distance,
    mode_coverage,
    moment_error,
    nearest_mode,
)
