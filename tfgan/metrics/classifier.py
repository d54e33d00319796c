"""The small MNIST classifier whose outputs the image metrics measure.

The classifier-based metrics follow TF-GAN's split: the metric functions work on precomputed
logits and features, and this module makes them. `MnistClassifier` is a small CNN (about
111k parameters, a 0.49 MB weights file) whose penultimate layer gives the features for the
Fréchet and kernel distances and precision/recall, and whose logits give the classifier score
and the class histogram. Its weights are committed in `tfgan/metrics/weights/`, trained by
`tfgan-train-classifier` on the MNIST training split.
"""

import os

import keras
import numpy as np

WEIGHTS_PATH = os.path.join(os.path.dirname(__file__), "weights", "mnist_classifier.weights.h5")
IMAGE_SHAPE = (28, 28, 1)


@keras.saving.register_keras_serializable(package="tfgan")
class MnistClassifier(keras.Model):
    """Small convolutional MNIST classifier with a feature layer.

    Three 3x3 convolution blocks (batch norm, ReLU; max-pooling after the first two) and a
    global average pool feed a dense ReLU feature layer and a linear logits layer, in the
    spirit of the Keras MNIST convnet example
    (https://keras.io/examples/vision/mnist_convnet/); batch norm follows Ioffe & Szegedy 2015
    (https://arxiv.org/abs/1502.03167).

    Args:
        filters: tuple of 3 ints, the channels of the three convolution blocks.
            Defaults to `(32, 64, 128)`.
        feature_dim: int, the width of the penultimate (feature) layer. Defaults to `128`.
        num_classes: int, the number of classes. Defaults to `10`.
        dropout: float in [0, 1), the dropout rate before the logits layer during training.
            Defaults to `0.3`.
        **kwargs: base `keras.Model` arguments such as `name`.

    Input shape:
        float `[batch, 28, 28, 1]` images in [0, 1].

    Output shape:
        `call`: logits `[batch, num_classes]`; `features`: `[batch, feature_dim]`.

    Raises:
        ValueError: `filters` does not hold three positive ints, or `feature_dim`,
            `num_classes` or `dropout` is out of range.

    Example:

    >>> classifier = MnistClassifier()
    >>> classifier(np.zeros((2, 28, 28, 1), "float32")).shape
    TensorShape([2, 10])
    """

    def __init__(self, filters=(32, 64, 128), feature_dim=128, num_classes=10, dropout=0.3,
                 **kwargs):
        super().__init__(**kwargs)
        filters = tuple(filters)
        if len(filters) != 3 or any(int(f) != f or f < 1 for f in filters):
            raise ValueError(f"filters must be three positive ints. Received: filters={filters}")
        if feature_dim < 1:
            raise ValueError(f"feature_dim must be positive. Received: feature_dim={feature_dim}")
        if num_classes < 2:
            raise ValueError(f"num_classes must be at least 2. Received: num_classes={num_classes}")
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout must be in [0, 1). Received: dropout={dropout}")
        self.filters = filters
        self.feature_dim = feature_dim
        self.num_classes = num_classes
        self.dropout = dropout
        blocks = []
        for index, channels in enumerate(filters):
            blocks += [
                keras.layers.Conv2D(channels, 3, padding="same", use_bias=False),
                keras.layers.BatchNormalization(),
                keras.layers.ReLU(),
            ]
            if index < len(filters) - 1:
                blocks.append(keras.layers.MaxPooling2D())
        blocks += [
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(feature_dim, activation="relu"),
        ]
        self.feature_layers = blocks
        self.dropout_layer = keras.layers.Dropout(dropout)
        self.logits_layer = keras.layers.Dense(num_classes)

    def build(self, input_shape):
        shape = tuple(input_shape)
        for layer in self.feature_layers:
            layer.build(shape)
            shape = layer.compute_output_shape(shape)
        self.logits_layer.build(shape)

    def features(self, x, training=None):
        """Returns the penultimate layer, float32 `[batch, feature_dim]`."""
        for layer in self.feature_layers:
            x = layer(x, training=training)
        return x

    def call(self, x, training=None):
        features = self.features(x, training=training)
        return self.logits_layer(self.dropout_layer(features, training=training))

    def get_config(self):
        config = super().get_config()
        config.update({
            "filters": self.filters,
            "feature_dim": self.feature_dim,
            "num_classes": self.num_classes,
            "dropout": self.dropout,
        })
        return config


