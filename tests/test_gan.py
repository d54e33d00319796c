import os
import subprocess
import sys
import textwrap
import types

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgan import gan as gan_lib
from tfgan import losses, penalties, priors, schedules

Z_DIM = 3
DATA_SHAPE = (2,)
BATCH = 8


@keras.saving.register_keras_serializable(package="tfgan_test_gan")
class TinyGenerator(keras.Model):
    """z `[batch, z_dim]` -> samples `[batch, *data_shape]` float32, per the generator contract."""

    def __init__(
        self,
        z_dim=Z_DIM,
        data_shape=DATA_SHAPE,
        output_activation="linear",
        batch_norm=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.z_dim = z_dim
        self.data_shape = tuple(data_shape)
        self.output_activation = output_activation
        self.batch_norm = batch_norm
        self.hidden = keras.layers.Dense(8, activation="relu")
        self.norm = keras.layers.BatchNormalization() if batch_norm else None
        self.out = keras.layers.Dense(
            int(np.prod(self.data_shape)), activation=output_activation, dtype="float32"
        )
        self.reshape = keras.layers.Reshape(self.data_shape, dtype="float32")

    def call(self, z, training=None):
        h = self.hidden(z)
        if self.norm is not None:
            h = self.norm(h, training=training)
        return self.reshape(self.out(h))

    def get_config(self):
        return {
            **super().get_config(),
            "z_dim": self.z_dim,
            "data_shape": self.data_shape,
            "output_activation": self.output_activation,
            "batch_norm": self.batch_norm,
        }


@keras.saving.register_keras_serializable(package="tfgan_test_gan")
class TinyDiscriminator(keras.Model):
    """x `[batch, *data_shape]` -> logits `[batch, 1]` float32; `features` is the hidden layer."""

    def __init__(self, units=8, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.flatten = keras.layers.Flatten()
        self.hidden = keras.layers.Dense(units, activation="relu")
        self.logits = keras.layers.Dense(1, dtype="float32")

    def features(self, x, training=None):
        return self.hidden(self.flatten(x))

    def call(self, x, training=None):
        return self.logits(self.features(x, training=training))

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def make_gan(
    schedule=None,
    ema_decay=None,
    batch_norm=False,
    seed=3,
    loss="non_saturating",
    gradient_penalty_weight=0.0,
    optimizer=keras.optimizers.Adam,
    build=True,
    pack=1,
    **compile_kwargs,
):
    gan = gan_lib.GAN(
        TinyGenerator(batch_norm=batch_norm),
        TinyDiscriminator(),
        prior="uniform",
        schedule=schedule,
        ema_decay=ema_decay,
        seed=seed,
        pack=pack,
    )
    gan.compile(
        optimizer(1e-2),
        optimizer(1e-2),
        loss=loss,
        gradient_penalty_weight=gradient_penalty_weight,
        **compile_kwargs,
    )
    if build:
        gan.build_all(DATA_SHAPE)
    return gan


def real_batch(seed=0):
    return tf.random.stateless_normal((BATCH, *DATA_SHAPE), seed=[seed, 0]) + 2.0


@pytest.fixture
def mixed_float16():
    keras.config.set_dtype_policy("mixed_float16")
    try:
        yield
    finally:
        keras.config.set_dtype_policy("float32")


def _copy(weights):
    return [w.numpy() for w in weights]


def _packed_points(points, pack):
    """Packs of 2-D points by hand: consecutive rows side by side, [n, 2] -> [n / pack, 2 pack]."""
    return points if pack == 1 else tf.reshape(points, (-1, 2 * pack))


def test_pack_samples_puts_consecutive_points_side_by_side():
    points = np.arange(12, dtype=np.float32).reshape(6, 2)
    np.testing.assert_array_equal(
        gan_lib.pack_samples(points, 3), [[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11]])
    np.testing.assert_array_equal(
        gan_lib.pack_samples(points, 2), [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]])


def test_pack_samples_stacks_images_along_channels():
    # Sample i, pixel (0, w), channel c holds 100 i + 10 w + c.
    i, w, c = np.meshgrid(np.arange(4), np.arange(2), np.arange(2), indexing="ij")
    images = (100 * i + 10 * w + c).astype(np.float32).reshape(4, 1, 2, 2)
    packs = gan_lib.pack_samples(images, 2).numpy()
    assert packs.shape == (2, 1, 2, 4) == (2, *gan_lib.packed_shape((1, 2, 2), 2))
    np.testing.assert_array_equal(packs[0, 0], [[0, 1, 100, 101], [10, 11, 110, 111]])
    np.testing.assert_array_equal(packs[1, 0], [[200, 201, 300, 301], [210, 211, 310, 311]])


def test_pack_of_one_is_the_identity():
    images = tf.random.stateless_normal((3, 4, 4, 3), seed=[1, 2])
    packs = gan_lib.pack_samples(images, 1)
    assert packs.dtype == images.dtype
    np.testing.assert_array_equal(packs, images)
    assert gan_lib.packed_shape((28, 28, 3), 1) == (28, 28, 3)
    assert gan_lib.packed_shape((2,), 4) == (8,)
    assert gan_lib.packed_shape((28, 28, 3), 4) == (28, 28, 12)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: gan_lib.pack_samples(np.zeros((5, 2), np.float32), 2), r"Received: batch_size=5$"),
        (lambda: gan_lib.pack_samples(np.zeros((4, 2), np.float32), 0), r"Received: pack=0$"),
        (lambda: gan_lib.packed_shape((2,), True), r"Received: pack=True$"),
        (lambda: make_gan(pack=1.5), r"Received: pack=1.5$"),
    ],
)
def test_invalid_pack_raises(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("pack", [1, 2, 4])
def test_discriminator_judges_packs_of_real_and_generated_samples(pack):
    gan = make_gan(schedules.make_schedule("simultaneous"), pack=pack)
    # Built for packs: the first Dense layer sees 2 * pack inputs.
    assert gan.discriminator.hidden.kernel.shape == (2 * pack, 8)
    real = real_batch()
    z = priors.sample_prior(BATCH, Z_DIM, "uniform", keras.random.SeedGenerator(3))
    real_logits = gan.discriminator(_packed_points(real, pack), training=True)
    fake_logits = gan.discriminator(_packed_points(gan.generator(z), pack), training=True)
    assert real_logits.shape == (BATCH // pack, 1)
    np.testing.assert_allclose(gan(real), real_logits, rtol=1e-6)

    logs = gan.train_step(real)

    expected_d_loss = losses.non_saturating_discriminator_loss(real_logits, fake_logits)
    np.testing.assert_allclose(logs["d_loss"], expected_d_loss, rtol=1e-5)
    np.testing.assert_allclose(logs["g_loss"], losses.non_saturating_generator_loss(fake_logits),
                               rtol=1e-5)
    np.testing.assert_allclose(logs["d_real"], np.mean(tf.sigmoid(real_logits)), rtol=1e-5)
    np.testing.assert_allclose(logs["d_fake"], np.mean(tf.sigmoid(fake_logits)), rtol=1e-5)


@pytest.mark.parametrize(
    "schedule, d_updates, g_updates",
    [
        (schedules.make_schedule("alternating", d_steps=1, g_steps=2), 1, 2),
        (schedules.make_schedule("alternating", d_steps=3, g_steps=1), 3, 1),
        (schedules.make_schedule("simultaneous"), 1, 1),
    ],
)
def test_schedule_update_counts(schedule, d_updates, g_updates):
    gan = make_gan(schedule)
    gan.train_step(real_batch())
    assert int(gan.d_optimizer.iterations) == d_updates
    assert int(gan.g_optimizer.iterations) == g_updates
    assert int(gan.step) == 1


@pytest.mark.parametrize("pack", [1, 2])
def test_worse_schedule_updates_exactly_the_losing_network(pack):
    gan = make_gan(schedules.make_schedule("worse"), pack=pack)
    before = _copy(gan.discriminator.weights) + _copy(gan.generator.weights)
    z = priors.sample_prior(BATCH, Z_DIM, "uniform", keras.random.SeedGenerator(3))
    real = real_batch()
    d_is_worse = bool(schedules.worse_network_is_discriminator(
        gan.discriminator(_packed_points(real, pack), training=True),
        gan.discriminator(_packed_points(gan.generator(z, training=True), pack), training=True),
    ))
    logs = gan.train_step(real)
    counts = (int(gan.d_optimizer.iterations), int(gan.g_optimizer.iterations))
    assert counts == ((1, 0) if d_is_worse else (0, 1))
    assert float(logs["d_updated"]) == float(d_is_worse)
    after = _copy(gan.discriminator.weights) + _copy(gan.generator.weights)
    num_d = len(gan.discriminator.weights)
    changed = [not np.array_equal(b, a) for b, a in zip(before, after)]
    assert any(changed[:num_d]) == d_is_worse
    assert any(changed[num_d:]) == (not d_is_worse)


@pytest.mark.parametrize("kind", ["simultaneous", "alternating"])
def test_reported_values_are_this_steps_values(kind):
    gan = make_gan(schedules.make_schedule(kind))
    real = real_batch()
    # The GAN's first two draws of z, from a seed generator in the same initial state.
    replay = keras.random.SeedGenerator(3)
    z_first = priors.sample_prior(BATCH, Z_DIM, "uniform", replay)
    z_second = priors.sample_prior(BATCH, Z_DIM, "uniform", replay)
    real_logits = gan.discriminator(real, training=True)
    fake_logits = gan.discriminator(gan.generator(z_first, training=True), training=True)
    g_weights_before = _copy(gan.generator.weights)

    logs = gan.train_step(real)

    assert set(logs) == {"d_loss", "g_loss", "d_real", "d_fake"}
    for value in logs.values():
        assert value.dtype == tf.float32 and value.shape == ()
    expected_d_loss = losses.non_saturating_discriminator_loss(real_logits, fake_logits)
    np.testing.assert_allclose(logs["d_loss"], expected_d_loss, rtol=1e-5)
    np.testing.assert_allclose(logs["d_real"], np.mean(tf.sigmoid(real_logits)), rtol=1e-5)
    np.testing.assert_allclose(logs["d_fake"], np.mean(tf.sigmoid(fake_logits)), rtol=1e-5)
    if kind == "simultaneous":
        expected_g_loss = losses.non_saturating_generator_loss(fake_logits)
    else:
        # The generator update sees a fresh z and the already-updated discriminator.
        gan.generator.set_weights(g_weights_before)
        expected_g_loss = losses.non_saturating_generator_loss(
            gan.discriminator(gan.generator(z_second, training=True), training=True)
        )
    np.testing.assert_allclose(logs["g_loss"], expected_g_loss, rtol=1e-5)


@pytest.mark.parametrize("pack", [1, 2])
def test_relativistic_generator_loss_pairs_real_and_generated_packs(pack):
    gan = make_gan(schedules.make_schedule("alternating"), loss="relativistic_pairing", pack=pack)
    real = real_batch()
    replay = keras.random.SeedGenerator(3)
    z_first = priors.sample_prior(BATCH, Z_DIM, "uniform", replay)
    z_second = priors.sample_prior(BATCH, Z_DIM, "uniform", replay)
    expected_d_loss = losses.relativistic_pairing_discriminator_loss(
        gan.discriminator(_packed_points(real, pack)),
        gan.discriminator(_packed_points(gan.generator(z_first), pack)),
    )
    g_weights_before = _copy(gan.generator.weights)

    logs = gan.train_step(real)

    np.testing.assert_allclose(logs["d_loss"], expected_d_loss, rtol=1e-5)
    # The generator's update compares the updated discriminator's logits on the same real
    # packs with its logits on packs of the second z.
    gan.generator.set_weights(g_weights_before)
    expected_g_loss = losses.relativistic_pairing_generator_loss(
        gan.discriminator(_packed_points(real, pack)),
        gan.discriminator(_packed_points(gan.generator(z_second), pack)),
    )
    np.testing.assert_allclose(logs["g_loss"], expected_g_loss, rtol=1e-5)


class Affine(keras.Model):
    """x W + b with `units` outputs: a generator G(z) = z A + c of 2-D points (z_dim 2), whose
    mean moves with c one for one, or a critic D(x) = <w, x> + b (units 1)."""

    z_dim, data_shape, output_activation = 2, (2,), "linear"

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.dense = keras.layers.Dense(units)

    def call(self, x, training=None):
        return self.dense(x)


def test_unrolled_generator_loss_looks_k_discriminator_steps_ahead():
    # With the Wasserstein loss L_D = <w, m_f - m_r> (m_f, m_r: mean generated and real
    # points), each unrolled step is w <- w - eta (m_f - m_r), so after K steps
    # w_K = w - K eta (m_f - m_r) and L_G = -(<w_K, m_f> + b), whose gradient through the
    # unrolling is dL_G/dm_f = -w + K eta (2 m_f - m_r): G's bias c moves by minus that.
    K, eta, g_rate = 3, 0.1, 0.5
    gan = gan_lib.GAN(Affine(2), Affine(1), schedule=schedules.make_schedule(), seed=3)
    # The discriminator's own update has rate 0, so the generator sees the initial w.
    gan.compile(keras.optimizers.SGD(0.0), keras.optimizers.SGD(g_rate), loss="wasserstein",
                unrolled_steps=K, unrolled_learning_rate=eta)
    gan.build_all((2,))
    w, b = np.array([[1.0], [-2.0]], np.float32), np.array([0.5], np.float32)
    gan.discriminator.dense.set_weights([w, b])
    replay = keras.random.SeedGenerator(3)
    priors.sample_prior(BATCH, 2, "uniform", replay)  # the discriminator update's z
    z = priors.sample_prior(BATCH, 2, "uniform", replay)
    real = real_batch()
    m_f = np.mean(gan.generator(z).numpy(), axis=0)
    m_r = np.mean(real.numpy(), axis=0)
    c_before = gan.generator.dense.bias.numpy()

    logs = gan.train_step(real)

    w_k = w[:, 0] - K * eta * (m_f - m_r)
    np.testing.assert_allclose(logs["g_loss"], -(w_k @ m_f + b[0]), rtol=1e-5)
    expected_grad = -w[:, 0] + K * eta * (2 * m_f - m_r)
    np.testing.assert_allclose(gan.generator.dense.bias.numpy(), c_before - g_rate * expected_grad,
                               rtol=1e-5, atol=1e-6)
    # The discriminator's variables keep their values: only values were unrolled.
    np.testing.assert_array_equal(gan.discriminator.dense.kernel.numpy(), w)


@pytest.mark.parametrize("pack", [1, 2])
def test_gradient_penalty_is_reported_and_added_to_d_loss(pack):
    gan = make_gan(
        schedules.make_schedule("simultaneous"), loss="wasserstein", gradient_penalty_weight=10.0,
        pack=pack,
    )
    real = real_batch()
    z = priors.sample_prior(BATCH, Z_DIM, "uniform", keras.random.SeedGenerator(3))
    critic_loss = losses.wasserstein_discriminator_loss(
        gan.discriminator(_packed_points(real, pack)),
        gan.discriminator(_packed_points(gan.generator(z), pack)),
    )
    logs = gan.train_step(real)
    assert set(logs) == {"d_loss", "g_loss", "d_real", "d_fake", "gradient_penalty"}
    assert logs["gradient_penalty"].dtype == tf.float32 and float(logs["gradient_penalty"]) > 0
    np.testing.assert_allclose(
        logs["d_loss"], critic_loss + 10.0 * logs["gradient_penalty"], rtol=1e-5
    )


def test_wgan_gp_critic_update_is_algorithm_1_written_out(monkeypatch):
    # Gulrajani et al. 2017, Algorithm 1, lines 4-9, by hand with plain TensorFlow: the
    # critic's update in the train step must be exactly this SGD step (the grid's 0/25 with
    # WGAN-GP is the game's dynamics, docs/mode_collapse.md, not a wrong gradient).
    eps = tf.constant([[0.1], [0.9], [0.5], [0.3], [0.7], [0.0], [1.0], [0.25]])
    monkeypatch.setattr(penalties, "rng", types.SimpleNamespace(uniform=lambda shape, _: eps))
    gan = make_gan(schedules.make_schedule("simultaneous"), loss="wasserstein",
                   gradient_penalty_weight=10.0, optimizer=keras.optimizers.SGD)
    real = real_batch()
    z = priors.sample_prior(BATCH, Z_DIM, "uniform", keras.random.SeedGenerator(3))
    critic = gan.discriminator
    with tf.GradientTape() as tape:
        generated = gan.generator(z)
        x_hat = eps * real + (1.0 - eps) * generated
        with tf.GradientTape() as inner:
            inner.watch(x_hat)
            critic_of_x_hat = critic(x_hat)
        slopes = tf.norm(inner.gradient(critic_of_x_hat, x_hat), axis=1)
        loss = (tf.reduce_mean(critic(generated)) - tf.reduce_mean(critic(real))
                + 10.0 * tf.reduce_mean((slopes - 1.0) ** 2))
    grads = tape.gradient(loss, critic.trainable_weights)
    expected = [w.numpy() - 1e-2 * g.numpy() for w, g in zip(critic.trainable_weights, grads)]

    logs = gan.train_step(real)

    np.testing.assert_allclose(logs["d_loss"], loss, rtol=1e-5)
    for weight, want in zip(critic.trainable_weights, expected):
        np.testing.assert_allclose(weight.numpy(), want, rtol=1e-5, atol=1e-6)


def test_lazy_regularisation_takes_the_penalty_every_kth_step_k_times():
    gan = make_gan(schedules.make_schedule("simultaneous"), gradient_penalty_weight=0.5,
                   gradient_penalty="r1", gradient_penalty_every=2,
                   optimizer=keras.optimizers.SGD)
    seed_generator = keras.random.SeedGenerator(3)
    penalties_taken = []
    for step in range(3):
        real = real_batch(step)
        z = priors.sample_prior(BATCH, Z_DIM, "uniform", seed_generator)
        d_loss = losses.non_saturating_discriminator_loss(
            gan.discriminator(real), gan.discriminator(gan.generator(z)))
        penalty = float(penalties.r1_gradient_penalty(gan.discriminator, real))
        due = step % 2 == 0
        penalties_taken += [penalty] if due else []
        gan.reset_metrics()
        logs = gan.train_step(real)
        # Steps 0 and 2 pay the penalty twice over; step 1 none of it.
        np.testing.assert_allclose(logs["d_loss"], d_loss + (2 * 0.5 * penalty if due else 0),
                                   rtol=1e-5)
        np.testing.assert_allclose(logs["gradient_penalty"], penalty if due else 0.0,
                                   rtol=1e-5)
    # Over an interval the log averages the steps that took the penalty, not every step.
    gan.reset_metrics()
    for step in range(3, 5):
        penalties_taken.append(float(penalties.r1_gradient_penalty(
            gan.discriminator, real_batch(step))) if step % 2 == 0 else None)
        logs = gan.train_step(real_batch(step))
    np.testing.assert_allclose(logs["gradient_penalty"], penalties_taken[-1], rtol=1e-5)
    with pytest.raises(ValueError, match="gradient_penalty_every=0$"):
        make_gan(gradient_penalty_every=0)


@pytest.mark.parametrize("penalty", ["r1", "r2", "r1_r2"])
@pytest.mark.parametrize("pack", [1, 2])
def test_r1_and_r2_penalties_are_taken_on_the_steps_packs(penalty, pack):
    gan = make_gan(schedules.make_schedule("simultaneous"), gradient_penalty_weight=0.5,
                   gradient_penalty=penalty, pack=pack)
    real = real_batch()
    z = priors.sample_prior(BATCH, Z_DIM, "uniform", keras.random.SeedGenerator(3))
    real_packs = _packed_points(real, pack)
    generated_packs = _packed_points(gan.generator(z), pack)
    expected_penalty = penalties.gradient_penalty(
        penalty, gan.discriminator, real_packs, generated_packs, None)
    d_loss = losses.non_saturating_discriminator_loss(
        gan.discriminator(real_packs), gan.discriminator(generated_packs))

    logs = gan.train_step(real)

    np.testing.assert_allclose(logs["gradient_penalty"], expected_penalty, rtol=1e-5)
    np.testing.assert_allclose(logs["d_loss"], d_loss + 0.5 * expected_penalty, rtol=1e-5)


def test_ema_warmup_ramps_the_decay_over_the_generator_updates():
    # Two generator updates per step: decays min(0.999, 1/10) and min(0.999, 2/11), then
    # 3/12 and 4/13 at the second step.
    gan = gan_lib.GAN(TinyGenerator(), TinyDiscriminator(), ema_decay=0.999, ema_warmup=True,
                      schedule=schedules.make_schedule("alternating", g_steps=2), seed=3)
    gan.compile(keras.optimizers.SGD(1e-2), keras.optimizers.SGD(1e-2))
    gan.build_all(DATA_SHAPE)
    ema = _copy(gan.generator.weights)
    updates = 0
    for step in range(2):
        weights = []
        original_apply = gan.g_optimizer.apply

        def recording_apply(grads, variables):
            original_apply(grads, variables)
            weights.append(_copy(gan.generator.weights))

        gan.g_optimizer.apply = recording_apply
        gan.train_step(real_batch(step))
        gan.g_optimizer.apply = original_apply
        for w in weights:
            decay = min(0.999, (1 + updates) / (10 + updates))
            ema = [decay * e + (1 - decay) * x for e, x in zip(ema, w)]
            updates += 1
    for expected, actual in zip(ema, gan.ema_generator.weights):
        np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-7)


def test_ema_after_one_step_follows_the_formula():
    decay = 0.75
    gan = make_gan(schedules.make_schedule("simultaneous"), ema_decay=decay, batch_norm=True)
    initial = _copy(gan.generator.weights)
    # Built as an exact copy, batch-norm statistics included.
    for ema_weight, weight in zip(gan.ema_generator.weights, initial):
        np.testing.assert_array_equal(ema_weight, weight)
    gan.train_step(real_batch())
    updated = _copy(gan.generator.weights)
    assert not np.allclose(updated[-1], initial[-1])
    for ema_weight, w0, w1 in zip(gan.ema_generator.weights, initial, updated):
        np.testing.assert_allclose(ema_weight, decay * w0 + (1 - decay) * w1, rtol=1e-6, atol=1e-7)
    # Building again must not reset the average to the generator's weights.
    averaged = _copy(gan.ema_generator.weights)
    gan.build_all(DATA_SHAPE)
    for ema_weight, before in zip(gan.ema_generator.weights, averaged):
        np.testing.assert_array_equal(ema_weight, before)


def test_sampling_generator_and_generate():
    plain = make_gan()
    assert plain.sampling_generator is plain.generator
    with_ema = make_gan(schedules.make_schedule("simultaneous"), ema_decay=0.5)
    assert with_ema.sampling_generator is with_ema.ema_generator
    with_ema.train_step(real_batch())
    z = priors.stateless_prior(4, Z_DIM, "uniform", 0)
    samples = with_ema.generate(z)
    assert samples.shape == (4, *DATA_SHAPE) and samples.dtype == tf.float32
    np.testing.assert_allclose(samples, with_ema.ema_generator(z, training=False))
    assert not np.allclose(samples, with_ema.generator(z, training=False))
    x = real_batch()
    np.testing.assert_allclose(with_ema(x), with_ema.discriminator(x))


def test_jit_compiled_fit_builds_lazily_and_counts_steps():
    gan = make_gan(
        schedules.make_schedule("worse"),
        ema_decay=0.9,
        loss="hinge",
        gradient_penalty_weight=1.0,
        build=False,
        jit_compile=True,
        steps_per_execution=2,
    )
    data = tf.data.Dataset.from_tensors(real_batch()).repeat()
    history = gan.fit(data, steps_per_epoch=4, epochs=1, verbose=0, shuffle=False)
    assert set(history.history) == {"d_loss", "g_loss", "d_real", "d_fake", "gradient_penalty",
                                    "d_updated"}
    assert all(np.isfinite(v[0]) for v in history.history.values())
    assert int(gan.step) == 4
    assert int(gan.d_optimizer.iterations) + int(gan.g_optimizer.iterations) == 4
    assert len(gan.ema_generator.weights) == len(gan.generator.weights)


def test_mixed_float16_scales_losses_and_reports_float32(mixed_float16):
    gan = make_gan(schedules.make_schedule("alternating", g_steps=2), ema_decay=0.9)
    assert isinstance(gan.d_optimizer, keras.optimizers.LossScaleOptimizer)
    assert isinstance(gan.g_optimizer, keras.optimizers.LossScaleOptimizer)
    assert gan.generator.hidden.compute_dtype == "float16"
    logs = gan.train_step(real_batch())
    assert all(value.dtype == tf.float32 for value in logs.values())
    assert all(np.isfinite(value) for value in logs.values())
    # Finite scaled gradients: the updates were applied, not skipped.
    assert int(gan.d_optimizer.iterations) == 1 and int(gan.g_optimizer.iterations) == 2
    networks = (gan.generator, gan.discriminator, gan.ema_generator)
    assert all(w.dtype == "float32" for network in networks for w in network.weights)
    assert gan.step.dtype == "int64"


def test_checkpoint_round_trip_is_exact(tmp_path):
    def everything(gan):
        state = [gan.step, gan.seed_generator.state]
        state += gan.generator.weights + gan.discriminator.weights + gan.ema_generator.weights
        state += gan.d_optimizer.variables + gan.g_optimizer.variables
        return _copy(state)

    schedule = schedules.make_schedule("alternating", g_steps=2)
    original = make_gan(schedule, ema_decay=0.9, batch_norm=True)
    for seed in range(2):
        original.train_step(real_batch(seed))
    path = tf.train.Checkpoint(gan=original).save(str(tmp_path / "ckpt"))

    restored = make_gan(schedule, ema_decay=0.9, batch_norm=True)
    tf.train.Checkpoint(gan=restored).restore(path).assert_consumed()
    assert int(restored.step) == 2 and int(restored.g_optimizer.iterations) == 4
    for a, b in zip(everything(original), everything(restored)):
        np.testing.assert_array_equal(a, b)

    # Resuming continues exactly where the original goes on: same z, same updates. (The
    # trackers are not checkpointed: both report the mean of this one step.)
    original.reset_metrics()
    logs_original = original.train_step(real_batch(2))
    logs_restored = restored.train_step(real_batch(2))
    for name in logs_original:
        np.testing.assert_array_equal(logs_original[name], logs_restored[name])
    for a, b in zip(everything(original), everything(restored)):
        np.testing.assert_array_equal(a, b)


def test_config_round_trip():
    schedule = schedules.make_schedule("alternating", d_steps=1, g_steps=2)
    gan = gan_lib.GAN(
        TinyGenerator(output_activation="tanh"), TinyDiscriminator(units=5), prior="normal",
        schedule=schedule, ema_decay=0.99, seed=11, pack=2, ema_warmup=True, name="toy_gan",
    )
    config = gan.get_config()
    assert {"generator", "discriminator", "prior", "schedule", "ema_decay", "seed",
            "pack", "ema_warmup"} <= set(config)
    clone = gan_lib.GAN.from_config(config)
    assert clone.name == "toy_gan" and clone.prior == "normal" and clone.schedule == schedule
    assert clone.ema_decay == 0.99 and clone.seed == 11 and clone.pack == 2 and clone.ema_warmup
    assert clone.generator.get_config() == gan.generator.get_config()
    assert clone.discriminator.get_config() == gan.discriminator.get_config()
    assert clone.ema_generator.output_activation == "tanh"
    revived = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(gan))
    assert isinstance(revived, gan_lib.GAN) and revived.get_config() == config


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: gan_lib.GAN(TinyGenerator(), TinyDiscriminator(), prior="cauchy"),
         r"Received: prior='cauchy'$"),
        (lambda: gan_lib.GAN(TinyGenerator(), TinyDiscriminator(), ema_decay=1.0),
         r"Received: ema_decay=1.0$"),
        (lambda: gan_lib.GAN(TinyGenerator(), TinyDiscriminator(), ema_warmup=True),
         r"Received: ema_warmup=True$"),
        (lambda: make_gan(gradient_penalty_weight=-1.0),
         r"Received: gradient_penalty_weight=-1.0$"),
        (lambda: make_gan(loss="vanilla"), r"Received: loss='vanilla'$"),
        (lambda: make_gan(gradient_penalty="r3"), r"Received: gradient_penalty='r3'$"),
        (lambda: make_gan(unrolled_steps=-1), r"Received: unrolled_steps=-1$"),
        (lambda: make_gan(unrolled_steps=2), r"Received: unrolled_learning_rate=None$"),
        (lambda: make_gan(schedules.make_schedule("simultaneous"), unrolled_steps=2,
                          unrolled_learning_rate=0.1), r"Received: schedule='simultaneous'$"),
        (lambda: make_gan(build=False).build_all((3,)), r"Received: input_shape=\(None, 3\)$"),
        (lambda: make_gan(mode_seeking_weight=-1.0), r"Received: mode_seeking_weight=-1.0$"),
        (lambda: make_gan(schedules.make_schedule("simultaneous"), mode_seeking_weight=1.0),
         r"'alternating' schedule .* Received: mode_seeking_weight=1.0$"),
    ],
)
def test_invalid_arguments_raise(make, message):
    with pytest.raises(ValueError, match=message):
        make()


