import csv
import json
import os

import numpy as np
import pytest
import tensorflow as tf

from script_fixtures import write_random_mnist
from tfgan import callbacks as callbacks_lib
from tfgan import training
from tfgan.config import ConfigError, TrainConfig
from tfgan.data import toys
from tfgan.metrics import evaluate_samples
from tfgan.sample_sources import CheckpointSource


def _toy_config(workdir, **overrides):
    options = dict(
        workdir=str(workdir), dataset="gaussian_1d", architecture="mlp", z_dim=1,
        g_hidden_units=(16, 16), d_hidden_units=(32, 32), activation="leaky_relu",
        output_activation="linear", optimizer="adam", learning_rate=2e-3, beta1=0.5,
        batch_size=128, steps=600, sample_every=300, log_every=300, checkpoint_every=300,
        num_grid_samples=200, seed=1,
    )
    options.update(overrides)
    return TrainConfig(**options)


def test_gaussian_1d_learns_target_mean_and_std(tmp_path):
    config = _toy_config(tmp_path / "run")
    gan, _ = training.train(config)
    z = tf.random.uniform([5000, 1], -1.0, 1.0, seed=3)
    samples = gan.generate(z).numpy().ravel()
    assert abs(samples.mean() - toys.GAUSSIAN_1D_MEAN) < 0.3
    assert abs(samples.std() - toys.GAUSSIAN_1D_STD) < 0.25
    for artifact in ("options.json", "dataset.json", "history.csv", "losses.png",
                     "progress.gif", "samples/000300.png", "samples/000600.png"):
        assert os.path.exists(tmp_path / "run" / artifact), artifact


def test_resume_restores_step_weights_and_optimizer_state(tmp_path):
    config = _toy_config(tmp_path / "run", steps=20, checkpoint_every=10, sample_every=10,
                         log_every=10)
    first, _ = training.train(config)
    saved_weights = [w.numpy() for w in first.generator.weights + first.discriminator.weights]
    saved_slots = [v.numpy() for v in first.d_optimizer.variables]

    restored, restored_config, spec = training.load_run(str(tmp_path / "run"))
    assert int(restored.step.numpy()) == 20
    assert restored_config == config
    assert spec.kind == "points" and spec.data_shape == (1,)
    for a, b in zip(saved_weights,
                    restored.generator.weights + restored.discriminator.weights):
        np.testing.assert_array_equal(a, b.numpy())
    for a, b in zip(saved_slots, restored.d_optimizer.variables):
        np.testing.assert_array_equal(a, b.numpy())

    resumed, _ = training.train(_toy_config(tmp_path / "run", steps=30, checkpoint_every=10,
                                         sample_every=10, log_every=10))
    assert int(resumed.step.numpy()) == 30
    steps = [int(line.split(",")[0]) for line in
             open(tmp_path / "run" / "history.csv").read().splitlines()[1:]]
    assert steps == [10, 20, 30]  # one row per --log_every steps, none lost or repeated


@pytest.mark.parametrize("architecture, adversaries", [("dcgan", 1), ("mlp", 1), ("mlp", 2)])
def test_checkpoint_restores_every_variable_of_each_network(tmp_path, architecture,
                                                            adversaries):
    # Batch-norm statistics are not trainable and no optimizer trains the EMA copy: the
    # checkpoint must reach them through the networks themselves. (The MLPs' hidden layers
    # and a mixture's members used to be saved only through the optimizers, so the EMA
    # generator came back with its initial hidden layers.)
    write_random_mnist(tmp_path / "mnist.npz", num_test=16)
    config = TrainConfig(
        workdir=str(tmp_path / "run"), dataset="mnist", mnist_path=str(tmp_path / "mnist.npz"),
        architecture=architecture, width=0.125, z_dim=8, prior="normal",
        output_activation="tanh", g_hidden_units=(16, 16), d_hidden_units=(16,),
        batch_size=16, steps=3, sample_every=3, log_every=3, checkpoint_every=3,
        num_grid_samples=4, ema_decay=0.5, num_generators=adversaries,
        num_discriminators=adversaries)
    gan, _ = training.train(config)
    restored, _, _ = training.load_run(config.workdir)
    for name in ("generator", "discriminator", "ema_generator"):
        trained, loaded = getattr(gan, name).weights, getattr(restored, name).weights
        assert len(trained) == len(loaded)
        for a, b in zip(trained, loaded):
            np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=f"{name}: {a.path}")


def test_resume_with_other_networks_is_refused(tmp_path):
    training.train(_toy_config(tmp_path / "run", steps=10, checkpoint_every=10))
    with pytest.raises(ConfigError, match="--z_dim=1 \\(now 3\\)"):
        training.train(_toy_config(tmp_path / "run", steps=20, z_dim=3))


