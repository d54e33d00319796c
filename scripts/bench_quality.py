"""Sample quality against training time: tfgan's presets beside plain Keras scripts, in one run.

    python scripts/bench_quality.py --out=runs/bench_quality.json   # MNIST from $MNIST_PATH

Two sections, each a race of two contenders for the same training time on the same machine:

- unconditional: the recommended MNIST preset (`--preset`) trained as a user trains it,
  `tfgan.training.train` with the preset's own callbacks (progress line, history.csv,
  TensorBoard, sample grids, loss plot, checkpoints), against a plain Keras DCGAN written
  here in the shape of the TensorFlow DCGAN tutorial (`--plain_width` base filters, batch
  128, Adam 1e-4, both networks updated from one tape pair, one `tf.function` step, XLA-compiled
  unless `--noplain_jit_compile`, called from a Python loop);
- conditional: `--conditional_preset` against keras-io's conditional GAN (the one-hot label
  joined to z for G and as 10 extra image channels for D), written here as compactly; its
  scores add the conditional accuracy.

The contenders take turns on the machine, never both at once: each trains in its own thread,
and the scheduler lets one run for `--slice_seconds` of its own training time while the
other waits (the one with less training time goes next). Each contender's clock counts only
its own turns: not the time it waits, nor scoring. Every `--score_every_seconds` of a
contender's training time, and at the end of its `--budget_seconds`, it is paused between
two steps and its generator (tfgan: the sampling generator, the EMA copy when the preset
keeps one, which is what an export ships) is scored on `--num_samples` samples of the
fixed seed `--seed` with the committed MNIST classifier: classifier score, FID in its
features, precision / recall against as many MNIST test digits (and for the conditional
section the conditional accuracy on the class-balanced mixture). For each contender it
reports the training time at which it first reaches the plain script's final classifier
score and FID (null if never; the first scored point that does, so at a resolution of
`--score_every_seconds`).

It prints a table and writes the curves as JSON to `--out`, and their plot (classifier
score and FID against training minutes) beside it as a PNG. With the defaults about 33
minutes on a 2-core CPU: 2 x 600 s and 2 x 240 s of training, and the scoring.
"""

import json
import math
import os
import tempfile
import threading
import time

import numpy as np
from absl import flags

import _checkout  # noqa: F401  (this checkout's tfgan first)
from tfgan.cli.quiet import import_tensorflow_quietly

import_tensorflow_quietly()  # before anything imports TensorFlow
from tfgan.cli.errors import FAILURE, USAGE, fail  # noqa: E402
from tfgan.cli.flags import run_tool  # noqa: E402

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from tfgan import callbacks as callbacks_lib  # noqa: E402
from tfgan import export as export_lib  # noqa: E402
from tfgan import labels as labels_lib  # noqa: E402
from tfgan import models as models_lib  # noqa: E402
from tfgan import presets, priors, training  # noqa: E402
from tfgan.data import DatasetUnavailableError, load_mnist_arrays  # noqa: E402
from tfgan.metrics import conditional_accuracy, get_metrics, image_outputs  # noqa: E402
from tfgan.metrics.evaluate import measure  # noqa: E402
from tfgan.metrics.reference import load_reference  # noqa: E402

SECTIONS = ("unconditional", "conditional")
SCORED = ("classifier_score", "frechet_distance", "precision_recall")
# The figures a contender's time to reach the plain script's final value is reported for,
# and whether higher is better.
TARGETS = {"classifier_score": True, "frechet_distance": False}
NUM_CLASSES = 10
_SAMPLE_CHUNK = 1000

FLAGS = flags.FlagValues()
flags.DEFINE_string("mnist_path", os.environ.get("MNIST_PATH"),
                    "Local MNIST (mnist.npz); unset: tensorflow-datasets.", flag_values=FLAGS)
flags.DEFINE_string("out", "bench_quality.json",
                    "Where the JSON curves go; the plot goes beside it (.png).", flag_values=FLAGS)
flags.DEFINE_list("sections", list(SECTIONS), "Sections to run.", flag_values=FLAGS)
flags.DEFINE_string("preset", "mnist", "The recommended MNIST preset, sampled without labels.",
                    flag_values=FLAGS)