_MIRRORED_SCRIPT = textwrap.dedent(
    """
    import sys
    import numpy as np
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

    import keras
    sys.path.insert(0, sys.argv[1])
    import test_gan
    from tfgan import schedules

    schedule = schedules.make_schedule("alternating", d_steps=1, g_steps=2)
    single = test_gan.make_gan(schedule, ema_decay=0.5, optimizer=keras.optimizers.SGD)
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    with strategy.scope():
        mirrored = test_gan.make_gan(schedule, ema_decay=0.5, optimizer=keras.optimizers.SGD)
        try:
            test_gan.make_gan(schedules.make_schedule("worse"))
            sys.exit("worse schedule did not raise under 2 replicas")
        except ValueError as error:
            assert "num_replicas_in_sync=2" in str(error), error
    nets = ("generator", "discriminator", "ema_generator")
    for net in nets:
        getattr(mirrored, net).set_weights(getattr(single, net).get_weights())

    batch = test_gan.real_batch()  # 8 rows: 4 per replica
    single.train_step(batch)
    data = tf.data.Dataset.from_tensors(batch).repeat()
    mirrored.fit(data, steps_per_epoch=1, epochs=1, verbose=0, shuffle=False)

    assert mirrored.step.numpy() == 1, mirrored.step.numpy()
    assert mirrored.g_optimizer.iterations.numpy() == 2
    for net in nets:
        for a, b in zip(getattr(single, net).get_weights(), getattr(mirrored, net).get_weights()):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    print("OK")
    """
)


