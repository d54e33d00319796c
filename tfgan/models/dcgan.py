"""Convolutional generator and discriminator of the TensorFlow DCGAN tutorial (seed 001).

"Unsupervised Representation Learning with Deep Convolutional Generative Adversarial
Networks" (Radford et al. 2015, https://arxiv.org/abs/1511.06434), in the layout of
https://www.tensorflow.org/tutorials/generative/dcgan:

- G: Dense(s*s*256, no bias) BN LeakyReLU, reshape to s x s x 256, Conv2DTranspose 128 5x5
  stride 1, BN, LeakyReLU, Conv2DTranspose 64 5x5 stride 2, BN, LeakyReLU, Conv2DTranspose C
  5x5 stride 2 + output activation.
- D: Conv2D 64 5x5 stride 2, LeakyReLU, Dropout, Conv2D 128 5x5 stride 2, LeakyReLU, Dropout,
  Flatten, Dense 1.

Supported images are 28x28xC (the tutorial's MNIST, s = 7) and 32x32xC (s = 8): the two
stride-2 stages upsample by 4, so 32x32 images start from an 8x8 grid and need no extra stage.
"""

import numbers

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
from tfgan.models.conditional_batch_norm import ConditionalBatchNormalization
from tfgan.models.minibatch import MinibatchDiscrimination
from tfgan.models.spectral_norm import maybe_spectral_norm
from tfgan.models.tracking import track_layers

SUPPORTED_SIZES = (28, 32)
# The tutorial's keras.layers.LeakyReLU() default, written out so a Keras change cannot move it.
LEAKY_RELU_SLOPE = 0.3
# The tutorial's kernel size; `kernel_size=3` costs 9/25 of its multiply-adds.
KERNEL_SIZE = 5


def _check_image_shape(data_shape):
    shape = check_positive_ints("data_shape", data_shape)
    if len(shape) != 3 or shape[0] != shape[1] or shape[0] not in SUPPORTED_SIZES:
        raise ValueError(
            "DCGAN supports data_shape (28, 28, C) or (32, 32, C) images. "
            f"Received: data_shape={data_shape!r}"
        )
    return shape


def _is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _check_width(width):
    if not _is_number(width) or not width > 0:
        raise ValueError(f"width must be a number > 0. Received: width={width!r}")
    return float(width)


def _check_dropout(dropout):
    if not _is_number(dropout) or not 0 <= dropout < 1:
        raise ValueError(f"dropout must be a number in [0, 1). Received: dropout={dropout!r}")
    return float(dropout)


def _check_kernel_size(kernel_size):
    if isinstance(kernel_size, bool) or not isinstance(kernel_size, int) \
            or kernel_size < 1 or kernel_size % 2 == 0:
        raise ValueError(
            f"kernel_size must be an odd int >= 1. Received: kernel_size={kernel_size!r}")
    return kernel_size


def _filters(base, width):
    return max(1, round(base * width))


def _batch_norm(num_classes):
    """Batch norm, conditional on the class when `num_classes` is set."""
    if num_classes:
        return ConditionalBatchNormalization(num_classes)
    # Synchronized: under several replicas the batch statistics are the global batch's,
    # so every replica keeps the same moving statistics (one device: no difference).
    return keras.layers.BatchNormalization(synchronized=True)


def _upsample(filters, kernel_size, strides, num_classes):
    return [
        keras.layers.Conv2DTranspose(filters, kernel_size, strides=strides, padding="same",
                                     use_bias=False),
        _batch_norm(num_classes),
        keras.layers.LeakyReLU(negative_slope=LEAKY_RELU_SLOPE),
    ]


