"""Short runs of the recipes' options: each must still learn a 1-D Gaussian.

The runs skip `training.train`'s pictures and checkpoints (its own tests cover them): the GAN
that `training.build_gan` makes from the options trains in one compiled block, so a run costs a
few seconds. Each checks the EMA-free generator's samples against the data's mean and std.
"""

import numpy as np
import pytest
import tensorflow as tf

from tfgan import data as data_lib
from tfgan import training, training_loop
from tfgan.config import TrainConfig
from tfgan.data import toys

STEPS = 600


def _config(**overrides):
    options = dict(
        workdir="unused", dataset="gaussian_1d", architecture="mlp", z_dim=1,
        g_hidden_units=(16, 16), d_hidden_units=(32, 32), activation="leaky_relu",
        output_activation="linear", optimizer="adam", learning_rate=2e-3, beta1=0.5,
        batch_size=128, steps=STEPS, seed=1,
    )
    options.update(overrides)
    return TrainConfig(**options).validate()


def _short_run(config):
    """Trains `config`'s GAN for `config.steps` steps; returns it."""
    dataset, info = data_lib.load_dataset(
        config.dataset, batch_size=config.batch_size, value_range=None, seed=config.seed)
    gan = training.build_gan(config, training.DataSpec.from_info(info))
    training_loop.run_steps(gan, dataset, config.steps, steps_per_execution=config.steps,
                            jit_compile=config.jit_compile)
    return gan


def _assert_learns_the_gaussian(gan, generator=None):
    z = tf.random.uniform([5000, 1], -1.0, 1.0, seed=3)
    samples = (generator or gan.generator)(z).numpy().ravel()
    assert abs(samples.mean() - toys.GAUSSIAN_1D_MEAN) < 0.3, samples.mean()
    assert abs(samples.std() - toys.GAUSSIAN_1D_STD) < 0.25, samples.std()


@pytest.mark.parametrize("overrides", [
    # Adam as SN-GAN and WGAN-GP train their hinge and critic losses; with beta1=0.5 the
    # unbounded hinge critic leaves the samples' spread at a third of the data's here.
    dict(loss="hinge", beta1=0.0, beta2=0.9),
    dict(loss="relativistic_pairing"),
])
def test_loss_learns_the_gaussian(overrides):
    _assert_learns_the_gaussian(_short_run(_config(**overrides)))


def test_two_time_scales_give_each_optimizer_its_rate():
    gan = training.build_gan(_config(d_learning_rate=4e-3, g_learning_rate=1e-3),
                             training.DataSpec("points", (1,), None))
    np.testing.assert_allclose(float(gan.d_optimizer.learning_rate), 4e-3)
    np.testing.assert_allclose(float(gan.g_optimizer.learning_rate), 1e-3)


def test_resumed_run_takes_the_new_rates_of_its_flags(tmp_path):
    options = dict(workdir=str(tmp_path / "run"), steps=2, sample_every=2, log_every=2,
                   checkpoint_every=2, num_grid_samples=4, steps_per_execution=2,
                   d_learning_rate=4e-3)
    training.train(_config(**options))
    resumed = training.train(_config(**{**options, "steps": 3, "d_learning_rate": 1e-4,
                                        "g_learning_rate": 2e-4}))
    np.testing.assert_allclose(float(resumed.d_optimizer.learning_rate), 1e-4)
    np.testing.assert_allclose(float(resumed.g_optimizer.learning_rate), 2e-4)


def test_two_time_scales_learn_the_gaussian():
    # Heusel et al. 2017 train the discriminator at a few times the generator's rate.
    _assert_learns_the_gaussian(_short_run(_config(d_learning_rate=4e-3, g_learning_rate=1e-3)))


