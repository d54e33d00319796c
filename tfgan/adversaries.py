"""Several generators and discriminators: each network's loss a weighted sum over its adversaries.

Seed 001 proposes training several generators and discriminators, "each network's score a
weighted sum of its performance against all of its adversaries". This is GMAN (Durugkar et al.
2017, "Generative Multi-Adversarial Networks", https://arxiv.org/abs/1611.01673: one generator,
several discriminators whose verdicts are combined by a mean, a softmax with a temperature, or
the harshest one) joined with MAD-GAN's several generators (Ghosh et al. 2018, "Multi-Agent
Diverse Generative Adversarial Networks", https://arxiv.org/abs/1704.02906), whose samples form
a mixture.

- `GeneratorMixture` holds K generators. In training generator k maps block k of a batch of `z`
  (`generated_blocks`); sampling maps each row of `z` with the generator its bits pick
  (`component_of`), so one seed gives the same samples, generator choice included.
- `DiscriminatorEnsemble` holds J discriminators; `member_logits` gives all J verdicts, calling
  it gives their mean (the exported `discriminate` signature).
- `weighted_sum` combines one network's losses against its adversaries (`WEIGHTINGS`).

Class-conditional networks take `[inputs, labels]`, labels int32 `[batch]`; every function
here passes labels through (`call_network`), and None leaves an unconditional network's call
as it is.

With one generator and one discriminator no wrapper is built and every weighted sum is its one
term, so training is exactly the plain GAN's.
"""

import keras
import tensorflow as tf

from tfgan.models.argument_validation import split_labelled
from tfgan.models.tracking import track_layers

WEIGHTINGS = ("mean", "softmax", "min", "max")


def adversary_weights(losses, weighting, temperature=1.0):
    """The weight of each adversary in a network's loss, `[num_adversaries]` float32.

    `losses[i]` is the network's loss against adversary `i`. The weights are constants (no
    gradient flows through them), each set summing to 1:

        mean:     1 / n each (GMAN's arithmetic mean)
        softmax:  softmax(temperature * losses): the adversaries the network does worst
                  against count most; temperature 0 is the mean, large temperatures the max
                  (GMAN's soft-max with lambda = temperature)
        max:      all weight on the adversary the network does worst against
        min:      all weight on the one it does best against

    Args:
        losses: float tensor `[num_adversaries]`.
        weighting: str, one of `WEIGHTINGS`.
        temperature: float >= 0, the softmax's lambda. Defaults to `1.0`.

    Returns:
        float32 tensor `[num_adversaries]`.

    Raises:
        ValueError: if `weighting` is not one of `WEIGHTINGS`.
    """
    check_weighting(weighting)
    losses = tf.stop_gradient(tf.cast(losses, tf.float32))
    count = tf.shape(losses)[0]
    if weighting == "mean":
        return tf.fill([count], 1.0 / tf.cast(count, tf.float32))
    if weighting == "softmax":
        return tf.nn.softmax(temperature * losses)
    pick = tf.argmax(losses) if weighting == "max" else tf.argmin(losses)
    return tf.one_hot(pick, count, dtype=tf.float32)


def weighted_sum(losses, weighting, temperature=1.0):
    """A network's loss: its `losses` against each adversary, weighted by `adversary_weights`.

    Args:
        losses: list of float32 scalar tensors, one per adversary.
        weighting: str, one of `WEIGHTINGS`.
        temperature: float >= 0, see `adversary_weights`. Defaults to `1.0`.

    Returns:
        float32 scalar tensor; with one adversary, its loss itself.
    """
    if len(losses) == 1:
        return losses[0]
    stacked = tf.stack(losses)
    return tf.reduce_sum(adversary_weights(stacked, weighting, temperature) * stacked)


def check_weighting(weighting):
    """Raises `ValueError` unless `weighting` is one of `WEIGHTINGS`."""
    if weighting not in WEIGHTINGS:
        raise ValueError(
            f"adversary_weighting must be one of {WEIGHTINGS}. Received: {weighting!r}")


def component_of(z, num_components):
    """Which of `num_components` generators maps each row of `z`: `[batch]` int32.

    A hash of the row's float32 bits (their sum as int64, modulo the count): a function of
    `z` alone, so a seed that fixes `z` fixes the choice, and about uniform because the low
    mantissa bits of continuous draws are. `z` itself reaches the chosen generator unchanged,
    distributed as in training.

    Args:
        z: float tensor `[batch, z_dim]`.
        num_components: int >= 1.

    Returns:
        int32 tensor `[batch]` in `[0, num_components)`.
    """
    bits = tf.cast(tf.bitcast(tf.cast(z, tf.float32), tf.int32), tf.int64)
    return tf.cast(tf.math.floormod(tf.reduce_sum(bits, axis=1), num_components), tf.int32)


