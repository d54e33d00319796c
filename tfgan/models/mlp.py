"""Fully connected generator and discriminator (seeds 000, 002 and 003).

The networks of "Generative Adversarial Nets" (Goodfellow et al. 2014,
https://arxiv.org/abs/1406.2661) as the tutorials build them: Dense layers with Xavier/Glorot
uniform kernels and zero biases.

- Seed 002, MNIST: G z(100) -> 512 relu -> 784 sigmoid; D 784 -> 256 relu -> 1 logit.
- Seed 003, MNIST: G z(100) -> 128 relu -> 784 sigmoid; D 784 -> 128 relu -> 1 logit.
- Seed 000, 2-D toy: G z(2) -> 16 -> 16 leaky_relu -> 2 linear; D 2 -> 16 -> 16 leaky_relu ->
  2 linear features -> 1 logit.
"""

import math

import keras

from tfgan.models.argument_validation import (
    OUTPUT_ACTIVATIONS,
    check_bool,
    check_choice,
    check_minibatch,
    check_num_classes,
    check_positive_int,
    check_positive_ints,
    split_labelled,
)
from tfgan.models.minibatch import MinibatchDiscrimination
from tfgan.models.spectral_norm import maybe_spectral_norm
from tfgan.models.tracking import track_layers

# "leaky_relu" is keras.activations.leaky_relu, whose slope 0.2 is tf.nn.leaky_relu's (seed 000).
HIDDEN_ACTIVATIONS = ("relu", "leaky_relu")


def _hidden_layers(hidden_units, activation):
    return [
        keras.layers.Dense(units, activation=activation, kernel_initializer="glorot_uniform",
                           bias_initializer="zeros")
        for units in hidden_units
    ]


@keras.saving.register_keras_serializable(package="tfgan")
class MLPGenerator(keras.Model):
    """Maps latent vectors to samples through fully connected layers.

    `z -> Dense(hidden_units[0], activation) -> ... -> Dense(prod(data_shape))
    -> reshape to data_shape -> output_activation`. The output activation runs in float32, so
    samples are float32 even under a mixed-precision policy.

    With `num_classes > 0` the generator is class-conditional (Mirza & Osindero 2014,
    https://arxiv.org/abs/1411.1784): a learned embedding of the label,
    `[batch, label_embedding_dim]`, is joined to `z` before the first layer.

    Args:
        z_dim: int, size of the latent vector `z`.
        data_shape: tuple of ints, shape of one sample, e.g. `(28, 28, 1)` or `(2,)`.
        hidden_units: tuple of ints, sizes of the hidden layers (may be empty).
            Defaults to `(128,)`.
        activation: str, hidden activation, `"relu"` or `"leaky_relu"` (slope 0.2).
            Defaults to `"relu"`.
        output_activation: str, `"sigmoid"` (samples in [0, 1]), `"tanh"` ([-1, 1]) or
            `"linear"` (data units). Defaults to `"sigmoid"`.
        num_classes: int, 0 for an unconditional generator, else the number of classes
            (>= 2). Defaults to `0`.
        label_embedding_dim: int, size of the label embedding joined to `z`.
            Defaults to `16`.
        **kwargs: base `keras.Model` arguments (`name`, `dtype`, ...).

    Input shape:
        `z`, float32 `[batch, z_dim]`; with `num_classes`, the pair `[z, labels]`, labels
        int `[batch]`.

    Output shape:
        float32 `[batch, *data_shape]`.

    Raises:
        ValueError: an argument is out of range or unknown.

    Example:

    >>> generator = MLPGenerator(z_dim=100, data_shape=(28, 28, 1), hidden_units=(512,))
    >>> generator(np.zeros((4, 100), "float32")).shape
    TensorShape([4, 28, 28, 1])
    """

    def __init__(self, z_dim, data_shape, hidden_units=(128,), activation="relu",
                 output_activation="sigmoid", num_classes=0, label_embedding_dim=16, **kwargs):
        super().__init__(**kwargs)
        self.z_dim = check_positive_int("z_dim", z_dim)
        self.data_shape = check_positive_ints("data_shape", data_shape)
        self.hidden_units = check_positive_ints("hidden_units", hidden_units, allow_empty=True)
        check_choice("activation", activation, HIDDEN_ACTIVATIONS)
        check_choice("output_activation", output_activation, OUTPUT_ACTIVATIONS)
        self.activation = activation
        self.output_activation = output_activation
        self.num_classes = check_num_classes(num_classes)
        self.label_embedding_dim = check_positive_int("label_embedding_dim", label_embedding_dim)

        self.label_embedding = None
        if self.num_classes:
            self.label_embedding = keras.layers.Embedding(num_classes, self.label_embedding_dim)
        self.hidden_layers = _hidden_layers(self.hidden_units, activation)
        track_layers(self, self.hidden_layers, "hidden")
        self.to_data = keras.layers.Dense(
            math.prod(self.data_shape), kernel_initializer="glorot_uniform",
            bias_initializer="zeros")
        self.reshape = keras.layers.Reshape(self.data_shape)
        self.output_layer = keras.layers.Activation(output_activation, dtype="float32")

    def call(self, inputs, training=None):
        z, labels = split_labelled(inputs, self.num_classes)
        hidden = z
        if labels is not None:
            embedded = self.label_embedding(labels)
            hidden = keras.ops.concatenate([z, keras.ops.cast(embedded, z.dtype)], axis=-1)
        for layer in self.hidden_layers:
            hidden = layer(hidden)
        return self.output_layer(self.reshape(self.to_data(hidden)))

    def get_config(self):
        config = super().get_config()
        config.update({
            "z_dim": self.z_dim,
            "data_shape": self.data_shape,
            "hidden_units": self.hidden_units,
            "activation": self.activation,
            "output_activation": self.output_activation,
            "num_classes": self.num_classes,
            "label_embedding_dim": self.label_embedding_dim,
        })
        return config