@pytest.mark.parametrize("overrides, message", [
    (dict(dataset="no_such_data"), "no_such_data"),
    (dict(architecture="dcgan"), "--architecture=dcgan"),
    (dict(output_activation="sigmoid"), "--output_activation=linear"),
    (dict(steps=0), "--steps must be a positive integer"),
    (dict(schedule="worse", d_confidence=0.45), r"--d_confidence must be in \[0.5, 1\), got 0.45"),
    (dict(d_width=-1.0), r"--d_width must be >= 0 \(0: --width\), got -1.0"),
    (dict(num_generators=3), r"--batch_size \(128\) must be a multiple of --pack times "
                             r"--num_generators \(3\)"),
    (dict(adversary_weighting="median"), "--adversary_weighting must be one of mean, softmax"),
])
def test_bad_options_write_nothing(tmp_path, overrides, message):
    with pytest.raises(ConfigError, match=message):
        training.train(_toy_config(tmp_path / "run", **overrides))
    assert not os.path.exists(tmp_path / "run")


def test_export_at_end_writes_a_version(tmp_path):
    config = _toy_config(tmp_path / "run", steps=10, export_dir=str(tmp_path / "export"),
                         model_name="toy")
    training.train(config)
    version_dir = tmp_path / "export" / "toy" / "1"
    assert (version_dir / "saved_model.pb").exists()
    metadata = json.loads((version_dir / "assets.extra" / "tfgan.json").read_text())
    assert metadata["step"] == 10 and metadata["dataset"] == "gaussian_1d"
    assert "real_samples" in metadata["signatures"]  # the toy's data, for the sample page


def test_pictures_render_on_the_drawing_the_caller_gives(tmp_path):
    class CountingDrawing(callbacks_lib.BackgroundDrawing):
        submitted = 0

        def submit(self, fn, *args, **kwargs):
            self.submitted += 1
            super().submit(fn, *args, **kwargs)

    drawing = CountingDrawing()
    training.train(_toy_config(tmp_path / "run", steps=10, sample_every=5), drawing=drawing)
    assert drawing.submitted >= 2  # the sample grids at steps 5 and 10
    assert (tmp_path / "run" / "samples" / "000010.png").exists()


def test_eval_every_logs_metrics_to_history_and_tensorboard(tmp_path):
    config = _toy_config(tmp_path / "run", steps=4, eval_every=2, eval_num_samples=200,
                         sample_every=4, log_every=4, checkpoint_every=4)
    training.train(config)
    with open(tmp_path / "run" / "history.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0])[-2:] == ["mean_error", "std_error"]
    # Rows every --log_every=4 steps, and at every evaluation.
    assert [(row["step"], row["mean_error"] == "") for row in rows] == [
        ("2", False), ("4", False)]
    tags = set()
    for event_file in (tmp_path / "run" / "tensorboard" / "eval").iterdir():
        for event in tf.compat.v1.train.summary_iterator(str(event_file)):
            tags.update((value.tag, event.step) for value in event.summary.value)
    assert tags == {("eval/mean_error", 2), ("eval/std_error", 2),
                    ("eval/mean_error", 4), ("eval/std_error", 4)}
    # The numbers are the evaluation of the checkpoint with --seed and --eval_num_samples.
    samples = CheckpointSource(str(tmp_path / "run")).sample(200, config.seed)
    expected = evaluate_samples(samples, "gaussian_1d")
    assert {name: float(rows[-1][name]) for name in expected} == pytest.approx(expected)


def test_eval_every_needs_a_data_set_with_metrics(tmp_path):
    with pytest.raises(ConfigError, match="--eval_every needs a data set with metrics"):
        training.train(_toy_config(tmp_path / "run", dataset="two_curves", eval_every=2))
    assert not os.path.exists(tmp_path / "run")


def test_d_width_narrows_only_the_discriminator():
    # Stacked MNIST's hard setting: D with a quarter of G's filters (--width=0.25,
    # --d_width=0.0625: D's convolutions have 4 and 8 filters instead of 16 and 32).
    config = TrainConfig(workdir="unused", dataset="stacked_mnist", architecture="dcgan",
                         width=0.25, d_width=0.0625, output_activation="tanh")
    spec = training.DataSpec("image", (28, 28, 3), None)
    generator, discriminator = training.build_networks(config, spec)
    assert (generator.width, discriminator.width) == (0.25, 0.0625)
    filters = sorted(layer.filters for layer in discriminator._flatten_layers()
               if hasattr(layer, "filters"))
    assert filters == [4, 8]
