import keras
import numpy as np
import pytest

from tfgan.metrics.classifier_score import ClassifierScore, classifier_score

CONFIDENT = 50.0  # logit margin that makes softmax one-hot to float64 precision


def _one_hot_logits(classes, num_classes=10):
    return CONFIDENT * np.eye(num_classes)[classes]


def test_confident_uniform_predictions_score_the_number_of_classes():
    logits = _one_hot_logits(np.repeat(np.arange(10), 3))
    assert classifier_score(logits) == pytest.approx(10.0, rel=1e-9)


def test_a_single_class_scores_one():
    assert classifier_score(_one_hot_logits(np.full(12, 4))) == pytest.approx(1.0, rel=1e-9)


def test_uniform_probabilities_score_one():
    assert classifier_score(np.zeros((8, 10))) == pytest.approx(1.0)


def test_hand_computed_value():
    # Two samples, two classes: p(y|x) = (0.9, 0.1) and (0.1, 0.9), p(y) = (0.5, 0.5).
    logits = np.log([[0.9, 0.1], [0.1, 0.9]])
    kl = 0.9 * np.log(0.9 / 0.5) + 0.1 * np.log(0.1 / 0.5)
    assert classifier_score(logits) == pytest.approx(np.exp(kl))


def test_confident_classes_in_proportion_k_of_n_score_exp_entropy():
    # Confident predictions over 3 of 10 classes, equally often: score = 3.
    assert classifier_score(_one_hot_logits(np.tile([1, 5, 7], 4))) == pytest.approx(3.0)


def test_splits_return_mean_and_std_over_parts():
    # Part 1: all class 0 (score 1); part 2: classes 0 and 1 (score 2).
    logits = _one_hot_logits(np.array([0, 0, 0, 0, 0, 1, 0, 1]))
    mean, std = classifier_score(logits, splits=2)
    assert mean == pytest.approx(1.5) and std == pytest.approx(0.5)


@pytest.mark.parametrize("logits, splits, message", [
    (np.zeros(10), 1, r"Received: logits.shape=\(10,\)"),
    (np.zeros((4, 10)), 0, "Received: splits=0"),
    (np.zeros((4, 10)), 5, "Received: splits=5"),
])
def test_invalid_arguments_raise(logits, splits, message):
    with pytest.raises(ValueError, match=message):
        classifier_score(logits, splits=splits)


def test_keras_metric_matches_the_function_across_batches():
    rng = np.random.default_rng(0)
    logits = rng.normal(scale=3.0, size=(40, 10))
    metric = ClassifierScore()
    for batch in np.split(logits, 4):
        metric.update_state(batch)
    assert float(metric.result()) == pytest.approx(classifier_score(logits), rel=1e-4)
    metric.reset_state()
    metric.update_state(_one_hot_logits(np.arange(10)))
    assert float(metric.result()) == pytest.approx(10.0, rel=1e-4)


def test_keras_metric_config_round_trip():
    metric = ClassifierScore(num_classes=4, name="score")
    clone = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(metric))
    assert isinstance(clone, ClassifierScore)
    assert clone.num_classes == 4 and clone.name == "score"
    with pytest.raises(ValueError, match="Received: num_classes=1"):
        ClassifierScore(num_classes=1)