@keras.saving.register_keras_serializable(package="tfgan")
class GeneratorMixture(keras.Model):
    """K generators sampled as one: row i of `z` goes to generator `component_of(z)[i]`.

    Has the generator contract's `z_dim`, `data_shape` and `output_activation` (those of its
    members, which must agree), so it trains, exports and serves wherever one generator does.

    Args:
        generators: list of K >= 2 generator `keras.Model`s with equal `z_dim`, `data_shape`
            and `output_activation`.
        **kwargs: `keras.Model` arguments such as `name`.

    Raises:
        ValueError: if fewer than two generators are given or they disagree on the contract.
    """

    def __init__(self, generators, **kwargs):
        super().__init__(**kwargs)
        generators = list(generators)
        if len(generators) < 2:
            raise ValueError(
                f"GeneratorMixture needs at least 2 generators. Received: {len(generators)}")
        contract = {(g.z_dim, tuple(g.data_shape), g.output_activation) for g in generators}
        if len(contract) != 1:
            raise ValueError("The generators of a mixture must share z_dim, data_shape and "
                             f"output_activation. Received: {sorted(contract)}")
        self.members = generators
        track_layers(self, generators, "generator")
        self.z_dim, data_shape, self.output_activation = contract.pop()
        self.data_shape = data_shape
        self.num_classes = int(getattr(generators[0], "num_classes", 0))

    def call(self, inputs, training=None):
        """Samples `[batch, *data_shape]` float32, each row from the generator it picks.

        Every member maps the whole batch (K times one generator's work) and the rows are
        then selected, which keeps the graph one static shape for the stock model server.
        Conditional members take `[z, labels]` and make each row for its label.
        """
        z, labels = split_labelled(inputs, self.num_classes)
        samples = tf.stack([call_network(member, z, labels, training=training)
                            for member in self.members], axis=1)
        return tf.gather(samples, component_of(z, len(self.members)), axis=1, batch_dims=1)

    def get_config(self):
        return {**super().get_config(), "generators": _serialized(self.members)}

    @classmethod
    def from_config(cls, config):
        return cls(**{**config, "generators": _deserialized(config["generators"])})


@keras.saving.register_keras_serializable(package="tfgan")
class DiscriminatorEnsemble(keras.Model):
    """J discriminators judging the same packs; called, it answers their mean logit.

    Args:
        discriminators: list of J >= 2 discriminator `keras.Model`s, each mapping
            `[batch, *packed_shape]` to logits `[batch, 1]`.
        **kwargs: `keras.Model` arguments such as `name`.

    Raises:
        ValueError: if fewer than two discriminators are given.
    """

    def __init__(self, discriminators, **kwargs):
        super().__init__(**kwargs)
        discriminators = list(discriminators)
        if len(discriminators) < 2:
            raise ValueError("DiscriminatorEnsemble needs at least 2 discriminators. "
                             f"Received: {len(discriminators)}")
        self.members = discriminators
        track_layers(self, discriminators, "discriminator")
        self.num_classes = int(getattr(discriminators[0], "num_classes", 0))

    def features(self, x, training=None):
        """The first member's features (the feature-space plots show one discriminator)."""
        return self.members[0].features(x, training=training)

    def call(self, inputs, training=None):
        """The mean of the members' logits, `[batch, 1]` float32; conditional members take
        `[x, labels]`."""
        x, labels = split_labelled(inputs, self.num_classes)
        return tf.reduce_mean(member_logits(self, x, labels, training=training), axis=1,
                              keepdims=True)

    def get_config(self):
        return {**super().get_config(), "discriminators": _serialized(self.members)}

    @classmethod
    def from_config(cls, config):
        return cls(**{**config, "discriminators": _deserialized(config["discriminators"])})


def _serialized(networks):
    return [keras.saving.serialize_keras_object(network) for network in networks]


def _deserialized(configs):
    return [keras.saving.deserialize_keras_object(config) for config in configs]


def members(network):
    """The networks inside a mixture or an ensemble; `[network]` for a single one."""
    return list(getattr(network, "members", [network]))


def call_network(network, inputs, labels=None, training=None):
    """`network([inputs, labels])` for a conditional network, `network(inputs)` when `labels`
    is None."""
    if labels is None:
        return network(inputs, training=training)
    return network([inputs, labels], training=training)


def member_logits(discriminator, x, labels=None, training=None):
    """Every discriminator's logits on `x` (under `labels` int32 `[batch]`, if conditional):
    `[batch, J]` float32 (J = 1 for a single one)."""
    return tf.concat([call_network(member, x, labels, training=training)
                      for member in members(discriminator)], axis=1)


def generated_blocks(generator, z, labels=None, training=None):
    """Training samples: generator k maps block k of `z`, `[batch, *data_shape]`.

    Block k holds rows `k * batch / K` to `(k + 1) * batch / K`, so each generator trains on
    `z` distributed as the prior and its samples stay side by side (packs never mix
    generators when `batch / K` is a multiple of the pack).

    Args:
        generator: a generator or a `GeneratorMixture` of K.
        z: float tensor `[batch, z_dim]`, `batch` a multiple of K.
        labels: int32 tensor `[batch]` for conditional generators (split like `z`), or None.
            Defaults to `None`.
        training: bool or None, passed to the generators.

    Returns:
        float32 tensor `[batch, *data_shape]`.
    """
    generators = members(generator)
    if len(generators) == 1:
        return call_network(generator, z, labels, training=training)
    count = len(generators)
    blocks = tf.split(z, count, axis=0)
    label_blocks = [None] * count if labels is None else tf.split(labels, count, axis=0)
    return tf.concat([call_network(g, block, block_labels, training=training)
                      for g, block, block_labels in zip(generators, blocks, label_blocks)],
                     axis=0)
