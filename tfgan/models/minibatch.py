"""Layers that let a discriminator compare a sample with the rest of its batch: minibatch
discrimination (Salimans et al. 2016, https://arxiv.org/abs/1606.03498) and the minibatch
standard deviation within each class (`ClassStddev`)."""

import keras
from keras import ops

from tfgan.models.argument_validation import check_num_classes, check_positive_int


@keras.saving.register_keras_serializable(package="tfgan")
class MinibatchDiscrimination(keras.layers.Layer):
    """Lets a discriminator compare each sample with the rest of its batch.

    From "Improved Techniques for Training GANs" (Salimans et al. 2016,
    https://arxiv.org/abs/1606.03498), section 3.2, as seed 001 writes it: a learned tensor
    `T` (no bias) maps each row `x_i` to a matrix `M_i` of `num_kernels` rows of `kernel_dim`
    values; kernel `b` of sample `i` is `o_i[b] = sum_j exp(-||M_i[b] - M_j[b]||_1)` over every
    sample `j` of the batch, `i` itself included (so each feature is at least 1). A batch of
    near-identical samples gives features near the batch size, which a collapsed generator
    cannot hide. The output is the input with the `num_kernels` features appended.

    Args:
        num_kernels: int, number of kernels `B` (minibatch features appended). Defaults to `5`.
        kernel_dim: int, size `C` of each kernel's projection. Defaults to `3`.
        **kwargs: base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Input shape:
        2D tensor `[batch, features]`.

    Output shape:
        2D tensor `[batch, features + num_kernels]`.

    Raises:
        ValueError: `num_kernels` or `kernel_dim` is not a positive integer.

    Example:

    >>> layer = MinibatchDiscrimination(num_kernels=5, kernel_dim=3)
    >>> layer(np.zeros((4, 16), "float32")).shape
    TensorShape([4, 21])
    """

    def __init__(self, num_kernels=5, kernel_dim=3, **kwargs):
        super().__init__(**kwargs)
        self.num_kernels = check_positive_int("num_kernels", num_kernels)
        self.kernel_dim = check_positive_int("kernel_dim", kernel_dim)
        self.input_spec = keras.layers.InputSpec(ndim=2)

    def build(self, input_shape):
        self.kernel = self.add_weight(
            shape=(input_shape[-1], self.num_kernels * self.kernel_dim),
            initializer="glorot_uniform",
            name="kernel",
        )

    def call(self, inputs):
        # [batch, num_kernels, kernel_dim]: the matrix M_i of each sample.
        rows = ops.reshape(ops.matmul(inputs, self.kernel),
                           (-1, self.num_kernels, self.kernel_dim))
        # [batch, batch, num_kernels]: L1 distance between samples i and j, kernel by kernel.
        distances = ops.sum(ops.abs(rows[:, None] - rows[None, :]), axis=-1)
        features = ops.sum(ops.exp(-distances), axis=1)
        return ops.concatenate([inputs, features], axis=-1)

    def compute_output_shape(self, input_shape):
        features = input_shape[-1]
        return (input_shape[0], None if features is None else features + self.num_kernels)

    def get_config(self):
        config = super().get_config()
        config.update({"num_kernels": self.num_kernels, "kernel_dim": self.kernel_dim})
        return config


@keras.saving.register_keras_serializable(package="tfgan")
class ClassStddev(keras.layers.Layer):
    """Each feature's spread over the samples of a batch that share a sample's label.

    The minibatch standard deviation of "Progressive Growing of GANs" (Karras et al. 2018,
    https://arxiv.org/abs/1710.10196, section 3), taken within each class instead of over the
    whole batch: for sample `i` of label `k`, feature `f`'s standard deviation over the
    batch's samples of label `k` (the unbiased estimate; `sqrt(1e-8)` for a class with one
    sample). A conditional generator that draws each class too alike gets smaller values
    than real data of that class, which the discriminator can score; over the whole batch the
    classes themselves would make the spread.

    Args:
        num_classes: int >= 2.
        **kwargs: base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Input shape:
        `[features, labels]`: float `[batch, features]` and int `[batch]` in
        `[0, num_classes)`.

    Output shape:
        `[batch, features]`, in the layer's compute dtype.

    Example:

    >>> layer = ClassStddev(num_classes=2)
    >>> layer([np.array([[1.0], [3.0], [5.0]], "float32"), np.array([0, 0, 1])]).numpy()
    array([[1.4142135e+00],
           [1.4142135e+00],
           [9.9999997e-05]], dtype=float32)
    """

    def __init__(self, num_classes, **kwargs):
        super().__init__(**kwargs)
        self.num_classes = check_num_classes(num_classes, allow_zero=False)

    def call(self, inputs):
        features, labels = inputs
        features = ops.cast(features, self.compute_dtype)
        members = ops.one_hot(labels, self.num_classes, dtype=self.compute_dtype)  # [B, K]
        counts = ops.sum(members, axis=0)[:, None]  # [K, 1]
        means = ops.matmul(ops.transpose(members), features) / ops.maximum(counts, 1.0)
        squares = ops.square(features - ops.matmul(members, means))
        variances = (ops.matmul(ops.transpose(members), squares)
                     / ops.maximum(counts - 1.0, 1.0))  # [K, F]
        return ops.sqrt(ops.matmul(members, variances) + 1e-8)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes}
