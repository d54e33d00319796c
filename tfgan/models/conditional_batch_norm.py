"""Conditional batch normalization: batch norm whose scale and shift depend on the class."""

import keras

from tfgan.models.argument_validation import check_num_classes


@keras.saving.register_keras_serializable(package="tfgan")
class ConditionalBatchNormalization(keras.layers.Layer):
    """Batch normalization with a learned scale and shift per class.

    De Vries et al. 2017, "Modulating early visual processing by language",
    https://arxiv.org/abs/1707.00683; the class-conditional generator of Miyato & Koyama 2018
    (https://arxiv.org/abs/1802.05637) and BigGAN:

        y = gamma[c] * (x - mean) / sqrt(var + eps) + beta[c]

    with the batch statistics (moving averages at inference) of `BatchNormalization`, and
    `gamma`, `beta` `[num_classes, channels]` starting at 1 and 0, so an untrained layer is
    plain batch norm. Normalises over every axis but the last.

    Args:
        num_classes: int >= 2.
        **kwargs: base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Input shape:
        `x` `[batch, ..., channels]`, `labels` int `[batch]` in `[0, num_classes)`.

    Output shape:
        the shape of `x`.

    Example:

    >>> norm = ConditionalBatchNormalization(num_classes=10)
    >>> norm(np.ones((4, 7, 7, 8), "float32"), labels=np.arange(4)).shape
    TensorShape([4, 7, 7, 8])
    """

    def __init__(self, num_classes, **kwargs):
        super().__init__(**kwargs)
        self.num_classes = check_num_classes(num_classes, allow_zero=False)
        # Synchronized, as the DCGAN's own batch norm: global batch statistics under replicas.
        self.normalization = keras.layers.BatchNormalization(
            center=False, scale=False, synchronized=True)

    def build(self, input_shape):
        channels = input_shape[-1]
        self.normalization.build(input_shape)
        self.gamma = self.add_weight(name="gamma", shape=(self.num_classes, channels),
                                     initializer="ones")
        self.beta = self.add_weight(name="beta", shape=(self.num_classes, channels),
                                    initializer="zeros")

    def call(self, x, labels, training=None):
        normalized = self.normalization(x, training=training)
        gamma = keras.ops.take(self.gamma, labels, axis=0)
        beta = keras.ops.take(self.beta, labels, axis=0)
        # [batch, channels] -> [batch, 1, ..., 1, channels], broadcast over the other axes.
        for _ in range(len(x.shape) - 2):
            gamma = keras.ops.expand_dims(gamma, 1)
            beta = keras.ops.expand_dims(beta, 1)
        dtype = normalized.dtype
        return normalized * keras.ops.cast(gamma, dtype) + keras.ops.cast(beta, dtype)

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes}
