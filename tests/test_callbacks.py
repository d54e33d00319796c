import csv
import threading
from unittest import mock

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from tfgan import callbacks, plots


@keras.saving.register_keras_serializable(package="tfgan_test")
class LinearFeatureDiscriminator(keras.Model):
    """features(x) = x @ K + b (2 features); logits = features @ w."""

    def __init__(self, feature_dim=2, **kwargs):
        super().__init__(**kwargs)
        self.feature_dim = feature_dim
        self.hidden = keras.layers.Dense(feature_dim)
        self.head = keras.layers.Dense(1)

    def features(self, x, training=None):
        return self.hidden(x)

    def call(self, x, training=None):
        return self.head(self.features(x))

    def get_config(self):
        return {**super().get_config(), "feature_dim": self.feature_dim}


class FakeGAN(keras.Model):
    """The members the callbacks use; each train step shifts every weight by 0.25."""

    def __init__(self, output_shape=(2,), output_value=None):
        super().__init__()
        self.generator = keras.Sequential(
            [keras.Input((2,)), keras.layers.Dense(int(np.prod(output_shape))),
             keras.layers.Reshape(output_shape)])
        self.discriminator = LinearFeatureDiscriminator()
        self.output_value = output_value
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False)

    def generate(self, z, labels=None):
        samples = self.generator(z, training=False)
        if self.output_value is not None:
            samples = tf.fill(tf.shape(samples), self.output_value)
        return samples

    def shift_weights(self):
        for weight in self.generator.weights + self.discriminator.weights:
            weight.assign(weight + 0.25)

    def train_step(self, data):
        self.discriminator(data)
        self.shift_weights()
        self.step.assign_add(1)
        step = tf.cast(self.step, tf.float32)
        return {"d_loss": step / 4, "g_loss": step / 8, "d_real": 0.5 + step / 64,
                "d_fake": 0.5 - step / 64}


def _fit(gan, steps, callback_list):
    gan.compile(run_eagerly=True)
    data = np.zeros((4 * steps, 2), np.float32)
    gan.fit(data, batch_size=4, epochs=1, verbose=0, callbacks=callback_list, shuffle=False)


def _z():
    return np.linspace(-1, 1, 12, dtype=np.float32).reshape(6, 2)


