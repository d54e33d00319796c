"""Class-conditional discriminators: a base discriminator told which class a sample should be.

Each wraps an unconditional discriminator (`MLPDiscriminator`, `DCGANDiscriminator`) and maps
`[x [batch, *data_shape], labels int [batch]]` (one list, as Keras multi-input models take
their inputs) to logits `[batch, 1]` float32, so any family can be conditioned any of four
ways (`CONDITIONINGS`):

- `ProjectionDiscriminator` (Miyato & Koyama 2018, https://arxiv.org/abs/1802.05637):
  `D(x, y) = psi(phi(x)) + <V[y], phi(x)>`, the base's logit plus the inner product of a
  learned class embedding with the base's features. `logits_and_class_logits` reads the same
  embedding as a classifier too, `<V[k], phi(x)>` for every class k: `dual_projection`
  trains it with a classification loss (the label matching of Han et al. 2021's dual
  projection GAN, P2GAN, https://arxiv.org/abs/2108.09016), weighted by `GAN.compile`'s
  `class_loss_weight`. With `class_stddev`, the logit also scores how much the base's
  features vary over the batch's samples of each class (`ClassStddev`).
- `ConcatDiscriminator` (keras-io `conditional_gan.py`; TF-GAN's conditional MNIST): the
  one-hot label joins the input as extra channels (images) or features (points); the base is
  built for `concat_shape(data_shape, num_classes)`.
- `AuxiliaryClassifierDiscriminator` (AC-GAN, Odena et al. 2017,
  https://arxiv.org/abs/1610.09585): the adversarial logit ignores the label;
  `logits_and_class_logits` adds a classification head on the base's features, trained by
  `GAN.compile`'s `class_loss_weight`.
"""

import keras
import tensorflow as tf

from tfgan.models.argument_validation import check_bool, check_num_classes, split_labelled
from tfgan.models.minibatch import ClassStddev

CONDITIONINGS = ("projection", "dual_projection", "concat", "acgan")
CLASSIFYING = ("dual_projection", "acgan")  # the conditionings that add classification losses


def concat_shape(data_shape, num_classes):
    """The input shape of a `ConcatDiscriminator`'s base: `data_shape`, last axis + classes.

    Args:
        data_shape: tuple of ints, e.g. `(2,)` or `(28, 28, 1)`.
        num_classes: int >= 2.

    Returns:
        tuple of ints, e.g. `(12,)` or `(28, 28, 11)` for 10 classes.
    """
    data_shape = tuple(data_shape)
    return (*data_shape[:-1], data_shape[-1] + num_classes)


def _build_base(discriminator, data_shape):
    """Builds the base on one zero sample; returns its feature dimension."""
    zeros = tf.zeros((1, *data_shape))
    discriminator(zeros)
    return discriminator.features(zeros).shape[-1]


class LabelledDiscriminator(keras.Model):
    """A discriminator around a base that knows `num_classes` classes: what the conditioned
    discriminators (and `ClassMixtureDiscriminator`) share, the config round trip included."""

    def __init__(self, discriminator, num_classes, **kwargs):
        super().__init__(**kwargs)
        self.discriminator = discriminator
        self.num_classes = check_num_classes(num_classes, allow_zero=False)

    def get_config(self):
        return {**super().get_config(),
                "discriminator": keras.saving.serialize_keras_object(self.discriminator),
                "num_classes": self.num_classes}

    @classmethod
    def from_config(cls, config):
        return cls(**{**config, "discriminator": keras.saving.deserialize_keras_object(
            config["discriminator"])})