def test_two_replicas_match_one_replica_on_the_full_batch():
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = subprocess.run(
        [sys.executable, "-c", _MIRRORED_SCRIPT, os.path.dirname(__file__)],
        capture_output=True, text=True, timeout=300, env=env,
    )
    assert result.returncode == 0 and result.stdout.strip().endswith("OK"), result.stderr[-3000:]


# Losses of the first three steps and the sum of the EMA copy's first kernel, recorded with the
# train step as it was before the schedules became classes (commit 2423a41): the refactor moved
# code, not arithmetic.
_PINNED = {
    "alternating": ([[1.8710780143737793, 0.6410759687423706],
                     [1.830604076385498, 0.6314880847930908],
                     [1.8087196350097656, 0.6437018513679504]], 1.8951433897018433),
    "simultaneous": ([[1.8710780143737793, 0.6563056111335754],
                      [1.839311122894287, 0.6571393013000488],
                      [1.8336063623428345, 0.6589817404747009]], 2.185528516769409),
    "worse": ([[1.8710780143737793, 0.6563056111335754],
               [1.834821343421936, 0.6616015434265137],
               [1.828137993812561, 0.6645832061767578]], 2.2996697425842285),
}


@pytest.mark.parametrize("kind", sorted(_PINNED))
def test_fixed_seed_run_matches_the_train_step_before_the_refactor(kind):
    keras.utils.set_random_seed(5)
    g_steps = 2 if kind == "alternating" else 1
    gan = make_gan(schedules.make_schedule(kind, g_steps=g_steps), ema_decay=0.5,
                   gradient_penalty_weight=0.5, gradient_penalty="wgan_gp")
    losses_by_step = []
    for step in range(3):
        logs = gan.train_step(real_batch(step))
        losses_by_step.append([float(logs["d_loss"]), float(logs["g_loss"])])
    expected_losses, expected_ema_sum = _PINNED[kind]
    np.testing.assert_allclose(losses_by_step, expected_losses, rtol=1e-6)
    np.testing.assert_allclose(np.sum(gan.ema_generator.weights[0].numpy()), expected_ema_sum,
                               rtol=1e-6)