@pytest.mark.parametrize("overrides", [
    dict(gradient_penalty="r1", gradient_penalty_weight=1.0),
    # R3GAN's objective: relativistic pairing with both zero-centred penalties.
    dict(loss="relativistic_pairing", gradient_penalty="r1_r2", gradient_penalty_weight=1.0),
])
def test_zero_centred_penalties_learn_the_gaussian(overrides):
    gan = _short_run(_config(**overrides))
    assert float(gan.trackers["gradient_penalty"].result()) > 0
    _assert_learns_the_gaussian(gan)


def test_spectral_norm_learns_the_gaussian_then_trains_under_xla_and_exports(tmp_path):
    config = _config(spectral_norm=True)
    gan = _short_run(config)
    _assert_learns_the_gaussian(gan)

    # Two more steps compiled with XLA, then the discriminator (power-iteration vectors and
    # all) goes through the export and its `discriminate` signature.
    dataset, _ = data_lib.load_dataset(
        config.dataset, batch_size=config.batch_size, value_range=None, seed=config.seed)
    u_before = [w.numpy() for w in gan.discriminator.non_trainable_weights]
    training_loop.run_steps(gan, dataset, STEPS + 2, steps_per_execution=2, jit_compile=True)
    u_after = [w.numpy() for w in gan.discriminator.non_trainable_weights]
    # Two hidden layers' u moved; the logit layer's u is [1] (a 1-unit layer's only direction).
    assert [np.array_equal(a, b) for a, b in zip(u_before, u_after)] == [False, False, True]
    path = training.export_trained(gan, config, training.DataSpec("points", (1,), None),
                                   str(tmp_path / "export"))
    samples = np.array([[3.0], [4.0], [5.5]], np.float32)
    logits = tf.saved_model.load(path).signatures["discriminate"](samples=samples)["logits"]
    np.testing.assert_allclose(logits, gan.discriminator(samples)[:, 0], rtol=1e-5, atol=1e-6)


def test_learning_rates_are_scheduled_over_each_networks_updates():
    # k_d = 2: the discriminator's optimizer makes two updates a step, so its schedule spans
    # twice the updates.
    gan = training.build_gan(
        _config(steps=100, k_d=2, lr_schedule="linear", lr_warmup_steps=10,
                d_learning_rate=4e-3),
        training.DataSpec("points", (1,), None))
    for optimizer, rate, updates in ((gan.d_optimizer, 4e-3, 2), (gan.g_optimizer, 2e-3, 1)):
        optimizer.iterations.assign(10 * updates - 1)  # the warm-up's last update
        np.testing.assert_allclose(float(optimizer.learning_rate), rate, rtol=1e-6)
        optimizer.iterations.assign(55 * updates)  # half-way down the decay
        np.testing.assert_allclose(float(optimizer.learning_rate), rate / 2, rtol=1e-6)


def test_scheduled_run_resumes_on_its_schedule(tmp_path):
    options = dict(workdir=str(tmp_path / "run"), steps=2, sample_every=2, log_every=2,
                   checkpoint_every=2, num_grid_samples=4, steps_per_execution=2,
                   lr_schedule="cosine", lr_warmup_steps=1)
    training.train(_config(**options))
    resumed = training.train(_config(**{**options, "steps": 4}))
    assert int(resumed.g_optimizer.iterations) == 4
    # Update 4 of 4 is the cosine's end.
    np.testing.assert_allclose(float(resumed.g_optimizer.learning_rate), 0.0, atol=1e-12)


def test_cosine_rates_with_warmup_and_ema_warmup_learn_the_gaussian():
    # Without the EMA's warm-up, 0.999 ** 600 = 55 % of the average would still be the
    # initial generator.
    gan = _short_run(_config(lr_schedule="cosine", lr_warmup_steps=50, ema_decay=0.999,
                             ema_warmup=True))
    _assert_learns_the_gaussian(gan, gan.ema_generator)


def test_unrolled_generator_updates_learn_the_gaussian():
    gan = _short_run(_config(unrolled_steps=3))
    assert gan.unrolled_learning_rate == 2e-3  # 0: the discriminator's rate
    _assert_learns_the_gaussian(gan)