@keras.saving.register_keras_serializable(package="tfgan")
class DCGANGenerator(keras.Model):
    """Maps latent vectors to images with transposed convolutions (DCGAN).

    Radford et al. 2015 (https://arxiv.org/abs/1511.06434), in the TensorFlow DCGAN
    tutorial's layout (see the module docstring). The output activation runs in float32, so
    images are float32 even under a mixed-precision policy.

    Args:
        z_dim: int, size of the latent vector `z`.
        data_shape: tuple of ints, `(28, 28, C)` or `(32, 32, C)`.
        width: float, multiplies the filter counts 256, 128 and 64 (not `C`).
            Defaults to `1.0`.
        output_activation: str, `"tanh"` (images in [-1, 1]), `"sigmoid"` ([0, 1]) or
            `"linear"`. Defaults to `"tanh"`.
        num_classes: int, 0 for an unconditional generator, else the number of classes
            (>= 2): every batch norm becomes a `ConditionalBatchNormalization` (a scale and
            shift per class; Miyato & Koyama 2018, https://arxiv.org/abs/1802.05637).
            Defaults to `0`.
        kernel_size: odd int, the side of every transposed-convolution kernel. Defaults to
            `5` (the tutorial's).
        **kwargs: base `keras.Model` arguments (`name`, `dtype`, ...).

    Input shape:
        `z`, float32 `[batch, z_dim]`; with `num_classes`, the pair `[z, labels]`, labels
        int `[batch]`.

    Output shape:
        float32 `[batch, H, W, C]`.

    Raises:
        ValueError: `data_shape` is not a supported image shape, or another argument is out of
            range or unknown.

    Example:

    >>> generator = DCGANGenerator(z_dim=100, data_shape=(28, 28, 1))
    >>> generator(np.zeros((2, 100), "float32")).shape
    TensorShape([2, 28, 28, 1])
    """

    def __init__(self, z_dim, data_shape, width=1.0, output_activation="tanh", num_classes=0,
                 kernel_size=KERNEL_SIZE, **kwargs):
        super().__init__(**kwargs)
        self.z_dim = check_positive_int("z_dim", z_dim)
        self.num_classes = check_num_classes(num_classes)
        self.data_shape = _check_image_shape(data_shape)
        self.width = _check_width(width)
        self.kernel_size = _check_kernel_size(kernel_size)
        check_choice("output_activation", output_activation, OUTPUT_ACTIVATIONS)
        self.output_activation = output_activation

        grid = self.data_shape[0] // 4
        projected_filters = _filters(256, self.width)
        project = [
            keras.layers.Dense(grid * grid * projected_filters, use_bias=False),
            _batch_norm(self.num_classes),
            keras.layers.LeakyReLU(negative_slope=LEAKY_RELU_SLOPE),
            keras.layers.Reshape((grid, grid, projected_filters)),
        ]
        upsample = [
            _upsample(_filters(128, self.width), self.kernel_size, strides=1,
                      num_classes=self.num_classes),
            _upsample(_filters(64, self.width), self.kernel_size, strides=2,
                      num_classes=self.num_classes),
        ]
        if self.num_classes:
            # Called layer by layer, each conditional batch norm with the labels (a
            # `keras.Sequential` passes no second input); each layer an attribute, so that
            # tf.train.Checkpoint follows it (it does not follow a Keras 3 list attribute).
            self.conditional_layers = [*project, *upsample[0], *upsample[1]]
            track_layers(self, self.conditional_layers, "conditional_layer")
        else:
            # Sequentials, not Python lists: tf.train.Checkpoint does not follow a Keras 3
            # list attribute, and the batch-norm statistics in it have no optimizer to reach
            # them by.
            self.project = keras.Sequential(project)
            self.upsample = keras.Sequential([keras.Sequential(block) for block in upsample])
        self.to_image = keras.layers.Conv2DTranspose(
            self.data_shape[-1], self.kernel_size, strides=2, padding="same", use_bias=False)
        self.output_layer = keras.layers.Activation(output_activation, dtype="float32")

    def call(self, inputs, training=None):
        z, labels = split_labelled(inputs, self.num_classes)
        if labels is not None:
            hidden = self._conditional_blocks(z, labels, training)
        else:
            hidden = self.upsample(self.project(z, training=training), training=training)
        return self.output_layer(self.to_image(hidden))

    def _conditional_blocks(self, z, labels, training):
        """The projection and upsampling blocks layer by layer, each batch norm told the
        labels."""
        hidden = z
        for layer in self.conditional_layers:
            if isinstance(layer, ConditionalBatchNormalization):
                hidden = layer(hidden, labels=labels, training=training)
            else:
                hidden = layer(hidden, training=training)
        return hidden

    def get_config(self):
        config = super().get_config()
        config.update({
            "z_dim": self.z_dim,
            "data_shape": self.data_shape,
            "width": self.width,
            "output_activation": self.output_activation,
            "num_classes": self.num_classes,
            "kernel_size": self.kernel_size,
        })
        return config


