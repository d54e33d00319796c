"""Tiny stand-ins for tfgan's networks, following docs/architecture.md's model contracts.

The export tests use these instead of `tfgan.models` so that they test only `tfgan.export`:
a one-layer generator and discriminator build and export in well under a second.
"""

import contextlib

import keras
import numpy as np
import tensorflow as tf


@keras.saving.register_keras_serializable(package="tfgan_tests")
class TinyGenerator(keras.Model):
    """One dense layer from `z` to a sample, reshaped to `data_shape`.

    Args:
        z_dim: int, the latent dimension. Defaults to `4`.
        data_shape: tuple of int, the shape of one sample. Defaults to `(8, 8, 1)`.
        output_activation: str, `"sigmoid"`, `"tanh"` or `"linear"`. Defaults to `"tanh"`.

    Input shape:
        `[batch, z_dim]`.

    Output shape:
        `[batch, *data_shape]`, in the compute dtype of the layer's policy (bfloat16 under
        `mixed_bfloat16`, so that exports have to cast).
    """

    def __init__(self, z_dim=4, data_shape=(8, 8, 1), output_activation="tanh", **kwargs):
        super().__init__(**kwargs)
        self.z_dim = z_dim
        self.data_shape = tuple(data_shape)
        self.output_activation = output_activation
        self.dense = keras.layers.Dense(
            int(np.prod(self.data_shape)),
            activation=output_activation,
            kernel_initializer=keras.initializers.RandomNormal(stddev=0.5, seed=1),
            bias_initializer=keras.initializers.RandomNormal(stddev=0.5, seed=2),
        )

    def call(self, z, training=None):
        return keras.ops.reshape(self.dense(z), (-1, *self.data_shape))

    def get_config(self):
        config = super().get_config()
        config.update(
            z_dim=self.z_dim,
            data_shape=self.data_shape,
            output_activation=self.output_activation,
        )
        return config


@keras.saving.register_keras_serializable(package="tfgan_tests")
class PyFunctionGenerator(TinyGenerator):
    """A `TinyGenerator` whose output passes through `tf.py_function`, which no server runs."""

    def call(self, z, training=None):
        samples = super().call(z, training=training)
        copied = tf.py_function(lambda x: x, [samples], samples.dtype)
        return tf.ensure_shape(copied, samples.shape)


@keras.saving.register_keras_serializable(package="tfgan_tests")
class TinyDiscriminator(keras.Model):
    """Flattens a sample and maps it to one logit with a dense layer.

    Args:
        data_shape: tuple of int, the shape of one sample. Defaults to `(8, 8, 1)`.

    Input shape:
        `[batch, *data_shape]`.

    Output shape:
        `[batch, 1]` logits.
    """

    def __init__(self, data_shape=(8, 8, 1), **kwargs):
        super().__init__(**kwargs)
        self.data_shape = tuple(data_shape)
        self.flatten = keras.layers.Flatten()
        self.dense = keras.layers.Dense(
            1, kernel_initializer=keras.initializers.RandomNormal(stddev=0.5, seed=3)
        )

    def call(self, x, training=None):
        return self.dense(self.flatten(x))

    def get_config(self):
        config = super().get_config()
        config.update(data_shape=self.data_shape)
        return config


@contextlib.contextmanager
def global_dtype_policy(policy):
    """Builds models under a Keras global dtype policy, restoring the previous one after."""
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(policy)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)