flags.DEFINE_string("conditional_preset", "mnist_conditional",
                    "The class-conditional MNIST preset.", flag_values=FLAGS)
flags.DEFINE_float("budget_seconds", 600, "Training seconds per contender, unconditional.",
                   lower_bound=0.001, flag_values=FLAGS)
flags.DEFINE_float("conditional_budget_seconds", 240,
                   "Training seconds per contender, conditional.", lower_bound=0.001,
                   flag_values=FLAGS)
flags.DEFINE_float("slice_seconds", 10, "Training seconds of one turn.", lower_bound=0.001,
                   flag_values=FLAGS)
flags.DEFINE_float("score_every_seconds", 60, "Training seconds between scorings.",
                   lower_bound=0.001, flag_values=FLAGS)
flags.DEFINE_integer("num_samples", 2000, "Samples per scoring (and MNIST test digits).",
                     lower_bound=10, flag_values=FLAGS)
flags.DEFINE_integer("plain_width", 32, "Base filters of the plain DCGAN (the tutorial's: 64).",
                     lower_bound=1, flag_values=FLAGS)
flags.DEFINE_bool("plain_jit_compile", True,
                  "Compile the plain scripts' steps with XLA (the tutorials' way to speed a "
                  "step up; on some CPUs oneDNN without XLA is faster).", flag_values=FLAGS)
flags.DEFINE_integer("seed", 0, "Seed of the plain scripts and of the scored samples' z.",
                     flag_values=FLAGS)


class Turn:
    """One contender's share of the machine and its own training clock.

    The contender's thread trains only between the scheduler's `resume` and its own `pause`
    (or the end of its training); `trained_seconds` adds up `clock()` over those spans, so
    the time it waits for the other contender and the time scoring takes are not counted.

    Args:
        name: str, the contender's name.
        clock: callable returning seconds (monotonic).
    """

    def __init__(self, name, clock):
        self.name = name
        self.trained_seconds = 0.0
        self.finished = False
        self.error = None
        self._clock = clock
        self._resumed_at = None
        self._until = 0.0
        self._stopping = False
        self._go = threading.Event()
        self._back = threading.Event()

    # The contender's side.

    def wait(self):
        """Blocks until this contender's turn; `False` when it is told to stop instead."""
        self._go.wait()
        self._go.clear()
        if self._stopping:
            return False
        self._resumed_at = self._clock()
        return True

    def due(self):
        """Whether the turn is over: its training time has reached what the scheduler gave."""
        return self.trained_seconds + self._clock() - self._resumed_at >= self._until

    def pause(self):
        """Ends the turn, then waits for the next; `False` when told to stop instead."""
        self._count()
        self._back.set()
        return self.wait()

    def between_steps(self):
        """Called between two steps: pauses when the turn is over. `False`: stop training."""
        return not self.due() or self.pause()

    def finish(self, error=None):
        """The contender's training has ended (done, stopped, or failed with `error`)."""
        self._count()
        self.error = error
        self.finished = True
        self._back.set()

    def _count(self):
        if self._resumed_at is not None:
            self.trained_seconds += self._clock() - self._resumed_at
            self._resumed_at = None

    # The scheduler's side.

    def resume(self, until):
        """Lets the contender train until `until` seconds of training in all; returns when
        it has paused or finished."""
        self._until = until
        self._go.set()
        self._back.wait()
        self._back.clear()

    def stop(self):
        """Tells a paused contender to stop training."""
        self._stopping = True
        self._go.set()


def _train_in_turns(contender, turn):
    error = None
    try:
        if turn.wait():
            contender.train(turn)
    except BaseException as caught:  # reported by the scheduler, in the main thread
        error = caught
    turn.finish(error)