@keras.saving.register_keras_serializable(package="tfgan")
class DCGANDiscriminator(keras.Model):
    """Scores images as real or fake with strided convolutions (DCGAN).

    Radford et al. 2015 (https://arxiv.org/abs/1511.06434), in the TensorFlow DCGAN
    tutorial's layout (see the module docstring). The features are the flattened output of the
    second convolution block, `[batch, (H/4) * (W/4) * 128 * width]`. The logit layer runs in
    float32; so does the optional minibatch discrimination (Salimans et al. 2016,
    https://arxiv.org/abs/1606.03498) between the features and the logit layer. With
    `spectral_norm`, both convolutions and the logit layer compute with their kernels divided
    by their largest singular values (`SpectralNorm`, Miyato et al. 2018,
    https://arxiv.org/abs/1802.05957).

    Args:
        data_shape: tuple of ints, `(28, 28, C)` or `(32, 32, C)`.
        width: float, multiplies the filter counts 64 and 128. Defaults to `1.0`.
        dropout: float in [0, 1), dropout rate after each convolution block.
            Defaults to `0.3`.
        minibatch_kernels: int, minibatch discrimination kernels; `0` turns it off.
            Defaults to `0`.
        minibatch_kernel_dim: int, size of each minibatch kernel. Defaults to `3`.
        spectral_norm: bool, spectrally normalise the convolutions and the logit layer.
            Defaults to `False`.
        kernel_size: odd int, the side of both convolution kernels. Defaults to `5`.
        **kwargs: base `keras.Model` arguments (`name`, `dtype`, ...).

    Input shape:
        `[batch, H, W, C]`.

    Output shape:
        float32 logits `[batch, 1]`; `features()` gives `[batch, feature_dim]`.

    Raises:
        ValueError: `data_shape` is not a supported image shape, or another argument is out of
            range.

    Example:

    >>> discriminator = DCGANDiscriminator((28, 28, 1))
    >>> discriminator(np.zeros((2, 28, 28, 1), "float32")).shape
    TensorShape([2, 1])
    """

    def __init__(self, data_shape, width=1.0, dropout=0.3, minibatch_kernels=0,
                 minibatch_kernel_dim=3, spectral_norm=False, kernel_size=KERNEL_SIZE,
                 **kwargs):
        super().__init__(**kwargs)
        self.data_shape = _check_image_shape(data_shape)
        self.width = _check_width(width)
        self.dropout = _check_dropout(dropout)
        check_minibatch(minibatch_kernels, minibatch_kernel_dim)
        self.minibatch_kernels = minibatch_kernels
        self.minibatch_kernel_dim = minibatch_kernel_dim
        self.spectral_norm = check_bool("spectral_norm", spectral_norm)
        self.kernel_size = _check_kernel_size(kernel_size)

        self.downsample = keras.Sequential([
            keras.Sequential([
                maybe_spectral_norm(keras.layers.Conv2D(
                    _filters(filters, self.width), self.kernel_size, strides=2,
                    padding="same"),
                    self.spectral_norm),
                keras.layers.LeakyReLU(negative_slope=LEAKY_RELU_SLOPE),
                keras.layers.Dropout(self.dropout),
            ])
            for filters in (64, 128)
        ])
        self.flatten = keras.layers.Flatten()
        self.minibatch = None
        if minibatch_kernels:
            self.minibatch = MinibatchDiscrimination(
                minibatch_kernels, minibatch_kernel_dim, dtype="float32")
        self.logit_layer = maybe_spectral_norm(keras.layers.Dense(1, dtype="float32"),
                                               self.spectral_norm)

    def features(self, x, training=None):
        """Returns the flattened convolution features `[batch, feature_dim]` of images `x`."""
        return self.flatten(self.downsample(x, training=training))

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
            "width": self.width,
            "dropout": self.dropout,
            "minibatch_kernels": self.minibatch_kernels,
            "minibatch_kernel_dim": self.minibatch_kernel_dim,
            "spectral_norm": self.spectral_norm,
            "kernel_size": self.kernel_size,
        })
        return config