def _conditional_gan(conditioning, class_loss_weight=0.0, schedule="simultaneous",
                     classify_generated=True):
    from tfgan import models

    keras.utils.set_random_seed(7)
    base_shape = models.concat_shape(DATA_SHAPE, 3) if conditioning == "concat" else DATA_SHAPE
    gan = gan_lib.GAN(
        models.MLPGenerator(Z_DIM, DATA_SHAPE, hidden_units=(8,), output_activation="linear",
                            num_classes=3),
        models.conditioned_discriminator(
            conditioning, models.MLPDiscriminator(base_shape, hidden_units=(8,)), 3),
        schedule=schedules.make_schedule(schedule), seed=3)
    gan.compile(keras.optimizers.SGD(1e-2), keras.optimizers.SGD(1e-2),
                class_loss_weight=class_loss_weight, classify_generated=classify_generated)
    gan.build_all(DATA_SHAPE)
    return gan


LABELS = tf.constant([0, 1, 2, 2, 1, 0, 0, 1], tf.int32)


@pytest.mark.parametrize("conditioning", ["projection", "concat"])
def test_conditional_step_generates_for_the_real_labels_and_judges_under_them(conditioning):
    gan = _conditional_gan(conditioning)
    real = real_batch()
    z = priors.sample_prior(BATCH, Z_DIM, "uniform", keras.random.SeedGenerator(3))
    real_logits = gan.discriminator([real, LABELS], training=True)
    fake_logits = gan.discriminator([gan.generator([z, LABELS], training=True), LABELS],
                                    training=True)
    logs = gan.train_step((real, LABELS))
    np.testing.assert_allclose(
        logs["d_loss"], losses.non_saturating_discriminator_loss(real_logits, fake_logits),
        rtol=1e-5)
    np.testing.assert_allclose(
        logs["g_loss"], losses.non_saturating_generator_loss(fake_logits), rtol=1e-5)


