import os

import keras
import numpy as np
import pytest

from tfgan.metrics import classifier as classifier_lib

SUBSET_PATH = os.path.join(os.path.dirname(__file__), "data", "mnist_test_subset.npz")


def _mnist_subset():
    with np.load(SUBSET_PATH) as subset:
        return subset["images"][..., None] / 255.0, subset["labels"]


def test_shapes_of_logits_and_features():
    model = classifier_lib.MnistClassifier(filters=(4, 8, 8), feature_dim=16, num_classes=5)
    images = np.zeros((3, 28, 28, 1), "float32")
    assert tuple(model(images).shape) == (3, 5)
    assert tuple(model.features(images).shape) == (3, 16)


def test_config_round_trip():
    model = classifier_lib.MnistClassifier(filters=(4, 8, 8), feature_dim=16, dropout=0.1)
    config = model.get_config()
    assert config["filters"] == (4, 8, 8) and config["feature_dim"] == 16
    assert config["num_classes"] == 10 and config["dropout"] == 0.1
    clone = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(model))
    assert isinstance(clone, classifier_lib.MnistClassifier)
    assert clone.get_config() == config


@pytest.mark.parametrize("kwargs, message", [
    ({"filters": (4, 8)}, r"Received: filters=\(4, 8\)"),
    ({"feature_dim": 0}, "Received: feature_dim=0"),
    ({"num_classes": 1}, "Received: num_classes=1"),
    ({"dropout": 1.0}, "Received: dropout=1.0"),
])
def test_invalid_arguments_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        classifier_lib.MnistClassifier(**kwargs)


def test_committed_weights_are_small_and_accurate():
    assert os.path.getsize(classifier_lib.WEIGHTS_PATH) < 1_000_000
    images, labels = _mnist_subset()
    logits, features = classifier_lib.classifier_outputs(classifier_lib.load_classifier(), images)
    assert logits.shape == (1000, 10) and features.shape == (1000, 128)
    assert np.mean(np.argmax(logits, axis=1) == labels) >= 0.98


def test_classifier_outputs_match_the_model_in_inference_mode():
    model = classifier_lib.load_classifier()
    images, _ = _mnist_subset()
    logits, features = classifier_lib.classifier_outputs(model, images[:7], batch_size=3)
    np.testing.assert_allclose(logits, model(images[:7], training=False), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(features, model.features(images[:7]), rtol=1e-5, atol=1e-5)


def test_train_save_and_load_round_trip(tmp_path):
    images, labels = _mnist_subset()
    model = classifier_lib.train_classifier(images[:64], labels[:64], epochs=1, batch_size=32,
                                            verbose=0)
    path = str(tmp_path / "classifier.weights.h5")
    classifier_lib.save_classifier(model, path)
    loaded = classifier_lib.load_classifier(path)
    np.testing.assert_allclose(loaded(images[:4], training=False),
                               model(images[:4], training=False), rtol=1e-5, atol=1e-5)
    assert os.path.getsize(path) < 1_000_000  # network weights only, no optimizer state


def test_train_rejects_mismatched_labels():
    with pytest.raises(ValueError, match=r"Received: labels.shape=\(3,\)"):
        classifier_lib.train_classifier(np.zeros((4, 28, 28, 1)), np.zeros(3), epochs=1)


@pytest.mark.parametrize("images, message", [
    (np.zeros((2, 28, 28)), r"Received: images.shape=\(2, 28, 28\)"),
    (np.zeros((0, 28, 28, 1)), r"Received: images.shape=\(0, 28, 28, 1\)"),
    (np.full((2, 28, 28, 1), 255.0), r"Received: images range=\[255, 255\]"),
    (np.full((2, 28, 28, 1), -1.0), r"Received: images range=\[-1, -1\]"),
])
def test_check_images_rejects_non_classifier_input(images, message):
    with pytest.raises(ValueError, match=message):
        classifier_lib.check_images(images)