def _read_csv(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def test_history_csv_writes_one_row_per_step(tmp_path):
    path = tmp_path / "history.csv"
    _fit(FakeGAN(), 3, [callbacks.HistoryCSV(str(path))])
    rows = _read_csv(path)
    assert rows[0] == ["step", "d_loss", "g_loss", "d_real", "d_fake"]
    assert [[float(v) for v in row] for row in rows[1:]] == [
        [1, 0.25, 0.125, 0.515625, 0.484375],
        [2, 0.5, 0.25, 0.53125, 0.46875],
        [3, 0.75, 0.375, 0.546875, 0.453125],
    ]


def test_history_csv_resume_drops_rows_after_the_restored_step(tmp_path):
    path = tmp_path / "history.csv"
    path.write_text("step,d_loss,g_loss\n1,1.0,2.0\n2,1.5,2.5\n3,9.0,9.0\n4,9.0,9.0\n")
    gan = FakeGAN()
    gan.step.assign(2)  # restored from the checkpoint at step 2
    history = callbacks.HistoryCSV(str(path))
    history.set_model(gan)
    history.on_train_begin()
    assert _read_csv(path)[1:] == [["1", "1.0", "2.0"], ["2", "1.5", "2.5"]]
    gan.step.assign(3)
    history.on_train_batch_end(0, {"d_loss": 0.5, "g_loss": 0.75, "d_real": 0.5})
    # Each row is on disk as soon as it is written, before training ends.
    assert _read_csv(path)[-1] == ["3", "0.5", "0.75"]
    history.on_train_end()
    assert [row[0] for row in _read_csv(path)] == ["step", "1", "2", "3"]


@pytest.mark.parametrize("cut", ["3", "30,0.7", "30,0.7,0.1"])
def test_history_csv_resume_drops_a_last_row_cut_short_by_a_kill(tmp_path, cut):
    # SIGKILL mid-write can leave the last row without its end of line: "3" may be step 30
    # cut after one digit, "30,0.7,0.1" may be 30,0.7,0.125.
    path = tmp_path / "history.csv"
    path.write_text(f"step,d_loss,g_loss\n10,1.0,2.0\n20,1.5,2.5\n{cut}")
    gan = FakeGAN()
    gan.step.assign(30)  # restored from the checkpoint at step 30
    history = callbacks.HistoryCSV(str(path), every=10)
    history.set_model(gan)
    history.on_train_begin()
    history.on_train_end()
    assert _read_csv(path) == [
        ["step", "d_loss", "g_loss"], ["10", "1.0", "2.0"], ["20", "1.5", "2.5"]]


def test_sample_grid_frames_and_gif(tmp_path):
    directory = tmp_path / "samples"
    directory.mkdir()
    Image.new("RGB", (8, 8)).save(directory / "000010.png")  # left by a crashed run
    reference = np.random.default_rng(0).normal(size=(20, 2))
    grid = callbacks.SampleGrid(str(directory), 2, _z(), reference=reference)
    _fit(FakeGAN(), 5, [grid])
    names = sorted(p.name for p in directory.iterdir())
    assert names == ["000000.png", "000002.png", "000004.png", "000005.png"]
    with Image.open(tmp_path / "progress.gif") as gif:
        assert gif.n_frames == 4


def test_sample_grid_and_loss_plot_render_on_the_drawing_thread(tmp_path):
    directory = tmp_path / "samples"
    drawing = callbacks.BackgroundDrawing()
    threads = set()
    original = callbacks.plots.save_samples

    def save_samples(*args, **kwargs):
        threads.add(threading.current_thread().name)
        original(*args, **kwargs)

    history = callbacks.HistoryCSV(str(tmp_path / "history.csv"))
    grid = callbacks.SampleGrid(str(directory), 2, _z(), drawing=drawing)
    plot = callbacks.LossPlot(str(tmp_path / "history.csv"), str(tmp_path / "losses.png"), 2,
                              drawing=drawing)
    with mock.patch.object(callbacks.plots, "save_samples", save_samples):
        _fit(FakeGAN(), 5, [history, grid, plot, drawing])
    # Frame 0 is drawn before training (and the thread) starts; the rest on the thread.
    assert {name.split("_")[0] for name in threads} == {"MainThread", "tfgan-drawing"}
    assert sorted(p.name for p in directory.iterdir()) == [
        "000000.png", "000002.png", "000004.png", "000005.png"]
    with Image.open(tmp_path / "progress.gif") as gif:
        assert gif.n_frames == 4  # the GIF was made after every frame
    assert (tmp_path / "losses.png").exists()


def test_background_drawing_says_what_it_waits_for_at_the_end():
    lines, drawn, release = [], [], threading.Event()

    def announce(line):  # the first drawing waits until the wait has been announced
        lines.append(line)
        release.set()

    drawing = callbacks.BackgroundDrawing(print_fn=announce)
    drawing.on_train_begin()
    drawing.submit(release.wait)
    drawing.submit(drawn.append, 1)
    drawing.on_train_end()
    assert lines == ["drawing the last 2 pictures ..."] and drawn == [1]


def test_background_drawing_raises_a_failed_drawing_in_the_training_thread():
    drawing = callbacks.BackgroundDrawing()
    drawing.on_train_begin()
    drawing.submit(lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        drawing.on_train_end()
    ran = []
    drawing.submit(ran.append, 1)  # after training: drawn at once
    assert ran == [1]


def test_sample_grid_maps_images_to_unit_range_and_logs_summaries(tmp_path):
    writer = tf.summary.create_file_writer(str(tmp_path / "tensorboard"))
    gan = FakeGAN(output_shape=(4, 4, 1), output_value=-1.0)
    grid = callbacks.SampleGrid(str(tmp_path / "samples"), 3, _z(), value_range=(-1.0, 1.0),
                                summary_writer=writer)
    _fit(gan, 3, [grid])
    pixels = np.asarray(Image.open(tmp_path / "samples" / "000003.png").convert("L"))
    scale = 16  # 4-pixel tiles are upscaled to 64 pixels
    assert pixels[scale * 3, scale * 3] == 0  # -1 maps to 0: black
    images = {}
    for event_file in (tmp_path / "tensorboard").iterdir():
        for event in tf.compat.v1.train.summary_iterator(str(event_file)):
            for value in event.summary.value:
                assert value.metadata.plugin_data.plugin_name == "images"
                images[event.step] = tf.make_ndarray(value.tensor)
    assert sorted(images) == [0, 3]
    # tf.summary.image's layout: width, height, then the encoded PNG.
    width, height, png = images[3]
    assert (int(width), int(height)) == (pixels.shape[1], pixels.shape[0])
    assert tf.io.decode_png(png).shape[:2] == pixels.shape


def test_sample_grid_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="Received: every=0"):
        callbacks.SampleGrid(str(tmp_path), 0, _z())
    with pytest.raises(ValueError, match=r"Received: value_range=\(1, 0\)"):
        callbacks.SampleGrid(str(tmp_path), 1, _z(), value_range=(1, 0))


def test_loss_plot_redraws_from_history(tmp_path):
    history_path = tmp_path / "history.csv"
    plot_path = tmp_path / "losses.png"
    loss_plot = callbacks.LossPlot(str(history_path), str(plot_path), every=2)
    gan = FakeGAN()
    loss_plot.set_model(gan)
    loss_plot.on_train_begin()
    history = callbacks.HistoryCSV(str(history_path))
    history.set_model(gan)
    history.on_train_begin()
    logs = {"d_loss": 1.0, "g_loss": 1.0, "d_real": 0.5, "d_fake": 0.5}
    gan.step.assign(1)
    history.on_train_batch_end(0, logs)
    loss_plot.on_train_batch_end(0, logs)
    assert not plot_path.exists()
    gan.step.assign(2)
    history.on_train_batch_end(1, logs)
    loss_plot.on_train_batch_end(1, logs)
    with Image.open(plot_path) as image:
        assert image.format == "PNG"


def test_tensorboard_scalars(tmp_path):
    _fit(FakeGAN(), 4, [callbacks.TensorBoardScalars(str(tmp_path), every=2)])
    scalars = {}
    for event_file in tmp_path.iterdir():
        for event in tf.compat.v1.train.summary_iterator(str(event_file)):
            for value in event.summary.value:
                assert value.metadata.plugin_data.plugin_name == "scalars"
                scalars[(value.tag, event.step)] = float(tf.make_ndarray(value.tensor))
    assert scalars == {
        ("d_loss", 2): 0.5, ("g_loss", 2): 0.25, ("d_real", 2): 0.53125, ("d_fake", 2): 0.46875,
        ("d_loss", 4): 1.0, ("g_loss", 4): 0.5, ("d_real", 4): 0.5625, ("d_fake", 4): 0.4375,
    }


def _weights(model):
    return [w.copy() for w in model.get_weights()]


def test_feature_space_plot_holds_the_discriminator_fixed(tmp_path, monkeypatch):
    drawn = []
    monkeypatch.setattr(plots, "save_feature_space",
                        lambda *args, step: drawn.append((args[:4], args[4], step)))
    real = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 2.0]], np.float32)
    z = _z()
    gan = FakeGAN()
    plot = callbacks.FeatureSpacePlot(str(tmp_path), 1, real, z)
    plot.set_model(gan)
    plot.on_train_begin()
    kernel, bias = (w.copy() for w in gan.discriminator.hidden.get_weights())
    d_before = _weights(gan.discriminator)
    g_before = gan.generator(z).numpy()

    plot.on_train_batch_begin(0)
    assert all(np.array_equal(a, b) for a, b in zip(_weights(gan.discriminator), d_before))
    gan.shift_weights()  # the train step moves both networks
    gan.step.assign(1)
    d_after = _weights(gan.discriminator)
    g_after = gan.generator(z).numpy()
    plot.on_train_batch_end(0)

    assert all(np.array_equal(a, b) for a, b in zip(_weights(gan.discriminator), d_after))
    (real_before, fake_before, real_after, fake_after), path, step = drawn[0]
    np.testing.assert_allclose(real_before, real @ kernel + bias, rtol=1e-5)
    np.testing.assert_allclose(real_after, real_before)
    np.testing.assert_allclose(fake_before, g_before @ kernel + bias, rtol=1e-5, atol=1e-6)
    # The pre-step discriminator, the post-step generator.
    np.testing.assert_allclose(fake_after, g_after @ kernel + bias, rtol=1e-5, atol=1e-6)
    assert path.endswith("features_000001.png") and step == 1