@keras.saving.register_keras_serializable(package="tfgan")
class ProjectionDiscriminator(LabelledDiscriminator):
    """The projection discriminator: the base's logit plus `<V[y], phi(x)>`.

    Miyato & Koyama 2018, "cGANs with Projection Discriminator",
    https://arxiv.org/abs/1802.05637, eq. 3: with `phi` the base's `features` and `psi` the
    rest of it (`score`), `D(x, y) = psi(phi(x)) + V[y]^T phi(x)`, where `V` is a learned
    `[num_classes, feature_dim]` embedding. The product runs in float32. With `class_stddev`,
    `D(x, y)` adds `w^T s(x, y)`, `s` each feature's standard deviation over the batch's
    samples of label `y` (`ClassStddev`) and `w` a learned vector (zero at first): the logit
    then depends on the rest of the batch, as with minibatch discrimination.

    Args:
        discriminator: `keras.Model` with `features(x)` `[batch, feature_dim]` and
            `score(features)` `[batch, 1]` (the base's own logit).
        num_classes: int >= 2.
        class_stddev: bool, also score the features' spread within each class of the batch.
            Defaults to `False`.
        **kwargs: `keras.Model` arguments such as `name`.

    Input shape:
        `[x, labels]`: `x` `[batch, *data_shape]`, `labels` int `[batch]` in
        `[0, num_classes)`.

    Output shape:
        float32 logits `[batch, 1]`.

    Example:

    >>> d = ProjectionDiscriminator(MLPDiscriminator((2,)), num_classes=8)
    >>> d([np.zeros((4, 2), "float32"), np.arange(4)]).shape
    TensorShape([4, 1])
    """

    def __init__(self, discriminator, num_classes, class_stddev=False, **kwargs):
        super().__init__(discriminator, num_classes, **kwargs)
        self.class_stddev = check_bool("class_stddev", class_stddev)

    def build(self, input_shape):
        feature_dim = _build_base(self.discriminator, input_shape[0][1:])
        self.class_embedding = keras.layers.Embedding(
            self.num_classes, feature_dim, embeddings_initializer="glorot_uniform")
        self.class_embedding.build((None,))
        if self.class_stddev:
            self.spread = ClassStddev(self.num_classes, dtype="float32")
            self.spread_score = keras.layers.Dense(1, kernel_initializer="zeros",
                                                   dtype="float32")
            self.spread_score.build((None, feature_dim))

    def features(self, x, training=None):
        return self.discriminator.features(x, training=training)

    def call(self, inputs, training=None):
        x, labels = split_labelled(inputs, self.num_classes)
        return self._logits(self.discriminator.features(x, training=training), labels)

    def logits_and_class_logits(self, inputs, training=None):
        """`(logits [batch, 1], class_logits [batch, num_classes])`, float32, from one pass of
        the base: the class logits are `<V[k], phi(x)>`, the projection of every class k."""
        x, labels = split_labelled(inputs, self.num_classes)
        features = self.discriminator.features(x, training=training)
        class_logits = tf.matmul(tf.cast(features, tf.float32),
                                 tf.cast(self.class_embedding.embeddings, tf.float32),
                                 transpose_b=True)
        return self._logits(features, labels), class_logits

    def _logits(self, features, labels):
        projection = tf.reduce_sum(
            tf.cast(self.class_embedding(labels), tf.float32) * tf.cast(features, tf.float32),
            axis=-1, keepdims=True)
        logits = tf.cast(self.discriminator.score(features), tf.float32) + projection
        if self.class_stddev:
            logits += self.spread_score(self.spread([features, labels]))
        return logits

    def get_config(self):
        return {**super().get_config(), "class_stddev": self.class_stddev}


