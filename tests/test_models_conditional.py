"""Class-conditional networks: the generators' labels, the three discriminator conditionings,
conditional batch norm."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgan import models

NUM_CLASSES = 3
LABELS = np.array([0, 2, 1, 2], np.int32)
SHAPES = {"mlp": (2,), "dcgan": (28, 28, 1)}


def _x(data_shape, seed=0):
    return np.random.default_rng(seed).normal(size=(len(LABELS), *data_shape)).astype("float32")


def _discriminator(conditioning, architecture):
    data_shape = SHAPES[architecture]
    base_shape = (models.concat_shape(data_shape, NUM_CLASSES) if conditioning == "concat"
                  else data_shape)
    base = models.build_discriminator(architecture, data_shape=base_shape,
                                      **({"dropout": 0.0} if architecture == "dcgan" else {}))
    return models.conditioned_discriminator(conditioning, base, NUM_CLASSES)


@pytest.mark.parametrize("architecture", sorted(SHAPES))
def test_conditional_generator_makes_each_row_for_its_label(architecture):
    generator = models.build_generator(architecture, z_dim=5, data_shape=SHAPES[architecture],
                                       num_classes=NUM_CLASSES)
    z = np.repeat(np.random.default_rng(1).normal(size=(1, 5)).astype("float32"), 4, axis=0)
    generator([z, LABELS])
    # Conditional batch norm starts as plain batch norm (gamma 1, beta 0 for every class).
    rng = np.random.default_rng(2)
    for weight in generator.weights:
        if weight.name in ("gamma", "beta") and len(weight.shape) == 2:
            weight.assign(rng.normal(size=weight.shape))
    samples = generator([z, LABELS], training=False).numpy()
    assert samples.shape == (4, *SHAPES[architecture])
    # Same z: equal labels give equal samples, different labels different ones.
    np.testing.assert_allclose(samples[1], samples[3], rtol=1e-6)
    assert not np.allclose(samples[0], samples[1])
    copy = generator.__class__.from_config(generator.get_config())
    copy([z, LABELS])
    copy.set_weights(generator.get_weights())
    np.testing.assert_allclose(copy([z, LABELS], training=False), samples, rtol=1e-6)


@pytest.mark.parametrize("architecture", sorted(SHAPES))
def test_conditional_generator_refuses_a_call_without_labels(architecture):
    generator = models.build_generator(architecture, z_dim=5, data_shape=SHAPES[architecture],
                                       num_classes=NUM_CLASSES)
    with pytest.raises(ValueError, match=r"takes \[inputs, labels\]"):
        generator(np.zeros((2, 5), "float32"))


@pytest.mark.parametrize("num_classes", [1, -1, 2.0, True])
def test_invalid_num_classes_raise(num_classes):
    with pytest.raises(ValueError, match=r"num_classes"):
        models.MLPGenerator(2, (2,), num_classes=num_classes)


@pytest.mark.parametrize("architecture", sorted(SHAPES))
@pytest.mark.parametrize("conditioning", models.CONDITIONINGS)
def test_discriminators_give_one_logit_and_round_trip(conditioning, architecture):
    discriminator = _discriminator(conditioning, architecture)
    x = _x(SHAPES[architecture])
    logits = discriminator([x, LABELS], training=False).numpy()
    assert logits.shape == (4, 1) and logits.dtype == np.float32
    copy = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(
        discriminator))
    copy([x, LABELS])
    copy.set_weights(discriminator.get_weights())
    np.testing.assert_allclose(copy([x, LABELS], training=False), logits, rtol=1e-5)


def test_projection_adds_the_class_embeddings_inner_product_with_the_features():
    discriminator = _discriminator("projection", "mlp")
    x = _x((2,))
    logits = discriminator([x, LABELS]).numpy()
    base = discriminator.discriminator
    features = base.features(x).numpy()
    embedding = discriminator.class_embedding.embeddings.numpy()
    expected = base(x).numpy()[:, 0] + np.sum(embedding[LABELS] * features, axis=1)
    np.testing.assert_allclose(logits[:, 0], expected, rtol=1e-5, atol=1e-6)
    # Its class logits are every class's projection; the label's is the one D adds.
    one_pass_logits, class_logits = (
        t.numpy() for t in discriminator.logits_and_class_logits([x, LABELS]))
    np.testing.assert_allclose(one_pass_logits, logits, rtol=1e-6)
    np.testing.assert_allclose(class_logits, features @ embedding.T, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(class_logits[np.arange(4), LABELS],
                               logits[:, 0] - base(x).numpy()[:, 0], rtol=1e-4, atol=1e-5)


def test_class_stddev_adds_a_learned_score_of_the_features_spread_within_each_class():
    base = models.build_discriminator("mlp", data_shape=(2,))
    discriminator = models.conditioned_discriminator("dual_projection", base, NUM_CLASSES,
                                                     class_stddev=True)
    x = _x((2,))
    plain = models.ProjectionDiscriminator(base, NUM_CLASSES)
    plain([x, LABELS])
    logits = discriminator([x, LABELS]).numpy()
    plain.class_embedding.set_weights(discriminator.class_embedding.get_weights())
    # The score starts at zero: the logits are the projection's.
    np.testing.assert_allclose(logits, plain([x, LABELS]).numpy(), rtol=1e-6)
    weights = np.random.default_rng(3).normal(size=(base.features(x).shape[-1], 1))
    discriminator.spread_score.kernel.assign(weights.astype("float32"))
    spread = models.ClassStddev(NUM_CLASSES)([base.features(x), LABELS]).numpy()
    np.testing.assert_allclose(discriminator([x, LABELS]).numpy(),
                               plain([x, LABELS]).numpy() + spread @ weights, rtol=1e-5,
                               atol=1e-6)
    copy = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(
        discriminator))
    assert copy.class_stddev
    with pytest.raises(ValueError, match="class_stddev needs a projection discriminator"):
        models.conditioned_discriminator("acgan", base, NUM_CLASSES, class_stddev=True)


def test_concat_joins_the_one_hot_label_to_every_pixel():
    discriminator = _discriminator("concat", "dcgan")
    images = np.ones((4, 28, 28, 1), "float32")
    joined = discriminator.with_labels(tf.constant(images), LABELS).numpy()
    assert joined.shape == (4, 28, 28, 1 + NUM_CLASSES)
    np.testing.assert_array_equal(joined[..., 0], 1.0)
    for row, label in enumerate(LABELS):
        np.testing.assert_array_equal(joined[row, 5, 7, 1:], np.eye(NUM_CLASSES)[label])
    np.testing.assert_array_equal(
        discriminator([images, LABELS]).numpy(),
        discriminator.discriminator(joined).numpy())


def test_acgan_logit_ignores_the_label_and_the_classifier_reads_the_features():
    discriminator = _discriminator("acgan", "mlp")
    x = _x((2,))
    np.testing.assert_array_equal(discriminator([x, LABELS]).numpy(),
                                  discriminator([x, LABELS[::-1]]).numpy())
    features = discriminator.discriminator.features(x).numpy()
    kernel, bias = (w.numpy() for w in discriminator.classifier.weights)
    logits, class_logits = discriminator.logits_and_class_logits([x, LABELS])
    np.testing.assert_allclose(class_logits.numpy(), features @ kernel + bias,
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(logits.numpy(), discriminator([x, LABELS]).numpy(), rtol=1e-6)


def test_conditional_batch_norm_scales_and_shifts_per_class():
    norm = models.ConditionalBatchNormalization(NUM_CLASSES)
    x = np.random.default_rng(2).normal(3.0, 2.0, size=(4, 5, 5, 2)).astype("float32")
    norm(x, LABELS, training=True)
    gamma = np.arange(1, 1 + NUM_CLASSES * 2, dtype="float32").reshape(NUM_CLASSES, 2)
    beta = -np.arange(NUM_CLASSES * 2, dtype="float32").reshape(NUM_CLASSES, 2)
    norm.gamma.assign(gamma)
    norm.beta.assign(beta)
    out = norm(x, LABELS, training=True).numpy()
    normalized = (x - x.mean(axis=(0, 1, 2))) / np.sqrt(x.var(axis=(0, 1, 2)) + 1e-3)
    expected = normalized * gamma[LABELS][:, None, None] + beta[LABELS][:, None, None]
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)
    assert norm.get_config()["num_classes"] == NUM_CLASSES


def test_conditional_dcgan_generator_normalises_with_labels():
    generator = models.DCGANGenerator(z_dim=4, data_shape=(28, 28, 1), num_classes=NUM_CLASSES)
    generator([np.zeros((4, 4), "float32"), LABELS])
    layers = generator.conditional_layers
    assert sum(isinstance(layer, models.ConditionalBatchNormalization) for layer in layers) == 3
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in layers)


def test_a_checkpoint_restores_every_variable_of_a_conditional_dcgan(tmp_path):
    def trained_generator():
        generator = models.DCGANGenerator(z_dim=4, data_shape=(28, 28, 1), width=0.25,
                                          num_classes=NUM_CLASSES)
        generator([np.zeros((4, 4), "float32"), LABELS])
        return generator

    generator = trained_generator()
    # Batch-norm statistics and gamma/beta away from their initial values.
    generator([np.random.default_rng(0).normal(size=(4, 4)).astype("float32"), LABELS],
              training=True)
    for weight in generator.weights:
        weight.assign(weight + 0.5)
    path = tf.train.Checkpoint(generator=generator).save(str(tmp_path / "ckpt"))
    restored = trained_generator()
    tf.train.Checkpoint(generator=restored).restore(path).assert_existing_objects_matched()
    assert len(restored.weights) == len(generator.weights) == 16
    for saved, loaded in zip(generator.weights, restored.weights):
        np.testing.assert_array_equal(saved.numpy(), loaded.numpy(), err_msg=saved.path)