def test_feature_space_plot_writes_files_at_plotting_steps(tmp_path):
    real = np.random.default_rng(0).normal(size=(8, 2)).astype(np.float32)
    _fit(FakeGAN(), 4, [callbacks.FeatureSpacePlot(str(tmp_path), 2, real, _z())])
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "features_000002.png", "features_000004.png"]
    with Image.open(tmp_path / "features_000002.png") as image:
        assert image.format == "PNG" and image.size[0] > 0


def test_feature_space_plot_needs_two_features(tmp_path):
    gan = FakeGAN()
    gan.discriminator = LinearFeatureDiscriminator(feature_dim=1)
    plot = callbacks.FeatureSpacePlot(str(tmp_path), 1, np.zeros((2, 2), np.float32), _z())
    plot.set_model(gan)
    with pytest.raises(ValueError, match="Received: feature_dim=1"):
        plot.on_train_begin()


class _FakeClock:
    def __init__(self):
        self.now = 0.0

    def monotonic(self):
        return self.now


def test_progress_logger_lines_speed_and_eta():
    clock = _FakeClock()
    lines = []
    gan = FakeGAN()
    gan.step.assign(200)  # a resumed run
    logger = callbacks.ProgressLogger(10000, 100, print_fn=lines.append, clock=clock.monotonic)
    logger.set_model(gan)
    logger.on_train_begin()
    logs = {"d_loss": 1.23456, "g_loss": 0.87654, "d_real": 0.521, "d_fake": 0.474}
    for step, now in [(250, 1.0), (300, 2.0), (399, 2.5), (400, 2.5)]:
        clock.now = now
        gan.step.assign(step)
        logger.on_train_batch_end(0, logs)
    assert lines == [
        "step 300/10000  d_loss 1.2346  g_loss 0.8765  D(x) 0.52  D(G(z)) 0.47  "
        "50.0 steps/s  ETA 3m14s",
        "step 400/10000  d_loss 1.2346  g_loss 0.8765  D(x) 0.52  D(G(z)) 0.47  "
        "200.0 steps/s  ETA 48s",
    ]
    clock.now = 102.5
    gan.step.assign(500)
    logger.on_train_batch_end(0, {"d_loss": 1.0, "gradient_penalty": 0.125})
    assert lines[-1] == (
        "step 500/10000  d_loss 1.0000  gradient_penalty 0.1250  1.0 steps/s  ETA 2h38m20s")


