"""Short runs of the recipes' options: each must still learn a 1-D Gaussian.

The runs skip `training.train`'s pictures and checkpoints (its own tests cover them): the GAN
that `training.build_gan` makes from the options trains in one compiled block, so a run costs a
few seconds. Options that work together share a run (R3GAN's loss and penalties; the
optimizers' rates, schedules and EMA). Each run checks the sampling generator's samples
against the data's mean and std; the tolerances are `tests/test_training.py`'s, and like its
run these pass at seed 1 (the spread of a 600-step toy run still varies from seed to seed).
"""

import json

import numpy as np
import pytest
import tensorflow as tf

from serving_fixtures import http
from tfgan import data as data_lib
from tfgan import export, labels, training, training_loop
from tfgan.serving import BackgroundServer, ServerOptions
from tfgan.serving.configs import single_model_config
from tfgan.config import TrainConfig
from tfgan.losses import LOSSES
from tfgan.models import CONDITIONINGS
from tfgan.models.class_mixture import labels_from_bits
from tfgan.penalties import PENALTIES
from tfgan.data import toys
from tfgan.metrics import conditional_accuracy, nearest_mode

STEPS = 600
SPEC = training.DataSpec("points", (1,), None)


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
    """Trains `config`'s GAN for `config.steps` steps in one compiled block; returns it."""
    dataset, _ = data_lib.load_dataset(
        config.dataset, batch_size=config.batch_size, value_range=None, seed=config.seed)
    gan = training.build_gan(config, SPEC)
    training_loop.run_steps(gan, dataset, config.steps, steps_per_execution=config.steps)
    return gan


def _assert_learns_the_gaussian(gan):
    z = tf.random.uniform([5000, 1], -1.0, 1.0, seed=3)
    samples = gan.generate(z).numpy().ravel()
    assert abs(samples.mean() - toys.GAUSSIAN_1D_MEAN) < 0.3, samples.mean()
    assert abs(samples.std() - toys.GAUSSIAN_1D_STD) < 0.25, samples.std()


def test_hinge_loss_learns_the_gaussian():
    # Adam as SN-GAN and WGAN-GP train their hinge and critic losses; with beta1=0.5 the
    # unbounded hinge critic leaves the samples' spread at a third of the data's here.
    _assert_learns_the_gaussian(_short_run(_config(loss="hinge", beta1=0.0, beta2=0.9)))


def test_r3gan_objective_learns_the_gaussian():
    # Relativistic pairing with both zero-centred penalties (Huang et al. 2024).
    gan = _short_run(_config(loss="relativistic_pairing", gradient_penalty="r1_r2",
                             gradient_penalty_weight=1.0))
    assert float(gan.trackers["gradient_penalty"].result()) > 0
    _assert_learns_the_gaussian(gan)


def test_two_time_scales_cosine_rates_and_ema_warmup_learn_the_gaussian():
    # Without the EMA's warm-up, 0.999 ** 600 = 55 % of the average would still be the
    # initial generator; `generate` samples from the average.
    gan = _short_run(_config(d_learning_rate=4e-3, g_learning_rate=1e-3, lr_schedule="cosine",
                             lr_warmup_steps=50, ema_decay=0.999, ema_warmup=True))
    assert gan.sampling_generator is gan.ema_generator
    _assert_learns_the_gaussian(gan)


def test_unrolled_generator_updates_learn_the_gaussian():
    gan = _short_run(_config(unrolled_steps=3))
    assert gan.unrolled_learning_rate == 2e-3  # 0: the discriminator's rate
    _assert_learns_the_gaussian(gan)


def test_spectral_norm_learns_the_gaussian_and_exports(tmp_path):
    config = _config(spectral_norm=True)
    gan = _short_run(config)
    _assert_learns_the_gaussian(gan)
    # The discriminator, power-iteration vectors and all, goes through the export (checked in
    # the stock server's session loader) and scores samples as it does in Python.
    path = training.export_gan(gan, str(tmp_path / "export"), "toy", config=config)
    samples = np.array([[3.0], [4.0], [5.5]], np.float32)
    logits = tf.saved_model.load(path).signatures["discriminate"](samples=samples)["logits"]
    np.testing.assert_allclose(logits, gan.discriminator(samples)[:, 0], rtol=1e-5, atol=1e-6)