def share_machine(contenders, *, budget_seconds, slice_seconds, score_every_seconds, score,
                  clock=time.perf_counter, on_event=None):
    """Trains `contenders` in turns, never two at once, and scores them on their own clocks.

    Each contender trains in its own thread; the one with the least training time so far
    gets the next turn, of at most `slice_seconds` of training, ending early at its next
    scoring point or at `budget_seconds`. A turn ends between two of the contender's steps,
    so it may overrun by one step (or, for the first, by the set-up and compilation); its
    clock counts what it really took. Whenever a contender has trained past a multiple of
    `score_every_seconds`, and when it reaches the budget or finishes, `score(contender)` runs
    while every contender is paused. A contender that reaches the budget is then stopped and
    its thread joined before any other trains.

    Args:
        contenders: sequence of objects with `name` (str), `steps` (int, steps trained so
            far) and `train(turn)`, which trains and calls `turn.between_steps()` after every
            step (or block of steps), returning when it says `False`.
        budget_seconds, slice_seconds, score_every_seconds: float, training seconds.
        score: callable `(contender) -> dict of floats`, run with every contender paused.
        clock: callable returning seconds. Defaults to `time.perf_counter`.
        on_event: callable `(kind, name)` told `"resume"` and `"pause"` of every turn and
            `"score"`, or `None`. Defaults to `None`.

    Returns:
        dict `{name: curve}`, a curve a list of dicts `{"training_seconds", "steps", ...the
        scores}` in training order.

    Raises:
        Whatever a contender's training or `score` raised (the other contenders stopped).
    """
    on_event = on_event or (lambda kind, name: None)
    active = []
    for contender in contenders:
        turn = Turn(contender.name, clock)
        thread = threading.Thread(target=_train_in_turns, args=(contender, turn), daemon=True,
                                  name=f"bench-quality {contender.name}")
        thread.start()
        active.append((contender, turn, thread))
    curves = {contender.name: [] for contender in contenders}
    next_score = {contender.name: score_every_seconds for contender in contenders}
    try:
        while active:
            entry = min(active, key=lambda entry: entry[1].trained_seconds)
            contender, turn, thread = entry
            name = contender.name
            on_event("resume", name)
            turn.resume(min(turn.trained_seconds + slice_seconds, next_score[name],
                            budget_seconds))
            on_event("pause", name)
            if turn.error is not None:
                raise turn.error
            done = turn.finished or turn.trained_seconds >= budget_seconds
            if done or turn.trained_seconds >= next_score[name]:
                on_event("score", name)
                curves[name].append({"training_seconds": turn.trained_seconds,
                                     "steps": contender.steps, **score(contender)})
                while next_score[name] <= turn.trained_seconds:
                    next_score[name] += score_every_seconds
            if done:
                active.remove(entry)
                turn.stop()
                thread.join()
                if turn.error is not None:
                    raise turn.error
    finally:
        for _, turn, thread in active:
            turn.stop()
            thread.join()
    return curves


def time_to_reach(curve, target, metric="classifier_score", higher_is_better=True):
    """The training time of the first point of `curve` whose `metric` is at least as good as
    `target`, or `None` if none is (NaN never is).

    Args:
        curve: list of dicts with `"training_seconds"` and `metric`, in training order.
        target: float.
        metric: str. Defaults to `"classifier_score"`.
        higher_is_better: bool. Defaults to `True`.

    Example:

    >>> time_to_reach([{"training_seconds": 60, "classifier_score": 5.0},
    ...                {"training_seconds": 120, "classifier_score": 7.5}], 7.0)
    120
    """
    for point in curve:
        value = point[metric]
        if (value >= target) if higher_is_better else (value <= target):
            return point["training_seconds"]
    return None


class _Gate(keras.callbacks.Callback):
    """The tfgan trainer's side of its turns: after every block of steps (and after tfgan's
    own callbacks), pauses when the turn is over, and at the end of the budget stops training
    as Ctrl-C or SIGTERM would (`KeyboardInterrupt`: tfgan saves where it stands)."""

    def __init__(self, turn, drawing):
        super().__init__()
        self.turn = turn
        self.drawing = drawing

    def on_train_batch_end(self, batch, logs=None):
        if not self.turn.due():
            return
        # The run's pictures still drawing at a pause finish first, in this contender's time,
        # not the other's.
        drawn = threading.Event()
        self.drawing.submit(drawn.set)  # runs after every drawing submitted before it
        drawn.wait()
        if not self.turn.pause():
            raise KeyboardInterrupt


