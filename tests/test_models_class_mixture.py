"""The class mixture: a conditional pair seen as an unconditional one (`draw_labels`)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgan import export, priors
from tfgan.models import (
    ClassMixtureDiscriminator,
    ClassMixtureGenerator,
    MLPDiscriminator,
    MLPGenerator,
    ProjectionDiscriminator,
)
from tfgan.models.class_mixture import LABEL_BITS, labels_from_bits


def _bits(*positive):
    """Class components with the listed bits positive and the others negative."""
    row = -np.ones(LABEL_BITS, np.float32)
    row[list(positive)] = 0.5
    return row


def test_the_class_is_the_sign_bits_read_as_a_binary_number_modulo_the_classes():
    bits = np.stack([_bits(), _bits(0), _bits(1, 3), _bits(0, 1, 2, 3), _bits(*range(24))])
    bits[0, 5] = 0.0  # zero is not positive
    # 0, 1, 2 + 8 = 10, 15, 2**24 - 1 = 16777215; modulo 10 and 7.
    np.testing.assert_array_equal(labels_from_bits(bits, 10), [0, 1, 0, 5, 5])
    np.testing.assert_array_equal(labels_from_bits(bits, 7), [0, 1, 3, 1, 16777215 % 7])


@pytest.mark.parametrize("prior,truncation", [("normal", 1.0), ("normal", 0.2),
                                              ("uniform", 1.0), ("uniform", 0.5)])
def test_every_class_is_drawn_equally_often_under_any_prior_and_truncation(prior, truncation):
    z = priors.stateless_prior(20000, LABEL_BITS, prior, 5, truncation)
    frequencies = np.bincount(labels_from_bits(z, 10).numpy(), minlength=10) / 20000
    # The binomial standard deviation is 0.0021: the bound is almost five of them.
    np.testing.assert_allclose(frequencies, 0.1, atol=0.01)


def _conditional_generator():
    return MLPGenerator(z_dim=3, data_shape=(2,), hidden_units=(8,), num_classes=4,
                        output_activation="linear")


def test_the_mixture_generator_is_the_conditional_one_under_the_drawn_classes():
    inner = _conditional_generator()
    mixture = ClassMixtureGenerator(inner)
    assert mixture.z_dim == 3 + LABEL_BITS and mixture.data_shape == (2,)
    assert not hasattr(mixture, "num_classes")  # the export sees an unconditional generator
    z = priors.stateless_prior(64, mixture.z_dim, "normal", 1)
    labels = labels_from_bits(z[:, 3:], 4)
    assert len(set(labels.numpy())) == 4
    np.testing.assert_array_equal(mixture(z), inner([z[:, :3], labels]))


def test_the_mixture_generator_round_trips_its_config():
    mixture = ClassMixtureGenerator(_conditional_generator())
    z = priors.stateless_prior(8, mixture.z_dim, "normal", 2)
    mixture(z)
    copy = ClassMixtureGenerator.from_config(mixture.get_config())
    copy(z)
    copy.set_weights(mixture.get_weights())
    np.testing.assert_array_equal(copy(z), mixture(z))


def test_an_unconditional_generator_has_no_class_to_draw():
    with pytest.raises(ValueError, match="num_classes"):
        ClassMixtureGenerator(MLPGenerator(z_dim=3, data_shape=(2,), hidden_units=(8,)))


def test_the_mixture_discriminator_is_the_best_conditional_logit():
    inner = ProjectionDiscriminator(MLPDiscriminator(data_shape=(2,), hidden_units=(8,)), 4)
    mixture = ClassMixtureDiscriminator(inner, 4)
    x = tf.random.stateless_normal([5, 2], seed=[1, 2])
    per_class = np.concatenate([inner([x, tf.fill([5], k)]).numpy() for k in range(4)], 1)
    np.testing.assert_allclose(mixture(x).numpy(), per_class.max(axis=1, keepdims=True),
                               rtol=1e-6)
    copy = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(mixture))
    copy(x)
    copy.set_weights(mixture.get_weights())
    np.testing.assert_allclose(copy(x), mixture(x), rtol=1e-6)


def test_a_mixture_exports_the_unconditional_signatures(tmp_path):
    mixture = ClassMixtureGenerator(_conditional_generator())
    discriminator = ClassMixtureDiscriminator(
        ProjectionDiscriminator(MLPDiscriminator(data_shape=(2,), hidden_units=(8,)), 4), 4)
    path = export.export_generator(mixture, export_base=str(tmp_path), model_name="toy",
                                   prior="normal", value_range=None,
                                   discriminator=discriminator)
    loaded = tf.saved_model.load(path)
    sample = loaded.signatures["sample"]
    assert export.LABELS_INPUT not in sample.structured_input_signature[1]
    out = sample(num_samples=tf.constant(6), seed=tf.constant(3, tf.int64),
                 truncation=tf.constant(1.0))
    expected = export.sample_from_seed(mixture, 6, 3, prior="normal", value_range=None)
    np.testing.assert_allclose(out["samples"], expected["samples"], rtol=1e-6)
    judged = loaded.signatures["discriminate"](samples=out["samples"])
    np.testing.assert_allclose(judged["logits"], discriminator(out["samples"])[:, 0],
                               rtol=1e-5)