def test_packing_learns_the_gaussian_and_exports_without_a_discriminator(tmp_path):
    # PacGAN's setting: D judges packs of 4 samples, as many packs per step as the unpacked
    # run's batch has samples.
    config = _config(pack=4, batch_size=4 * 128)
    gan = _short_run(config)
    assert gan.discriminator.data_shape == (4,)
    _assert_learns_the_gaussian(gan)
    # A packed discriminator scores packs, not samples: the export leaves `discriminate` out
    # and samples as Python does.
    path = training.export_gan(gan, str(tmp_path / "export"), "toy", config=config)
    loaded = tf.saved_model.load(path)
    assert "discriminate" not in loaded.signatures
    expected = export.sample_from_seed(gan.sampling_generator, 16, 7, prior=config.prior,
                                       value_range=None)["samples"]
    samples = loaded.signatures["sample"](num_samples=tf.constant(16, tf.int32),
                                          seed=tf.constant(7, tf.int64),
                                          truncation=tf.constant(1.0))["samples"]
    np.testing.assert_allclose(samples, expected, rtol=1e-6)


def test_several_adversaries_learn_the_gaussian_export_and_serve(tmp_path):
    # Two generators sampled as a mixture, three discriminators whose losses the softmax
    # weighs (seed 001's "weighted sum ... against all of its adversaries").
    config = _config(num_generators=2, num_discriminators=3, adversary_weighting="softmax")
    gan = _short_run(config)
    _assert_learns_the_gaussian(gan)
    # The mixture exports as one generator: the `sample` signature's seed fixes z, and z
    # picks each sample's generator, so the server answers what Python samples.
    base = tmp_path / "export"
    training.export_gan(gan, str(base), config.export_model_name, config=config, version=1)
    expected = export.sample_from_seed(gan.sampling_generator, 64, 7, prior=config.prior,
                                       value_range=None)["samples"].numpy()
    options = ServerOptions(single_model_config("toy", str(base / "gaussian_1d")),
                            grpc_port=None, rest_port=0, file_system_poll_wait_seconds=-1)
    with BackgroundServer(options) as server:
        status, _, text = http("POST", server.rest_url + "/v1/models/toy:predict", json.dumps(
            {"signature_name": "sample",
             "inputs": {"num_samples": 64, "seed": 7, "truncation": 1.0}}))
    assert status == 200, text
    np.testing.assert_allclose(json.loads(text)["outputs"]["samples"], expected, rtol=1e-6)


def test_each_optimizer_gets_its_networks_rate():
    gan = training.build_gan(_config(d_learning_rate=4e-3, g_learning_rate=1e-3), SPEC)
    np.testing.assert_allclose(float(gan.d_optimizer.learning_rate), 4e-3)
    np.testing.assert_allclose(float(gan.g_optimizer.learning_rate), 1e-3)


def test_learning_rates_are_scheduled_over_each_networks_updates():
    # k_d = 2: the discriminator's optimizer makes two updates a step, so its schedule spans
    # twice the updates.
    gan = training.build_gan(
        _config(steps=100, k_d=2, lr_schedule="linear", lr_warmup_steps=10,
                d_learning_rate=4e-3), SPEC)
    for optimizer, rate, updates in ((gan.d_optimizer, 4e-3, 2), (gan.g_optimizer, 2e-3, 1)):
        optimizer.iterations.assign(10 * updates - 1)  # the warm-up's last update
        np.testing.assert_allclose(float(optimizer.learning_rate), rate, rtol=1e-6)
        optimizer.iterations.assign(55 * updates)  # half-way down the decay
        np.testing.assert_allclose(float(optimizer.learning_rate), rate / 2, rtol=1e-6)


def test_a_restored_run_takes_its_flags_rates():
    gan = training.build_gan(_config(d_learning_rate=4e-3), SPEC)
    for optimizer in (gan.d_optimizer, gan.g_optimizer):
        optimizer.learning_rate = 1.0  # as a checkpoint of another run would leave them
    training.apply_flag_learning_rates(gan, _config(d_learning_rate=1e-4, g_learning_rate=2e-4))
    np.testing.assert_allclose(float(gan.d_optimizer.learning_rate), 1e-4)
    np.testing.assert_allclose(float(gan.g_optimizer.learning_rate), 2e-4)


def test_a_restored_scheduled_run_keeps_the_schedule_its_flags_built():
    config = _config(steps=100, lr_schedule="cosine", lr_warmup_steps=10)
    gan = training.build_gan(config, SPEC)
    training.apply_flag_learning_rates(gan, config)  # an optimizer's schedule cannot be set
    gan.g_optimizer.iterations.assign(55)
    np.testing.assert_allclose(float(gan.g_optimizer.learning_rate), 1e-3, rtol=1e-6)