@pytest.mark.parametrize("conditioning, classify_generated",
                         [("acgan", True), ("dual_projection", False)])
def test_classifying_step_adds_the_weighted_classification_losses(conditioning,
                                                                 classify_generated):
    gan = _conditional_gan(conditioning, class_loss_weight=0.5,
                           classify_generated=classify_generated)
    real = real_batch()
    z = priors.sample_prior(BATCH, Z_DIM, "uniform", keras.random.SeedGenerator(3))
    generated = gan.generator([z, LABELS], training=True)
    (real_logits, real_classes), (fake_logits, fake_classes) = (
        gan.discriminator.logits_and_class_logits([x, LABELS], training=True)
        for x in (real, generated))
    np.testing.assert_allclose(real_logits, gan.discriminator([real, LABELS]), rtol=1e-5)
    logs = gan.train_step((real, LABELS))
    # AC-GAN's discriminator classifies both sides; the dual projection's real data only.
    d_class_loss = (losses.auxiliary_classifier_discriminator_loss(
        LABELS, real_classes, fake_classes) if classify_generated else tf.reduce_mean(
            tf.nn.sparse_softmax_cross_entropy_with_logits(LABELS, real_classes)))
    expected_d = (losses.non_saturating_discriminator_loss(real_logits, fake_logits)
                  + 0.5 * d_class_loss)
    expected_g = (losses.non_saturating_generator_loss(fake_logits)
                  + 0.5 * losses.auxiliary_classifier_generator_loss(LABELS, fake_classes))
    np.testing.assert_allclose(logs["d_loss"], expected_d, rtol=1e-5)
    np.testing.assert_allclose(logs["g_loss"], expected_g, rtol=1e-5)