class TfganContender:
    """A preset trained by `tfgan.training.train` in a temporary run directory."""

    def __init__(self, name, config):
        self.name = name
        self.config = config
        self._gate = None

    @property
    def gan(self):
        """The GAN being trained (known from its first block of steps on), or `None`."""
        return self._gate.model if self._gate is not None else None

    @property
    def steps(self):
        return int(self.gan.step.numpy()) if self.gan is not None else 0

    def train(self, turn):
        drawing = callbacks_lib.BackgroundDrawing()
        self._gate = _Gate(turn, drawing)
        with tempfile.TemporaryDirectory(prefix="bench_quality_") as workdir:
            self.config.workdir = workdir
            try:
                training.train(self.config, callbacks=[self._gate], drawing=drawing)
            except KeyboardInterrupt:
                pass  # the budget is spent

    def sample(self, num_samples, seed, labels=None):
        """Images in [0, 1] from the generator an export serves, as `tfgan-evaluate --seed`
        draws them."""
        return export_lib.sample_from_seed(
            training.served_networks(self.gan, self.config)[0], num_samples, seed,
            prior=self.config.prior,
            value_range=models_lib.output_range(self.config.output_activation),
            labels=labels)["samples"].numpy()


class PlainContender:
    """A plain script: `build()` returns `(train_step, batches, sample)`, all timed; the loop
    calls `train_step(next(batch iterator))` until its turns end."""

    def __init__(self, name, build):
        self.name = name
        self.steps = 0
        self._build = build
        self._sample = None

    def train(self, turn):
        train_step, batches, self._sample = self._build()
        iterator = iter(batches)
        while True:
            train_step(next(iterator))
            self.steps += 1
            if not turn.between_steps():
                return

    def sample(self, num_samples, seed, labels=None):
        return self._sample(num_samples, seed, labels)


def _in_chunks(fn, num_samples):
    return np.concatenate([fn(start, min(start + _SAMPLE_CHUNK, num_samples))
                           for start in range(0, num_samples, _SAMPLE_CHUNK)])


def _adams(learning_rate, *networks):
    """One Adam per network, built for its weights (so the XLA step creates no variables)."""
    optimizers = [keras.optimizers.Adam(learning_rate) for _ in networks]
    for optimizer, network in zip(optimizers, networks):
        optimizer.build(network.trainable_weights)
    return optimizers


def plain_dcgan(mnist_path, width, seed, jit_compile=True, batch_size=128, z_dim=100):
    """The TensorFlow DCGAN tutorial (tensorflow.org/tutorials/generative/dcgan) on MNIST's
    training digits, `width` base filters (the tutorial's 64), in one compiled step."""
    images, _ = load_mnist_arrays("train", mnist_path=mnist_path)
    batches = (tf.data.Dataset.from_tensor_slices((images.astype("float32") - 127.5) / 127.5)
               .shuffle(len(images), seed=seed).batch(batch_size, drop_remainder=True)
               .repeat().prefetch(2))
    layers = keras.layers
    generator = keras.Sequential([
        keras.Input((z_dim,)),
        layers.Dense(7 * 7 * 4 * width, use_bias=False),
        layers.BatchNormalization(), layers.LeakyReLU(), layers.Reshape((7, 7, 4 * width)),
        layers.Conv2DTranspose(2 * width, 5, strides=1, padding="same", use_bias=False),
        layers.BatchNormalization(), layers.LeakyReLU(),
        layers.Conv2DTranspose(width, 5, strides=2, padding="same", use_bias=False),
        layers.BatchNormalization(), layers.LeakyReLU(),
        layers.Conv2DTranspose(1, 5, strides=2, padding="same", use_bias=False,
                               activation="tanh")])
    discriminator = keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(width, 5, strides=2, padding="same"), layers.LeakyReLU(),
        layers.Dropout(0.3),
        layers.Conv2D(2 * width, 5, strides=2, padding="same"), layers.LeakyReLU(),
        layers.Dropout(0.3),
        layers.Flatten(), layers.Dense(1)])
    cross_entropy = keras.losses.BinaryCrossentropy(from_logits=True)
    g_optimizer, d_optimizer = _adams(1e-4, generator, discriminator)
    noise = tf.random.Generator.from_seed(seed)

    @tf.function(jit_compile=jit_compile)
    def train_step(real):
        z = noise.normal((batch_size, z_dim))
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake_output = discriminator(generator(z, training=True), training=True)
            real_output = discriminator(real, training=True)
            g_loss = cross_entropy(tf.ones_like(fake_output), fake_output)
            d_loss = (cross_entropy(tf.ones_like(real_output), real_output)
                      + cross_entropy(tf.zeros_like(fake_output), fake_output))
        g_optimizer.apply(g_tape.gradient(g_loss, generator.trainable_weights),
                          generator.trainable_weights)
        d_optimizer.apply(d_tape.gradient(d_loss, discriminator.trainable_weights),
                          discriminator.trainable_weights)

    def sample(num_samples, seed, labels=None):
        z = priors.stateless_prior(num_samples, z_dim, "normal", seed)
        return _in_chunks(lambda a, b: (generator(z[a:b], training=False).numpy() + 1) / 2,
                          num_samples)

    return train_step, batches, sample