@keras.saving.register_keras_serializable(package="tfgan")
class MLPDiscriminator(keras.Model):
    """Scores samples as real or fake through fully connected layers.

    `x -> flatten -> Dense(hidden_units[0], activation) -> ... -> [Dense(feature_units),
    linear] -> [MinibatchDiscrimination] -> Dense(1)`. The features are the last layer before
    minibatch discrimination: the `feature_units` layer if set (seed 000 plots its 2 units),
    else the last hidden layer (else the flattened input). The logit layer runs in float32.
    Minibatch discrimination (Salimans et al. 2016, https://arxiv.org/abs/1606.03498) also
    runs in float32: its sums of up to `batch` exponentials lose too many bits in 16-bit floats.
    With `spectral_norm`, every Dense layer (hidden, feature and logit) computes with its kernel
    divided by its largest singular value (`SpectralNorm`, Miyato et al. 2018,
    https://arxiv.org/abs/1802.05957); minibatch discrimination's tensor is left as it is.

    Args:
        data_shape: tuple of ints, shape of one sample.
        hidden_units: tuple of ints, sizes of the hidden layers (may be empty).
            Defaults to `(128,)`.
        activation: str, hidden activation, `"relu"` or `"leaky_relu"` (slope 0.2).
            Defaults to `"relu"`.
        feature_units: int or None, size of an extra linear feature layer after the hidden
            layers; `None` for none. Defaults to `None`.
        minibatch_kernels: int, minibatch discrimination kernels; `0` turns it off.
            Defaults to `0`.
        minibatch_kernel_dim: int, size of each minibatch kernel. Defaults to `3`.
        spectral_norm: bool, spectrally normalise every Dense layer. Defaults to `False`.
        **kwargs: base `keras.Model` arguments (`name`, `dtype`, ...).

    Input shape:
        `[batch, *data_shape]`.

    Output shape:
        float32 logits `[batch, 1]`; `features()` gives `[batch, feature_dim]`.

    Raises:
        ValueError: an argument is out of range or unknown.

    Example:

    >>> discriminator = MLPDiscriminator((2,), hidden_units=(16, 16),
    ...                                  activation="leaky_relu", feature_units=2)
    >>> discriminator.features(np.zeros((4, 2), "float32")).shape
    TensorShape([4, 2])
    """

    def __init__(self, data_shape, hidden_units=(128,), activation="relu", feature_units=None,
                 minibatch_kernels=0, minibatch_kernel_dim=3, spectral_norm=False, **kwargs):
        super().__init__(**kwargs)
        self.data_shape = check_positive_ints("data_shape", data_shape)
        self.hidden_units = check_positive_ints("hidden_units", hidden_units, allow_empty=True)
        check_choice("activation", activation, HIDDEN_ACTIVATIONS)
        if feature_units is not None:
            feature_units = check_positive_int("feature_units", feature_units)
        check_minibatch(minibatch_kernels, minibatch_kernel_dim)
        self.activation = activation
        self.feature_units = feature_units
        self.minibatch_kernels = minibatch_kernels
        self.minibatch_kernel_dim = minibatch_kernel_dim
        self.spectral_norm = check_bool("spectral_norm", spectral_norm)

        self.flatten = keras.layers.Flatten()
        self.hidden_layers = [maybe_spectral_norm(layer, self.spectral_norm)
                              for layer in _hidden_layers(self.hidden_units, activation)]
        track_layers(self, self.hidden_layers, "hidden")
        self.feature_layer = None
        if feature_units is not None:
            self.feature_layer = maybe_spectral_norm(keras.layers.Dense(
                feature_units, kernel_initializer="glorot_uniform", bias_initializer="zeros"),
                self.spectral_norm)
        self.minibatch = None
        if minibatch_kernels:
            self.minibatch = MinibatchDiscrimination(
                minibatch_kernels, minibatch_kernel_dim, dtype="float32")
        self.logit_layer = maybe_spectral_norm(keras.layers.Dense(
            1, kernel_initializer="glorot_uniform", bias_initializer="zeros", dtype="float32"),
            self.spectral_norm)

    def features(self, x, training=None):
        """Returns the last hidden features `[batch, feature_dim]` of samples `x`."""
        hidden = self.flatten(x)
        for layer in self.hidden_layers:
            hidden = layer(hidden)
        if self.feature_layer is not None:
            hidden = self.feature_layer(hidden)
        return hidden

    def score(self, features):
        """The logit `[batch, 1]` float32 of `features()`' output (the projection
        discriminator's `psi`)."""
        if self.minibatch is not None:
            features = self.minibatch(features)
        return self.logit_layer(features)

    def call(self, x, training=None):
        return self.score(self.features(x, training=training))

    def get_config(self):
        config = super().get_config()
        config.update({
            "data_shape": self.data_shape,
            "hidden_units": self.hidden_units,
            "activation": self.activation,
            "feature_units": self.feature_units,
            "minibatch_kernels": self.minibatch_kernels,
            "minibatch_kernel_dim": self.minibatch_kernel_dim,
            "spectral_norm": self.spectral_norm,
        })
        return config