def _conditional_ring(**overrides):
    """`(config, dataset, spec, gan)`: an untrained 500-step conditional ring GAN."""
    config = _config(dataset="ring", conditional=True, z_dim=2, prior="normal",
                     g_hidden_units=(64, 64), d_hidden_units=(64, 64), activation="relu",
                     steps=500, **overrides)
    dataset, info = data_lib.load_dataset("ring", batch_size=config.batch_size,
                                          seed=config.seed, labelled=True)
    spec = training.DataSpec.from_info(info)
    return config, dataset, spec, training.build_gan(config, spec)


@pytest.mark.parametrize("conditioning", CONDITIONINGS)
def test_conditional_ring_puts_each_labels_samples_in_its_own_mode(conditioning):
    config, dataset, spec, gan = _conditional_ring(conditioning=conditioning)
    requested = labels.balanced_labels(800, len(spec.class_names))
    samples = export.sample_from_seed(gan.sampling_generator, 800, 3, prior="normal",
                                      value_range=None, labels=requested)["samples"].numpy()
    untrained = conditional_accuracy(nearest_mode(samples, toys.ring_modes()), requested, 8)
    assert untrained.accuracy < 0.5
    training_loop.run_steps(gan, dataset, config.steps, steps_per_execution=config.steps)
    samples = export.sample_from_seed(gan.sampling_generator, 800, 3, prior="normal",
                                      value_range=None, labels=requested)["samples"].numpy()
    trained = conditional_accuracy(nearest_mode(samples, toys.ring_modes()), requested, 8)
    assert trained.per_class.min() >= 0.98, trained.per_class


def test_a_ring_trained_on_labels_and_exported_drawing_them_samples_every_mode_alike(tmp_path):
    config, dataset, spec, gan = _conditional_ring(draw_labels=True)
    training_loop.run_steps(gan, dataset, config.steps, steps_per_execution=config.steps)
    path = training.export_gan(gan, str(tmp_path), "ring", config=config,
                               class_names=spec.class_names)
    assert "class_names" not in export.read_metadata(path)
    sample = tf.saved_model.load(path).signatures["sample"]
    assert export.LABELS_INPUT not in sample.structured_input_signature[1]
    out = sample(num_samples=tf.constant(800), seed=tf.constant(3, tf.int64),
                 truncation=tf.constant(1.0))
    drawn = labels_from_bits(out["z"][:, 2:], 8).numpy()
    # Each mode about an eighth of the samples (binomial sd 0.012), each where its class is.
    np.testing.assert_allclose(np.bincount(drawn, minlength=8) / 800, 1 / 8, atol=0.045)
    modes = nearest_mode(out["samples"].numpy(), toys.ring_modes())
    assert conditional_accuracy(modes, drawn, 8).per_class.min() >= 0.98


@pytest.mark.parametrize("overrides", [
    *({"loss": loss} for loss in LOSSES),
    *({"gradient_penalty": penalty, "gradient_penalty_weight": 1.0} for penalty in PENALTIES),
    {"schedule": "worse"}, {"schedule": "simultaneous"}, {"k_d": 2, "k_g": 2},
    {"unrolled_steps": 2}, {"ema_decay": 0.9, "ema_warmup": True}, {"mixed_precision": True},
    {"num_generators": 2, "num_discriminators": 2, "adversary_weighting": "softmax"},
    {"conditioning": "concat", "minibatch": True}, {"spectral_norm": True},
    {"conditioning": "acgan", "acgan_weight": 0.5, "gradient_penalty_weight": 1.0},
    {"conditioning": "dual_projection", "mixed_precision": True},
    {"class_stddev": True, "mixed_precision": True, "gradient_penalty_weight": 1.0},
], ids=lambda overrides: ",".join(f"{k}={v}" for k, v in overrides.items()))
def test_every_option_trains_a_conditional_gan(overrides):
    config = _config(dataset="ring", conditional=True, z_dim=2, g_hidden_units=(16,),
                     d_hidden_units=(16,), batch_size=32, steps=10, **overrides)
    training.set_precision_policy(config.mixed_precision)
    try:
        dataset, info = data_lib.load_dataset("ring", batch_size=config.batch_size,
                                              seed=config.seed, labelled=True)
        gan = training.build_gan(config, training.DataSpec.from_info(info))
        training_loop.run_steps(gan, dataset, config.steps, steps_per_execution=5)
    finally:
        training.set_precision_policy(False)
    assert int(gan.step.numpy()) == config.steps
    assert all(np.isfinite(float(tracker.result())) for tracker in gan.metrics)
    samples = gan.generate(tf.zeros((3, 2)), tf.constant([0, 4, 7])).numpy()
    assert samples.shape == (3, 2) and np.isfinite(samples).all()