def train_classifier(images, labels, epochs, batch_size=128, learning_rate=1e-3, dropout=0.0,
                     seed=0, validation_data=None, verbose=2):
    """Trains a fresh `MnistClassifier` with Adam on sparse cross-entropy.

    The learning rate follows a cosine decay to 0 over all the steps.

    Args:
        images: float array `[n, 28, 28, 1]` in [0, 1].
        labels: int array `[n]` of class indices.
        epochs: int, passes over the data.
        batch_size: int. Defaults to `128`.
        learning_rate: float, Adam's initial learning rate. Defaults to `1e-3`.
        dropout: float in [0, 1), the dropout rate before the logits layer (training only;
            the weights have the same shapes whatever the rate). Defaults to `0.0`, as the
            committed weights were trained.
        seed: int, seeds weight initialisation, dropout and shuffling. Defaults to `0`.
        validation_data: optional `(images, labels)` evaluated after every epoch.
            Defaults to `None`.
        verbose: int, `keras.Model.fit` verbosity. Defaults to `2` (one line per epoch).

    Returns:
        The trained `MnistClassifier`.

    Raises:
        ValueError: `images` is not `[n, 28, 28, 1]` or `labels` does not match it.
    """
    images = check_images(images)
    labels = np.asarray(labels)
    if labels.shape != (len(images),):
        raise ValueError(
            f"labels must have shape ({len(images)},). Received: labels.shape={labels.shape}")
    keras.utils.set_random_seed(seed)
    classifier = MnistClassifier(dropout=dropout)
    total_steps = epochs * -(-len(images) // batch_size)
    classifier.compile(
        optimizer=keras.optimizers.Adam(
            keras.optimizers.schedules.CosineDecay(learning_rate, total_steps)),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    classifier.fit(images, labels, batch_size=batch_size, epochs=epochs, shuffle=True,
                   validation_data=validation_data, verbose=verbose)
    return classifier


def load_classifier(path=None):
    """Builds a default `MnistClassifier` and loads its weights.

    Args:
        path: str, a `.weights.h5` file saved from a default `MnistClassifier`.
            Defaults to `None`: the committed `tfgan/metrics/weights/mnist_classifier.weights.h5`.

    Returns:
        The `MnistClassifier`, built, with its weights loaded.
    """
    classifier = MnistClassifier()
    classifier.build((None, *IMAGE_SHAPE))
    classifier.load_weights(path or WEIGHTS_PATH)
    return classifier


def save_classifier(classifier, path):
    """Writes the network weights of `classifier` (no optimizer state) for `load_classifier`.

    Args:
        classifier: built `MnistClassifier` with the default constructor arguments.
        path: str, a file name ending in `.weights.h5`.
    """
    network = MnistClassifier.from_config(classifier.get_config())
    network.build((None, *IMAGE_SHAPE))
    network.set_weights(classifier.get_weights())
    network.save_weights(path)


def check_images(images):
    """Returns `images` as float32, raising unless they are classifier input.

    Args:
        images: array `[n, 28, 28, 1]`, n >= 1, with values in [0, 1].

    Returns:
        float32 numpy array `[n, 28, 28, 1]`.

    Raises:
        ValueError: the shape is not `[n, 28, 28, 1]` with n >= 1, or a value lies outside
            [0, 1].
    """
    images = np.asarray(images, dtype="float32")
    if images.ndim != 4 or images.shape[1:] != IMAGE_SHAPE or not len(images):
        raise ValueError(
            f"images must have shape [n, 28, 28, 1], n >= 1. Received: images.shape={images.shape}")
    if images.min() < 0.0 or images.max() > 1.0:
        raise ValueError(
            "images must lie in [0, 1]. "
            f"Received: images range=[{images.min():g}, {images.max():g}]")
    return images


def classifier_outputs(classifier, images, batch_size=500):
    """Runs the classifier in inference mode and returns its logits and features.

    Args:
        classifier: `MnistClassifier`.
        images: float array `[n, 28, 28, 1]` in [0, 1].
        batch_size: int, images per forward pass. Defaults to `500`.

    Returns:
        Tuple `(logits, features)` of float64 numpy arrays `[n, num_classes]` and
        `[n, feature_dim]`.

    Raises:
        ValueError: `images` is not classifier input (see `check_images`).
    """
    images = check_images(images)
    logits, features = [], []
    for start in range(0, len(images), batch_size):
        batch_features = classifier.features(images[start:start + batch_size], training=False)
        logits.append(np.asarray(classifier.logits_layer(batch_features), dtype="float64"))
        features.append(np.asarray(batch_features, dtype="float64"))
    return np.concatenate(logits), np.concatenate(features)