def keras_io_conditional_gan(mnist_path, seed, jit_compile=True, batch_size=64,
                             latent_dim=128):
    """keras-io's conditional GAN (keras.io/examples/generative/conditional_gan) on MNIST's
    training digits (the example also trains on the test digits, the scores' reference):
    the one-hot label joined to z for G and as 10 image channels for D, Adam 3e-4."""
    images, labels = load_mnist_arrays("train", mnist_path=mnist_path)
    one_hot = np.eye(NUM_CLASSES, dtype="float32")
    batches = (tf.data.Dataset.from_tensor_slices((images.astype("float32") / 255.0,
                                                   one_hot[labels]))
               .shuffle(1024, seed=seed).batch(batch_size, drop_remainder=True)
               .repeat().prefetch(2))
    layers = keras.layers
    discriminator = keras.Sequential([
        keras.Input((28, 28, 1 + NUM_CLASSES)),
        layers.Conv2D(64, 3, strides=2, padding="same"), layers.LeakyReLU(0.2),
        layers.Conv2D(128, 3, strides=2, padding="same"), layers.LeakyReLU(0.2),
        layers.GlobalMaxPooling2D(), layers.Dense(1)])
    channels = latent_dim + NUM_CLASSES
    generator = keras.Sequential([
        keras.Input((channels,)),
        layers.Dense(7 * 7 * channels), layers.LeakyReLU(0.2),
        layers.Reshape((7, 7, channels)),
        layers.Conv2DTranspose(128, 4, strides=2, padding="same"), layers.LeakyReLU(0.2),
        layers.Conv2DTranspose(128, 4, strides=2, padding="same"), layers.LeakyReLU(0.2),
        layers.Conv2D(1, 7, padding="same", activation="sigmoid")])
    loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)
    d_optimizer, g_optimizer = _adams(3e-4, discriminator, generator)
    noise = tf.random.Generator.from_seed(seed)

    @tf.function(jit_compile=jit_compile)
    def train_step(batch):
        real, labels = batch
        label_maps = tf.broadcast_to(labels[:, None, None, :],
                                     (batch_size, 28, 28, NUM_CLASSES))
        # D on generated (label 1, the example's convention) and real (0) digits, each with
        # its label channels.
        fake = generator(tf.concat([noise.normal((batch_size, latent_dim)), labels], 1))
        both = tf.concat([tf.concat([fake, label_maps], -1),
                          tf.concat([real, label_maps], -1)], 0)
        targets = tf.concat([tf.ones((batch_size, 1)), tf.zeros((batch_size, 1))], 0)
        with tf.GradientTape() as tape:
            d_loss = loss_fn(targets, discriminator(both))
        d_optimizer.apply(tape.gradient(d_loss, discriminator.trainable_weights),
                          discriminator.trainable_weights)
        # G from a fresh z, its digits labelled real.
        with tf.GradientTape() as tape:
            fake = generator(tf.concat([noise.normal((batch_size, latent_dim)), labels], 1))
            g_loss = loss_fn(tf.zeros((batch_size, 1)),
                             discriminator(tf.concat([fake, label_maps], -1)))
        g_optimizer.apply(tape.gradient(g_loss, generator.trainable_weights),
                          generator.trainable_weights)

    def sample(num_samples, seed, labels):
        z = priors.stateless_prior(num_samples, latent_dim, "normal", seed)
        inputs = tf.concat([z, one_hot[labels]], 1)
        return _in_chunks(lambda a, b: generator(inputs[a:b]).numpy(), num_samples)

    return train_step, batches, sample