def test_progress_logger_rejects_bad_arguments():
    with pytest.raises(ValueError, match="Received: every=0"):
        callbacks.ProgressLogger(10, 0)
    with pytest.raises(ValueError, match="Received: total_steps=0"):
        callbacks.ProgressLogger(0, 1)


def _scalars(logdir):
    """`{(tag, step): value}` of every scalar summary under `logdir`."""
    scalars = {}
    for event_file in logdir.iterdir():
        for event in tf.compat.v1.train.summary_iterator(str(event_file)):
            for value in event.summary.value:
                scalars[(value.tag, event.step)] = float(tf.make_ndarray(value.tensor))
    return scalars


def _step_metrics(model):
    """A stand-in evaluation: values computed from the model step."""
    step = int(model.step.numpy())
    return {"score": step * 10.0, "count": 3}


def test_evaluate_every_adds_metrics_to_the_logs_history_and_tensorboard(tmp_path):
    seen = []
    evaluation = callbacks.EvaluateEvery(2, _step_metrics, ("score", "count"),
                                         logdir=str(tmp_path / "eval"))
    recorder = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: seen.append(logs.get("score")))
    history_path = tmp_path / "history.csv"
    _fit(FakeGAN(), 5, [
        callbacks.TensorBoardScalars(str(tmp_path / "scalars"), every=2),
        evaluation,
        callbacks.HistoryCSV(str(history_path), extra_columns=evaluation.names),
        recorder,
        callbacks.LossPlot(str(history_path), str(tmp_path / "losses.png"), every=2),
    ])
    assert seen == [None, 20.0, None, 40.0, None]
    rows = _read_csv(history_path)
    assert rows[0] == ["step", "d_loss", "g_loss", "d_real", "d_fake", "score", "count"]
    assert [row[5:] for row in rows[1:]] == [
        ["", ""], ["20.0", "3.0"], ["", ""], ["40.0", "3.0"], ["", ""]]
    assert _scalars(tmp_path / "eval") == {
        ("eval/score", 2): 20.0, ("eval/count", 2): 3.0,
        ("eval/score", 4): 40.0, ("eval/count", 4): 3.0}
    # TensorBoardScalars comes first, so it writes only the train step's own logs.
    assert {tag for tag, _ in _scalars(tmp_path / "scalars")} == {
        "d_loss", "g_loss", "d_real", "d_fake"}
    assert (tmp_path / "losses.png").exists()  # empty cells do not stop the loss plot


