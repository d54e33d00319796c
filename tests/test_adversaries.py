"""Several generators and discriminators (`tfgan.adversaries`): the weightings' math, the
mixture's and the ensemble's contracts, and the losses one GAN step minimises with them."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgan import adversaries, losses, priors, schedules
from tfgan import gan as gan_lib
from test_gan import BATCH, DATA_SHAPE, Z_DIM, TinyDiscriminator, TinyGenerator, real_batch

LOSSES = [1.0, 2.0, 4.0]


@pytest.mark.parametrize("weighting, temperature, expected", [
    ("mean", 1.0, [1 / 3, 1 / 3, 1 / 3]),
    # exp(0.5 * [1, 2, 4]) / sum = [e^0.5, e^1, e^2] / (e^0.5 + e + e^2)
    ("softmax", 0.5, np.exp([0.5, 1.0, 2.0]) / np.exp([0.5, 1.0, 2.0]).sum()),
    ("softmax", 0.0, [1 / 3, 1 / 3, 1 / 3]),
    ("max", 1.0, [0.0, 0.0, 1.0]),
    ("min", 1.0, [1.0, 0.0, 0.0]),
])
def test_adversary_weights_are_the_hand_computed_ones(weighting, temperature, expected):
    weights = adversaries.adversary_weights(tf.constant(LOSSES), weighting, temperature)
    np.testing.assert_allclose(weights, expected, rtol=1e-6)
    loss = adversaries.weighted_sum([tf.constant(v) for v in LOSSES], weighting, temperature)
    np.testing.assert_allclose(loss, np.dot(expected, LOSSES), rtol=1e-6)


def test_weights_are_constants_in_the_gradient():
    # d/dl_i sum_j w_j l_j = w_i: the softmax weights themselves pass no gradient.
    values = [tf.constant(v) for v in LOSSES]
    with tf.GradientTape() as tape:
        tape.watch(values)
        loss = adversaries.weighted_sum(values, "softmax", 0.5)
    np.testing.assert_allclose(
        tape.gradient(loss, values),
        adversaries.adversary_weights(tf.constant(LOSSES), "softmax", 0.5), rtol=1e-6)


def test_one_adversary_is_its_own_loss():
    loss = tf.constant(2.5)
    assert adversaries.weighted_sum([loss], "softmax", 3.0) is loss


def test_unknown_weighting_raises():
    with pytest.raises(ValueError, match="adversary_weighting must be one of"):
        adversaries.weighted_sum([1.0, 2.0], "median")


def test_components_are_a_function_of_z_and_near_uniform():
    z = tf.random.stateless_normal((6000, 4), seed=[1, 2])
    components = adversaries.component_of(z, 3).numpy()
    np.testing.assert_array_equal(components, adversaries.component_of(z, 3))
    np.testing.assert_array_equal(components[:10], adversaries.component_of(z[:10], 3))
    shares = np.bincount(components, minlength=3) / len(components)
    np.testing.assert_allclose(shares, 1 / 3, atol=0.03)


def _mixture(count=3):
    return adversaries.GeneratorMixture([TinyGenerator() for _ in range(count)])


def test_mixture_maps_each_row_with_the_generator_its_z_picks():
    mixture = _mixture()
    z = tf.random.stateless_uniform((50, Z_DIM), seed=[3, 4])
    samples = mixture(z).numpy()
    picks = adversaries.component_of(z, 3).numpy()
    for k, member in enumerate(mixture.members):
        np.testing.assert_array_equal(samples[picks == k], member(z).numpy()[picks == k])
    assert (mixture.z_dim, mixture.data_shape) == (Z_DIM, DATA_SHAPE)


def test_mixture_and_ensemble_round_trip_their_config():
    mixture = _mixture(2)
    copy = adversaries.GeneratorMixture.from_config(mixture.get_config())
    assert len(copy.members) == 2 and copy.z_dim == Z_DIM
    ensemble = adversaries.DiscriminatorEnsemble([TinyDiscriminator(units=4)] * 2)
    copy = adversaries.DiscriminatorEnsemble.from_config(ensemble.get_config())
    assert [member.units for member in copy.members] == [4, 4]


def test_mixture_refuses_generators_that_disagree():
    with pytest.raises(ValueError, match="must share z_dim"):
        adversaries.GeneratorMixture([TinyGenerator(), TinyGenerator(z_dim=Z_DIM + 1)])
    with pytest.raises(ValueError, match="at least 2"):
        adversaries.GeneratorMixture([TinyGenerator()])


def test_ensemble_answers_the_mean_of_its_members():
    ensemble = adversaries.DiscriminatorEnsemble([TinyDiscriminator() for _ in range(3)])
    x = real_batch()
    logits = adversaries.member_logits(ensemble, x)
    assert logits.shape == (BATCH, 3)
    np.testing.assert_allclose(logits[:, 1:2], ensemble.members[1](x))
    np.testing.assert_allclose(ensemble(x), tf.reduce_mean(logits, 1, keepdims=True), rtol=1e-6)


def test_generated_blocks_give_each_generator_its_share_of_z():
    mixture = _mixture(2)
    z = tf.random.stateless_uniform((BATCH, Z_DIM), seed=[5, 6])
    samples = adversaries.generated_blocks(mixture, z).numpy()
    half = BATCH // 2
    np.testing.assert_array_equal(samples[:half], mixture.members[0](z[:half]))
    np.testing.assert_array_equal(samples[half:], mixture.members[1](z[half:]))


@pytest.mark.parametrize("weighting", ["max", "softmax"])
def test_each_network_minimises_its_weighted_losses_against_its_adversaries(weighting):
    # Two generators, two discriminators: discriminator j's loss weighs its losses against
    # generator 0's and 1's blocks; generator k's weighs its losses against each discriminator.
    gan = gan_lib.GAN(_mixture(2), adversaries.DiscriminatorEnsemble(
        [TinyDiscriminator() for _ in range(2)]), prior="uniform",
        schedule=schedules.make_schedule("simultaneous"), seed=3)
    gan.compile(keras.optimizers.SGD(1e-2), keras.optimizers.SGD(1e-2),
                adversary_weighting=weighting, adversary_temperature=2.0)
    gan.build_all(DATA_SHAPE)
    real = real_batch()
    z = priors.sample_prior(BATCH, Z_DIM, "uniform", keras.random.SeedGenerator(3))
    generated = adversaries.generated_blocks(gan.generator, z)
    half = BATCH // 2
    d_loss = g_loss = 0.0
    d_against = [[losses.minimax_discriminator_loss(d(real[:half]), d(generated[:half])),
                  losses.minimax_discriminator_loss(d(real[half:]), d(generated[half:]))]
                 for d in gan.discriminator.members]
    g_against = [[losses.non_saturating_generator_loss(d(generated[:half]))
                  for d in gan.discriminator.members],
                 [losses.non_saturating_generator_loss(d(generated[half:]))
                  for d in gan.discriminator.members]]
    for pair in d_against:
        d_loss += float(adversaries.weighted_sum(pair, weighting, 2.0))
    for pair in g_against:
        g_loss += float(adversaries.weighted_sum(pair, weighting, 2.0))

    logs = gan.train_step(real)

    np.testing.assert_allclose(logs["d_loss"], d_loss, rtol=1e-5)
    np.testing.assert_allclose(logs["g_loss"], g_loss, rtol=1e-5)