def score_samples(images, reference, labels=None):
    """Classifier score, FID, precision and recall of images in [0, 1] against the reference
    digits' `ImageOutputs`; with the requested `labels`, also the conditional accuracy."""
    fake = image_outputs(images)
    scores = measure(fake, reference, get_metrics("mnist", SCORED))
    if labels is not None:
        scores["conditional_accuracy"] = conditional_accuracy(
            np.argmax(fake.logits, axis=-1), labels, NUM_CLASSES).accuracy
    return scores


def _preset_config(flag, name, conditional):
    try:
        config = presets.config(name, mnist_path=FLAGS.mnist_path or "")
    except presets.PresetError as error:
        fail(f"--{flag}={name}: {error}", USAGE)
    samples_by_class = config.conditional and not config.draw_labels
    if config.dataset != "mnist" or samples_by_class != conditional:
        fail(f"--{flag}={name} trains a GAN sampled {'by' * samples_by_class or 'without'} "
             f"class on --dataset={config.dataset}; this section needs an MNIST preset "
             f"sampled {'by' * conditional or 'without'} class", USAGE)
    return config


def run_section(section, contenders, budget_seconds, reference, labels):
    """One race: the curves, each contender's time to reach the plain script's final
    figures (the plain script is the last contender), and the section's wall time."""
    start = time.perf_counter()

    def score(contender):
        started = time.perf_counter()
        images = contender.sample(FLAGS.num_samples, FLAGS.seed, labels)
        scores = score_samples(images, reference, labels)
        print(f"  {section} {contender.name} step {contender.steps}: " + ", ".join(
            f"{name} {value:.3f}" for name, value in scores.items())
            + f" ({time.perf_counter() - started:.1f} s to score)", flush=True)
        return scores

    curves = share_machine(contenders, budget_seconds=budget_seconds,
                           slice_seconds=FLAGS.slice_seconds,
                           score_every_seconds=FLAGS.score_every_seconds, score=score)
    plain_curve = curves[contenders[-1].name]
    plain_final = {metric: plain_curve[-1][metric] for metric in TARGETS} if plain_curve else {}
    return {
        "section": section, "budget_seconds": budget_seconds,
        "plain_final": plain_final,
        "contenders": [{
            "name": contender.name,
            "curve": curves[contender.name],
            "time_to_plain_final": {
                metric: (time_to_reach(curves[contender.name], plain_final[metric], metric,
                                       higher)
                         if metric in plain_final else None)
                for metric, higher in TARGETS.items()},
        } for contender in contenders],
        "section_seconds": time.perf_counter() - start,
    }