def test_evaluate_every_counts_from_a_resumed_step(tmp_path):
    calls = []
    gan = FakeGAN()
    gan.step.assign(3)
    evaluation = callbacks.EvaluateEvery(
        2, lambda model: calls.append(int(model.step.numpy())) or {"score": 1.0}, ("score",))
    _fit(gan, 3, [evaluation])
    assert calls == [4, 6]


def test_evaluate_every_rejects_bad_arguments():
    with pytest.raises(ValueError, match="Received: every=0"):
        callbacks.EvaluateEvery(0, _step_metrics, ("score",))


def test_history_csv_resume_adds_extra_columns_with_empty_old_cells(tmp_path):
    path = tmp_path / "history.csv"
    path.write_text("step,d_loss\n1,1.0\n2,1.5\n")
    gan = FakeGAN()
    gan.step.assign(2)
    history = callbacks.HistoryCSV(str(path), extra_columns=("score",))
    history.set_model(gan)
    history.on_train_begin()
    gan.step.assign(3)
    history.on_train_batch_end(0, {"d_loss": 0.5, "score": 7.0})
    history.on_train_end()
    assert _read_csv(path) == [
        ["step", "d_loss", "score"], ["1", "1.0", ""], ["2", "1.5", ""], ["3", "0.5", "7.0"]]


def test_conditional_sample_grid_draws_a_row_per_class(tmp_path):
    class LabelRecordingGAN(FakeGAN):
        def generate(self, z, labels=None):
            self.asked = labels
            return tf.fill((len(z), 4, 4, 1), 0.5)

    labels = np.repeat(np.arange(3, dtype=np.int32), 2)
    calls = []
    with mock.patch.object(callbacks.plots, "save_samples",
                           lambda samples, path, **kwargs: calls.append(kwargs)), \
            mock.patch.object(callbacks.plots, "save_gif"):
        gan = LabelRecordingGAN()
        grid = callbacks.SampleGrid(str(tmp_path / "samples"), 2, np.zeros((6, 2), "float32"),
                                    labels=labels, num_columns=2)
        _fit(gan, 2, [grid])
    np.testing.assert_array_equal(gan.asked, labels)
    assert calls and all(kwargs["num_columns"] == 2 for kwargs in calls)
