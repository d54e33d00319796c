"""A class-conditional GAN served as an unconditional one: each sample's class drawn from z.

Labels make a better generator (the class-conditional MNIST preset reaches FID 0.6 where the
same networks without labels stay near 6, docs/metrics.md), but a user who wants "a digit"
should not have to pick one. These wrappers turn a trained conditional pair into the
unconditional pair an export, `tfgan-sample` and the metrics take, so the model keeps the
unconditional signatures (no `labels` input) and its samples are the class-balanced mixture:

- `ClassMixtureGenerator(generator)`: `z [batch, z_dim + LABEL_BITS]` -> samples. The first
  `z_dim` components are the conditional generator's `z`; the class is the number whose binary
  digits are the signs of the last `LABEL_BITS` components, modulo `num_classes`. A sign is a
  fair coin under every symmetric prior, truncated or not (`tfgan.priors`), so each class is
  drawn with probability 1 / num_classes (to within num_classes / 2**LABEL_BITS), the same
  seed gives the same class everywhere, and the truncation trick does not favour some classes.
  The class bits are components of their own: reusing the generator's own `z` would tie a class
  to a half-space of it and narrow each class.
- `ClassMixtureDiscriminator(discriminator)`: `x` -> the largest of the conditional logits
  `max_k D(x, k)`, the discriminator's rating of `x` as the class it fits best (the
  `discriminate` signature and discriminator-guided sampling of such an export).
"""

import keras
import tensorflow as tf

from tfgan.models.argument_validation import check_num_classes
from tfgan.models.conditional import LabelledDiscriminator

# How many sign bits of z pick the class; 2**24 is exact in float32 and int32.
LABEL_BITS = 24


def labels_from_bits(bits, num_classes):
    """The class each row of `bits` draws: its signs read as a binary number, mod classes.

    Args:
        bits: float tensor `[batch, LABEL_BITS]`, the class components of `z`.
        num_classes: int >= 2.

    Returns:
        int32 tensor `[batch]` in `[0, num_classes)`: `sum_i [bits[:, i] > 0] 2**i mod
        num_classes`.
    """
    powers = tf.constant([2**i for i in range(LABEL_BITS)], tf.int32)
    number = tf.reduce_sum(tf.cast(bits > 0, tf.int32) * powers, axis=-1)
    return tf.math.floormod(number, num_classes)


@keras.saving.register_keras_serializable(package="tfgan")
class ClassMixtureGenerator(keras.Model):
    """An unconditional generator drawing each sample's class from its `z`.

    Args:
        generator: a conditional generator (`num_classes` >= 2) mapping `[z [batch, z_dim],
            labels int [batch]]` to samples `[batch, *data_shape]`.

    Call arguments:
        z: float tensor `[batch, z_dim + LABEL_BITS]`.
        training: bool or None, passed to `generator`.

    Returns:
        The generator's samples `[batch, *data_shape]` for `z[:, :z_dim]` and the classes of
        `labels_from_bits(z[:, z_dim:])`.

    Raises:
        ValueError: `generator` is not conditional.
    """

    def __init__(self, generator, **kwargs):
        super().__init__(**kwargs)
        self.generator = generator
        self.num_classes_drawn = check_num_classes(
            getattr(generator, "num_classes", 0), allow_zero=False)
        self.z_dim = int(generator.z_dim) + LABEL_BITS
        self.data_shape = tuple(generator.data_shape)
        self.output_activation = getattr(generator, "output_activation", None)

    def split(self, z):
        """`(z of the conditional generator [batch, z_dim], labels int32 [batch])`."""
        inner = self.z_dim - LABEL_BITS
        return z[:, :inner], labels_from_bits(z[:, inner:], self.num_classes_drawn)

    def call(self, z, training=None):
        inner_z, labels = self.split(z)
        return self.generator([inner_z, labels], training=training)

    def get_config(self):
        return {**super().get_config(),
                "generator": keras.saving.serialize_keras_object(self.generator)}

    @classmethod
    def from_config(cls, config):
        return cls(**{**config, "generator": keras.saving.deserialize_keras_object(
            config["generator"])})


@keras.saving.register_keras_serializable(package="tfgan")
class ClassMixtureDiscriminator(LabelledDiscriminator):
    """An unconditional discriminator: the best of a conditional one's logits over classes.

    Args:
        discriminator: a conditional discriminator mapping `[x [batch, *data_shape],
            labels int [batch]]` to logits `[batch, 1]`.
        num_classes: int >= 2, its number of classes.

    Call arguments:
        x: float tensor `[batch, *data_shape]`.
        training: bool or None, passed to `discriminator`.

    Returns:
        float32 logits `[batch, 1]`: `max_k discriminator([x, k])`, the classes in turn.
    """

    def call(self, x, training=None):
        def logits(k):
            labels = tf.fill(tf.shape(x)[:1], k)
            return tf.cast(self.discriminator([x, labels], training=training), tf.float32)

        # One class at a time: memory of one batch whatever the number of classes.
        _, best = tf.while_loop(
            lambda k, _: k < self.num_classes,
            lambda k, best: (k + 1, tf.maximum(best, logits(k))),
            (tf.constant(1), logits(0)), parallel_iterations=1)
        return best