def main(argv):
    del argv
    unknown = sorted(set(FLAGS.sections) - set(SECTIONS))
    if unknown or not FLAGS.sections:
        fail(f"--sections takes {', '.join(SECTIONS)}; got {','.join(FLAGS.sections)}", USAGE)
    configs = {}
    if "unconditional" in FLAGS.sections:
        configs["unconditional"] = _preset_config("preset", FLAGS.preset, False)
    if "conditional" in FLAGS.sections:
        configs["conditional"] = _preset_config("conditional_preset", FLAGS.conditional_preset,
                                                True)
    mnist_path = FLAGS.mnist_path or None
    try:
        reference = load_reference("mnist", FLAGS.num_samples, mnist_path=mnist_path)
    except DatasetUnavailableError as error:
        fail(" ".join(str(error).split()), FAILURE)
    results = {"options": {name: FLAGS[name].value for name in FLAGS}, "sections": []}
    for section in SECTIONS:
        if section not in configs:
            continue
        config = configs[section]
        if section == "unconditional":
            preset, budget, labels = FLAGS.preset, FLAGS.budget_seconds, None
            plain = PlainContender(f"plain Keras DCGAN (width {FLAGS.plain_width})",
                                   lambda: plain_dcgan(mnist_path, FLAGS.plain_width,
                                                       FLAGS.seed, FLAGS.plain_jit_compile))
        else:
            preset, budget = FLAGS.conditional_preset, FLAGS.conditional_budget_seconds
            labels = labels_lib.balanced_labels(FLAGS.num_samples, NUM_CLASSES)
            plain = PlainContender("keras-io conditional GAN",
                                   lambda: keras_io_conditional_gan(
                                       mnist_path, FLAGS.seed, FLAGS.plain_jit_compile))
        print(f"{section}: {budget:g} s of training each, turns of {FLAGS.slice_seconds:g} s",
              flush=True)
        results["sections"].append(run_section(
            section, [TfganContender(f"tfgan {preset}", config), plain], budget, reference,
            labels))
        write_results(results, FLAGS.out)
    print_table(results)
    print(f"wrote {FLAGS.out} and {plot_path(FLAGS.out)}")


def plot_path(out):
    return os.path.splitext(out)[0] + ".png"


def write_results(results, out):
    """The JSON at `out` and the plot beside it (both rewritten after every section)."""
    if os.path.dirname(out):
        os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        json.dump(results, f, indent=2)
    save_plot(results, plot_path(out))


def save_plot(results, path):
    """Classifier score and FID against training minutes: a row per section, a line per
    contender, the plain script's final value dashed."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    sections = results["sections"]
    figure = Figure(figsize=(10, 3.6 * len(sections)), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.subplots(len(sections), len(TARGETS), squeeze=False)
    for row, section in zip(axes, sections):
        for ax, (metric, higher) in zip(row, TARGETS.items()):
            for contender in section["contenders"]:
                curve = contender["curve"]
                ax.plot([p["training_seconds"] / 60 for p in curve], [p[metric] for p in curve],
                        marker="o", markersize=3, label=contender["name"])
            if metric in section["plain_final"]:
                ax.axhline(section["plain_final"][metric], color="gray", linestyle="--",
                           linewidth=0.8, label="plain script's final")
            label = "classifier score (higher is better)" if higher else "FID (lower is better)"
            ax.set(xlabel="training minutes", ylabel=label, title=section["section"])
            if not higher:
                ax.set_yscale("log")
            ax.grid(alpha=0.3)
        row[0].legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path)


def _format(value, spec):
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) \
        else format(value, spec)


def print_table(results):
    for section in results["sections"]:
        conditional = section["section"] == "conditional"
        print(f"\n{section['section']}: {section['budget_seconds']:g} s of training each "
              f"({section['section_seconds']:.0f} s with the scoring)")
        print(f"{'contender':40} {'s':>6} {'steps':>7} {'steps/s':>7} {'score':>6} {'FID':>7} "
              f"{'prec':>5} {'recall':>6}" + (f" {'cond acc':>8}" if conditional else "")
              + f" {'reaches plain score at':>22} {'plain FID at':>12}")
        for contender in section["contenders"]:
            if not contender["curve"]:
                print(f"{contender['name']:40} (not scored)")
                continue
            last = contender["curve"][-1]
            reach = contender["time_to_plain_final"]
            print(f"{contender['name']:40} {last['training_seconds']:6.0f} {last['steps']:7d} "
                  f"{last['steps'] / last['training_seconds']:7.1f} "
                  f"{last['classifier_score']:6.2f} {last['frechet_distance']:7.2f} "
                  f"{last['precision']:5.2f} {last['recall']:6.2f}"
                  + (f" {last['conditional_accuracy']:8.1%}" if conditional else "")
                  + f" {_format(reach['classifier_score'], '.0f'):>20} s"
                  f" {_format(reach['frechet_distance'], '.0f'):>10} s")


if __name__ == "__main__":
    run_tool(main, FLAGS, __doc__)