@keras.saving.register_keras_serializable(package="tfgan")
class ConcatDiscriminator(LabelledDiscriminator):
    """The label as input: `D(x, y) = D'([x | one_hot(y)])`, broadcast over the image.

    keras-io's `conditional_gan.py` and TF-GAN's conditional MNIST example: images get
    `num_classes` extra channels, constant over the image, one of them 1; points get the
    one-hot vector as extra features. The base must be built for
    `concat_shape(data_shape, num_classes)`.

    Args:
        discriminator: `keras.Model` mapping `[batch, *concat_shape(data_shape, num_classes)]`
            to logits `[batch, 1]`.
        num_classes: int >= 2.
        **kwargs: `keras.Model` arguments such as `name`.

    Input and output shapes: as `ProjectionDiscriminator`'s.
    """

    def build(self, input_shape):
        _build_base(self.discriminator, concat_shape(input_shape[0][1:], self.num_classes))

    def with_labels(self, x, labels):
        """`[x | one_hot(labels)]`, the one-hot vector repeated over every pixel."""
        one_hot = tf.one_hot(tf.cast(labels, tf.int32), self.num_classes, dtype=x.dtype)
        spatial = x.shape[1:-1]
        one_hot = tf.reshape(one_hot, [-1, *([1] * len(spatial)), self.num_classes])
        one_hot = tf.broadcast_to(one_hot, tf.concat([tf.shape(x)[:-1], [self.num_classes]], 0))
        return tf.concat([x, one_hot], axis=-1)

    def features(self, inputs, training=None):
        """The base's features of `[x | one_hot(labels)]`, from `inputs = [x, labels]`."""
        return self.discriminator.features(self.with_labels(*inputs), training=training)

    def call(self, inputs, training=None):
        return self.discriminator(self.with_labels(*inputs), training=training)


@keras.saving.register_keras_serializable(package="tfgan")
class AuxiliaryClassifierDiscriminator(LabelledDiscriminator):
    """AC-GAN's discriminator: the base's logit, plus class logits from its features.

    Odena et al. 2017, "Conditional Image Synthesis with Auxiliary Classifier GANs",
    https://arxiv.org/abs/1610.09585: the adversarial logit does not see the label;
    the class logits `Dense(num_classes)(phi(x))` (float32) predict it, and both networks
    add a weighted cross-entropy on it (`tfgan.losses.auxiliary_classifier_*_loss`).

    Args:
        discriminator: `keras.Model` with `features(x)` and `score(features)` `[batch, 1]`.
        num_classes: int >= 2.
        **kwargs: `keras.Model` arguments such as `name`.

    Input shape:
        `[x, labels]`: `x` `[batch, *data_shape]`; the labels are accepted and ignored.

    Output shape:
        float32 logits `[batch, 1]`; `logits_and_class_logits` adds float32 class logits
        `[batch, num_classes]`.
    """

    def build(self, input_shape):
        feature_dim = _build_base(self.discriminator, input_shape[0][1:])
        self.classifier = keras.layers.Dense(self.num_classes, dtype="float32")
        self.classifier.build((None, feature_dim))

    def features(self, x, training=None):
        return self.discriminator.features(x, training=training)

    def logits_and_class_logits(self, inputs, training=None):
        """`(logits [batch, 1], class_logits [batch, num_classes])`, float32, from one pass of
        the base."""
        x, _ = split_labelled(inputs, self.num_classes)
        features = self.discriminator.features(x, training=training)
        return (tf.cast(self.discriminator.score(features), tf.float32),
                self.classifier(features))

    def call(self, inputs, training=None):
        x, _ = split_labelled(inputs, self.num_classes)
        return tf.cast(self.discriminator(x, training=training), tf.float32)


_CONDITIONED = {"projection": ProjectionDiscriminator,
                "dual_projection": ProjectionDiscriminator, "concat": ConcatDiscriminator,
                "acgan": AuxiliaryClassifierDiscriminator}


def conditioned_discriminator(conditioning, discriminator, num_classes, class_stddev=False):
    """Wraps `discriminator` in the conditioning `conditioning` names (`CONDITIONINGS`);
    `class_stddev` is for the projections (ValueError for another)."""
    if conditioning not in CONDITIONINGS:
        raise ValueError(f"conditioning must be one of {CONDITIONINGS}. "
                         f"Received: conditioning={conditioning!r}")
    if class_stddev:
        if _CONDITIONED[conditioning] is not ProjectionDiscriminator:
            raise ValueError("class_stddev needs a projection discriminator (projection or "
                             f"dual_projection). Received: conditioning={conditioning!r}")
        return ProjectionDiscriminator(discriminator, num_classes, class_stddev=True)
    return _CONDITIONED[conditioning](discriminator, num_classes)