def test_mode_seeking_generator_update_pairs_halves_made_for_the_same_labels():
    gan = _conditional_gan("projection", schedule="alternating")
    gan.compile(keras.optimizers.SGD(1e-2), keras.optimizers.SGD(1e-2), mode_seeking_weight=0.5)
    replay = keras.random.SeedGenerator(3)
    priors.sample_prior(BATCH, Z_DIM, "uniform", replay)  # the discriminator update's z
    z = priors.sample_prior(BATCH, Z_DIM, "uniform", replay)
    real = real_batch()
    gan.update_discriminator(real, LABELS)
    # The second half is asked for the first half's labels [0, 1, 2, 2].
    paired = tf.constant([0, 1, 2, 2, 0, 1, 2, 2], tf.int32)
    generated = gan.generator([z, paired], training=True)
    expected = (losses.non_saturating_generator_loss(gan.discriminator([generated, paired]))
                + 0.5 * losses.mode_seeking_loss(generated, z))
    np.testing.assert_allclose(gan.update_generator(real, LABELS), expected, rtol=1e-5)


def test_conditional_gan_refuses_unlabelled_batches_and_packs():
    gan = _conditional_gan("concat")
    with pytest.raises(ValueError, match=r"trains on \(samples, labels\) batches"):
        gan.train_step(real_batch())
    with pytest.raises(ValueError, match=r"a pack would mix labels"):
        gan_lib.GAN(gan.generator, gan.discriminator, pack=2)
    with pytest.raises(ValueError, match=r"> 0 only for a discriminator with class logits"):
        gan.compile(keras.optimizers.SGD(), keras.optimizers.SGD(), class_loss_weight=1.0)


@pytest.mark.parametrize("schedule", ["alternating", "worse"])
def test_conditional_gan_trains_with_labels_under_every_schedule(schedule):
    gan = _conditional_gan("projection", schedule=schedule)
    before = _copy(gan.generator.weights) + _copy(gan.discriminator.weights)
    gan.train_step((real_batch(), LABELS))
    after = _copy(gan.generator.weights) + _copy(gan.discriminator.weights)
    assert any(not np.array_equal(b, a) for b, a in zip(before, after))
    samples = gan.generate(tf.zeros((3, Z_DIM)), tf.constant([0, 1, 2]))
    assert samples.shape == (3, *DATA_SHAPE)
