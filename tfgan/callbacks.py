"""Keras callbacks that decide when to draw, log and save during training.

The drawing itself lives in `tfgan.plots`. Every callback counts in the model's own step
counter (`model.step`, incremented once per train step and saved in checkpoints), not in
Keras' per-epoch batch index, so a resumed run writes to the right rows and file names.
They share one base, `EveryNSteps`: "every `N` steps" means whenever the step counter passes
a multiple of `N`, which also holds when one batch callback covers several steps
(`steps_per_execution > 1`). Under `tfgan.training_loop.run_steps` each callback's
`next_stop` ends the compiled block there, so every callback acts on exactly its steps.

The logs they see are running means (`GAN.metrics`) since the last reset: put a
`ResetMetricsEvery` last in the list, and every callback that shares its `every` reports
the mean over its interval.
"""

import concurrent.futures
import csv
import functools
import io
import os
import re
import time

import keras
import numpy as np
import tensorflow as tf

from tfgan import divergence, plots
from tfgan.gan import LOG_NAMES, pack_samples

_FRAME_NAME = re.compile(r"^(\d+)\.png$")


def _ordered_log_names(logs):
    """The GAN's own logs first (in `LOG_NAMES` order), then the others as they come."""
    return [name for name in LOG_NAMES if name in logs] + [
        name for name in logs if name not in LOG_NAMES
    ]


def _write_png_summary(name, png_path, step):
    """Writes one PNG file as a TensorBoard image summary to the default writer."""
    image = tf.io.decode_png(tf.io.read_file(png_path))
    tf.summary.image(name, image[tf.newaxis], step=step)


def _model_step(model):
    return int(model.step.numpy())


def _passed_multiple(previous_step, step, every):
    """True when some multiple of `every` lies in `(previous_step, step]`."""
    return step // every > previous_step // every


def _next_multiple(step, every):
    """The first multiple of `every` after `step`."""
    return (step // every + 1) * every


class EveryNSteps(keras.callbacks.Callback):
    """Base of the callbacks that act whenever the model step passes a multiple of `every`.

    Subclasses implement `on_interval(step, logs)`; `on_train_begin` and `on_train_end` may
    be extended (call `super()`). `next_stop(step)` tells a training loop the next step at
    which the callback wants control.

    Args:
        every: int, steps between actions.

    Raises:
        ValueError: if `every` is not positive.
    """

    def __init__(self, every):
        super().__init__()
        if every < 1:
            raise ValueError(f"every must be a positive number of steps. Received: every={every}")
        self.every = every
        self._last_step = 0

    def next_stop(self, step):
        """The first step after `step` at which this callback acts."""
        return _next_multiple(step, self.every)

    def on_train_begin(self, logs=None):
        self._last_step = _model_step(self.model)

    def on_train_batch_end(self, batch, logs=None):
        step = _model_step(self.model)
        if self._is_due(self._last_step, step, logs or {}):
            self.on_interval(step, logs if logs is not None else {})
        self._last_step = step

    def _is_due(self, previous_step, step, logs):
        return _passed_multiple(previous_step, step, self.every)

    def on_interval(self, step, logs):
        """Acts at `step`, a step that passed a multiple of `every`; `logs` may be extended."""
        raise NotImplementedError


def _read_history(path):
    """Returns `(column names, rows as dicts of strings)` of a history CSV.

    Rows are appended whole, each ending its line, so only the last line can be cut short (a
    kill mid-write): a last line without its end of line is left out, whatever it parses as.
    """
    with open(path, newline="") as f:
        text = f.read()
    reader = csv.DictReader(io.StringIO(text[:text.rfind("\n") + 1], newline=""))
    rows = list(reader)
    return reader.fieldnames, rows


def _cell_value(text):
    """A history cell as a float; the empty cells of columns logged only at some steps are nan."""
    return float(text) if text else float("nan")


def _frame_paths(directory):
    """The `NNNNNN.png` frames in `directory` as `{step: path}`."""
    frames = {}
    for name in os.listdir(directory):
        match = _FRAME_NAME.match(name)
        if match:
            frames[int(match.group(1))] = os.path.join(directory, name)
    return frames


class BackgroundDrawing(keras.callbacks.Callback):
    """Draws the other callbacks' pictures on one background thread while training goes on.

    Rendering a PNG with matplotlib takes 0.2-0.5 s, several hundred steps of a small GAN.
    Callbacks given this object as `drawing=` take what they draw from the model at the step
    (samples, features, the history) and `submit` the rendering here; one worker thread renders
    in submission order, so a GIF submitted after its frames sees them all. A rendering that
    fails raises its exception in the training thread at the next block end.

    Put it after every callback that submits to it: its `on_train_end` waits for every
    drawing, saying how many are left. When training stops by an exception the submitted
    drawings still finish before the process exits.

    Args:
        print_fn: callable taking one line, where the end-of-training wait is announced.
            Defaults to `print` (flushed).
    """

    def __init__(self, print_fn=functools.partial(print, flush=True)):
        super().__init__()
        self.print_fn = print_fn
        self._executor = None
        self._futures = []

    def submit(self, fn, *args, **kwargs):
        """Runs `fn(*args, **kwargs)` on the drawing thread (now, if training has not begun)."""
        if self._executor is None:
            fn(*args, **kwargs)
            return
        self._futures.append(self._executor.submit(fn, *args, **kwargs))

    def _collect(self, wait):
        """Raises the first failure among the finished (with `wait`, all) drawings."""
        pending = []
        for future in self._futures:
            if wait or future.done():
                future.result()
            else:
                pending.append(future)
        self._futures = pending

    def on_train_begin(self, logs=None):
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="tfgan-drawing")

    def on_train_batch_end(self, batch, logs=None):
        self._collect(wait=False)

    def on_train_end(self, logs=None):
        waiting = sum(not future.done() for future in self._futures)
        if waiting:
            self.print_fn(f"drawing the last {waiting} picture{'s' * (waiting > 1)} ...")
        try:
            self._collect(wait=True)
        finally:
            self._executor.shutdown()
            self._executor = None
            self._futures = []


def _draw(drawing, fn, *args, **kwargs):
    """`fn(*args, **kwargs)` on `drawing`'s thread, or here when `drawing` is None."""
    if drawing is None:
        fn(*args, **kwargs)
    else:
        drawing.submit(fn, *args, **kwargs)


class HistoryCSV(EveryNSteps):
    """Appends one CSV row every `every` steps: the model step and every log.

    The logs are running means since the last `ResetMetricsEvery`, so with the same `every`
    each row is the mean over its interval; training that ends (or is interrupted) between
    two multiples of `every` writes a last row at its final step, so every step trained is in
    exactly one row across stops and resumes. The columns are `step`, then `d_loss`, `g_loss`,
    `d_real`, `d_fake`, then the other logs of the first row (a log missing from a later row
    is written as `nan`; a log that first appears later is not written), then
    `extra_columns`: logs present only at some steps, such as `EvaluateEvery`'s metrics,
    whose cells are empty at the other steps; a step whose logs hold one of them gets a row
    even off the interval. Each row is flushed as it is written, so a crash loses nothing.
    When the file already exists (a resumed run), rows with a step beyond the model's
    restored step are dropped before appending, since those steps were never checkpointed and
    are trained again; extra columns the file lacks are added, empty in its old rows.

    Args:
        path: str, the CSV file, usually `<workdir>/history.csv`.
        every: int, steps between rows. Defaults to `1`.
        extra_columns: tuple of str, the names of the logs written only at some steps.
            Defaults to `()`.

    Raises:
        ValueError: if `every` is not positive.
    """

    def __init__(self, path, every=1, extra_columns=()):
        super().__init__(every)
        self.path = path
        self.extra_columns = tuple(extra_columns)
        self._file = None
        self._writer = None
        self._row_step = None

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        step = self._last_step
        self._row_step = step
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        fieldnames = None
        if os.path.exists(self.path):
            fieldnames, rows = _read_history(self.path)
        temporary_path = f"{self.path}.tmp"
        with open(temporary_path, "w", newline="") as f:
            if fieldnames:
                fieldnames += [name for name in self.extra_columns if name not in fieldnames]
                writer = csv.DictWriter(f, fieldnames=fieldnames, restval="")
                writer.writeheader()
                writer.writerows(row for row in rows if int(row["step"]) <= step)
        os.replace(temporary_path, self.path)
        self._file = open(self.path, "a", newline="")
        self._writer = self._dict_writer(fieldnames) if fieldnames else None

    def _dict_writer(self, fieldnames):
        return csv.DictWriter(self._file, fieldnames=fieldnames, restval="nan",
                              extrasaction="ignore")

    def _is_due(self, previous_step, step, logs):
        return (super()._is_due(previous_step, step, logs)
                or any(name in logs for name in self.extra_columns))

    def on_interval(self, step, logs):
        row = {"step": step}
        row.update({name: float(logs[name]) for name in _ordered_log_names(logs)
                    if name not in self.extra_columns})
        if self._writer is None:
            self._writer = self._dict_writer(list(row) + list(self.extra_columns))
            self._writer.writeheader()
        row.update({name: float(logs[name]) if name in logs else ""
                    for name in self.extra_columns})
        self._writer.writerow(row)
        self._file.flush()
        self._row_step = step

    def on_train_end(self, logs=None):
        step = _model_step(self.model)
        if step != self._row_step and logs:
            self.on_interval(step, logs)
        self._file.close()
        self._file = None
        self._writer = None


class SampleGrid(EveryNSteps):
    """Draws the generator's samples of a fixed `z` every `every` steps, and a progress GIF.

    Writes `directory/NNNNNN.png` (the zero-padded model step) through
    `model.generate(z)` and `tfgan.plots.save_samples`: at step 0 when training starts from
    scratch, whenever the step passes a multiple of `every`, and at the end of training. At
    the end it also joins every frame in `directory` into `progress.gif` in the parent of
    `directory` (seed 003). Frames from steps beyond the model's step at the start of
    training (left by a run that crashed after its last checkpoint) are deleted then.

    Args:
        directory: str, where the frames go, e.g. `<workdir>/samples`.
        every: int, steps between frames.
        z: float array `[num_samples, z_dim]`, the fixed latent batch.
        reference: float array `[m, d]` of real points drawn under generated points, or
            `None`. Defaults to `None`.
        value_range: tuple `(lo, hi)` of the generator's image range, mapped to [0, 1] for
            drawing, or `None` to draw the samples unchanged (points, or images already in
            [0, 1]). Defaults to `None`.
        summary_writer: `tf.summary` writer that also gets each frame as an image summary
            `samples` at its step, or `None`. Defaults to `None`.
        drawing: `BackgroundDrawing` that renders the frames and the GIF, or `None` to
            render them here. Defaults to `None`.
        labels: int32 array `[num_samples]` of a conditional generator, or `None`. With
            `tfgan.labels.class_rows` the grid shows one row per class. Defaults to `None`.
        num_columns: int or `None`, images per row (`per_class` for a row per class).
            Defaults to `None`: a square grid.

    Raises:
        ValueError: if `every` is not positive or `value_range` does not have `lo < hi`.
    """

    def __init__(self, directory, every, z, reference=None, value_range=None,
                 summary_writer=None, drawing=None, labels=None, num_columns=None):
        super().__init__(every)
        if value_range is not None and not value_range[0] < value_range[1]:
            raise ValueError(
                f"value_range must be (lo, hi) with lo < hi. Received: value_range={value_range}"
            )
        self.directory = directory
        self.z = z
        self.labels = labels
        self.num_columns = num_columns
        self.reference = reference
        self.value_range = value_range
        self.summary_writer = summary_writer
        self.drawing = drawing
        self._last_written_step = None

    @property
    def gif_path(self):
        return os.path.join(os.path.dirname(os.path.normpath(self.directory)), "progress.gif")

    def _write_frame(self, step):
        samples = keras.ops.convert_to_numpy(
            self.model.generate(self.z, self.labels)).astype(np.float32)
        if self.value_range is not None:
            lo, hi = self.value_range
            samples = (samples - lo) / (hi - lo)
        _draw(self.drawing, self._render_frame, samples, step)
        self._last_written_step = step

    def _render_frame(self, samples, step):
        path = os.path.join(self.directory, f"{step:06d}.png")
        plots.save_samples(samples, path, reference=self.reference, title=f"step {step}",
                           num_columns=self.num_columns)
        if self.summary_writer is not None:
            with self.summary_writer.as_default():
                _write_png_summary("samples", path, step)

    def _render_gif(self):
        if self.summary_writer is not None:
            self.summary_writer.flush()
        frames = _frame_paths(self.directory)
        plots.save_gif([frames[frame_step] for frame_step in sorted(frames)], self.gif_path)

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        os.makedirs(self.directory, exist_ok=True)
        for frame_step, path in _frame_paths(self.directory).items():
            if frame_step > self._last_step:
                os.remove(path)
        if self._last_step == 0:
            self._write_frame(0)

    def on_interval(self, step, logs):
        self._write_frame(step)

    def on_train_end(self, logs=None):
        step = _model_step(self.model)
        if self._last_written_step != step:
            self._write_frame(step)
        _draw(self.drawing, self._render_gif)


class LossPlot(EveryNSteps):
    """Redraws the loss plot from the history CSV every `every` steps and at the end.

    Put it after the `HistoryCSV` that writes `history_csv_path` in the callback list, so
    the current step's row is on disk when it draws.

    Args:
        history_csv_path: str, the CSV that `HistoryCSV` writes.
        path: str, the PNG to (re)write, e.g. `<workdir>/losses.png`.
        every: int, steps between redraws.
        drawing: `BackgroundDrawing` that renders the plot, or `None` to render it here.
            Defaults to `None`.

    Raises:
        ValueError: if `every` is not positive.
    """

    def __init__(self, history_csv_path, path, every, drawing=None):
        super().__init__(every)
        self.history_csv_path = history_csv_path
        self.path = path
        self.drawing = drawing

    def _draw(self):
        if not os.path.exists(self.history_csv_path):
            return
        fieldnames, rows = _read_history(self.history_csv_path)
        if rows:
            history = {name: [_cell_value(row[name]) for row in rows] for name in fieldnames}
            _draw(self.drawing, plots.save_loss_plot, history, self.path)

    def on_interval(self, step, logs):
        self._draw()

    def on_train_end(self, logs=None):
        self._draw()


class TensorBoardScalars(EveryNSteps):
    """Writes every log as a TensorBoard scalar at the model step, every `every` steps.

    Args:
        logdir: str, the directory of its own `tf.summary` file writer.
        every: int, steps between writes. Defaults to `1`.

    Raises:
        ValueError: if `every` is not positive.
    """

    def __init__(self, logdir, every=1):
        super().__init__(every)
        self.logdir = logdir
        self._writer = None

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        if self._writer is None:
            self._writer = tf.summary.create_file_writer(self.logdir)

    def on_interval(self, step, logs):
        with self._writer.as_default():
            for name, value in logs.items():
                tf.summary.scalar(name, float(value), step=step)

    def on_train_end(self, logs=None):
        self._writer.flush()


class EvaluateEvery(EveryNSteps):
    """Measures the generator every `every` steps and adds the metrics to that step's logs.

    Whenever the model step passes a multiple of `every`, calls `evaluate_fn(model)` (e.g.
    samples from a fixed seed scored with `tfgan.metrics.evaluate_samples`; whatever is
    expensive and fixed, such as real-data features, is computed once by its maker), writes
    each value as a TensorBoard scalar `eval/<name>` at the model step, and puts the values
    into the step's `logs`. Callbacks after it in the list see them there: put it before a
    `HistoryCSV` made with `extra_columns=names`, and after `TensorBoardScalars` (which would
    write them a second time).

    Args:
        every: int, steps between evaluations.
        evaluate_fn: callable taking the model and returning a dict `{name: number}`.
        names: tuple of str, the names `evaluate_fn` returns, known before training so that
            `HistoryCSV` can have their columns from the first row.
        logdir: str or `None`, the directory of its own `tf.summary` file writer, or `None`
            for no TensorBoard output. Defaults to `None`.

    Raises:
        ValueError: if `every` is not positive.
    """

    def __init__(self, every, evaluate_fn, names, logdir=None):
        super().__init__(every)
        self.evaluate_fn = evaluate_fn
        self.names = tuple(names)
        self.logdir = logdir
        self._writer = None

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        if self.logdir is not None and self._writer is None:
            self._writer = tf.summary.create_file_writer(self.logdir)

    def on_interval(self, step, logs):
        metrics = {name: float(value) for name, value in self.evaluate_fn(self.model).items()}
        if self._writer is not None:
            with self._writer.as_default():
                for name, value in metrics.items():
                    tf.summary.scalar(f"eval/{name}", value, step=step)
            self._writer.flush()
        logs.update(metrics)

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.flush()


class FeatureSpacePlot(EveryNSteps):
    """Draws how one generator update moves G(z) in the discriminator's feature space.

    Seed 000's picture: the discriminator's last hidden layer (`discriminator.features`,
    2 units there) for a fixed real batch and for G(z), before and after a train step. The
    discriminator is held fixed at its pre-step weights: before a plotting step the callback
    copies them into a private probe discriminator (same class and config, built once), and
    both the "before" and the "after" features come from that probe. The train step also
    updates the real discriminator, but the probe does not see it, so the plot shows only the
    generator's move (the real features coincide, as in the seed). The model's own
    discriminator is never modified. `G` is `model.generator`, the network the step updates
    (not its moving average).

    A packed discriminator (`model.pack` > 1, PacGAN) judges packs of `pack` samples, so each
    plotted point is one pack of consecutive samples, packed as the train step packs them; a
    remainder of fewer than `pack` samples is left out. Models without a `pack` attribute
    judge single samples.

    Writes `directory/features_NNNNNN.png`, NNNNNN being the model step after the update,
    for every step that is a multiple of `every`. The "before" is taken when a batch begins
    whose steps reach that multiple: `next_stop` also stops a training loop one step before
    each multiple, so the picture spans exactly one train step.

    Args:
        directory: str, where the plots go, e.g. `<workdir>/features`.
        every: int, steps between plots.
        real_batch: float array `[n, *data_shape]`, the fixed real samples.
        z: float array `[m, z_dim]`, the fixed latent batch.
        drawing: `BackgroundDrawing` that renders the plots, or `None` to render them here.
            Defaults to `None`.

    Raises:
        ValueError: if `every` is not positive, or (when training starts) the
            discriminator's features have fewer than 2 dimensions.
    """

    def __init__(self, directory, every, real_batch, z, drawing=None):
        super().__init__(every)
        self.directory = directory
        self.real_batch = real_batch
        self.z = z
        self.drawing = drawing
        self._probe = None
        self._before = None

    def _packs(self, x):
        pack = getattr(self.model, "pack", 1)
        return pack_samples(x[: len(x) - len(x) % pack], pack)

    def _features(self, x):
        return keras.ops.convert_to_numpy(self._probe.features(self._packs(x), training=False))

    def next_stop(self, step):
        multiple = _next_multiple(step, self.every)
        return multiple - 1 if multiple - 1 > step else multiple

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        if self._probe is not None:
            return
        discriminator = self.model.discriminator
        real_packs = self._packs(self.real_batch)
        if not discriminator.weights:
            discriminator(real_packs, training=False)
        self._probe = discriminator.__class__.from_config(discriminator.get_config())
        self._probe(real_packs, training=False)
        feature_dim = self._features(self.real_batch).shape[-1]
        if feature_dim < 2:
            raise ValueError(
                "FeatureSpacePlot needs a discriminator with at least 2 features. "
                f"Received: feature_dim={feature_dim}"
            )

    def on_train_batch_begin(self, batch, logs=None):
        step = _model_step(self.model)
        if not _passed_multiple(step, step + self.model.steps_per_execution, self.every):
            return
        self._probe.set_weights(self.model.discriminator.get_weights())
        generated = self.model.generator(self.z, training=False)
        self._before = (self._features(self.real_batch), self._features(generated))

    def on_interval(self, step, logs):
        if self._before is None:
            return
        real_features, fake_before = self._before
        self._before = None
        fake_after = self._features(self.model.generator(self.z, training=False))
        # The probe is unchanged, so the real features after the step are the ones before.
        _draw(
            self.drawing,
            plots.save_feature_space,
            real_features,
            fake_before,
            real_features,
            fake_after,
            os.path.join(self.directory, f"features_{step:06d}.png"),
            step=step,
        )


def _format_duration(seconds):
    """`5s`, `1m32s` or `2h05m09s`."""
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m{seconds:02d}s"
    if minutes:
        return f"{minutes}m{seconds:02d}s"
    return f"{seconds}s"


class ProgressLogger(EveryNSteps):
    """Prints one progress line every `every` steps.

    The line reads
    `step 1200/30000  d_loss 1.2345  g_loss 0.8765  D(x) 0.52  D(G(z)) 0.47  312.4 steps/s
    ETA 1m32s`, followed by any further logs (e.g. `gradient_penalty`) before the speed.
    The speed is measured over the steps since the previous line (or the start of training)
    and the ETA is the remaining steps at that speed. Steps are the model's, so a resumed
    run counts from its restored step.

    Args:
        total_steps: int, the step training ends at.
        every: int, steps between lines.
        print_fn: callable taking one str. Defaults to `print` with `flush=True`.
        clock: callable returning seconds as a float, the time source of the speed.
            Defaults to `time.monotonic`.

    Raises:
        ValueError: if `every` or `total_steps` is not positive.
    """

    _LABELS = {"d_real": "D(x)", "d_fake": "D(G(z))"}

    def __init__(self, total_steps, every, print_fn=functools.partial(print, flush=True),
                 clock=time.monotonic):
        super().__init__(every)
        if total_steps < 1:
            raise ValueError(
                f"total_steps must be positive. Received: total_steps={total_steps}"
            )
        self.total_steps = total_steps
        self.print_fn = print_fn
        self.clock = clock
        self._interval_start = (0, 0.0)

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self._interval_start = (self._last_step, self.clock())

    def _line(self, step, logs, steps_per_second):
        parts = [f"step {step}/{self.total_steps}"]
        for name in _ordered_log_names(logs):
            if name in self._LABELS:  # probabilities: two decimals
                parts.append(f"{self._LABELS[name]} {float(logs[name]):.2f}")
            else:
                parts.append(f"{name} {float(logs[name]):.4f}")
        parts.append(f"{steps_per_second:.1f} steps/s")
        if steps_per_second > 0:
            remaining = max(self.total_steps - step, 0) / steps_per_second
            parts.append(f"ETA {_format_duration(remaining)}")
        return "  ".join(parts)

    def on_interval(self, step, logs):
        start_step, start_time = self._interval_start
        now = self.clock()
        elapsed = now - start_time
        steps_per_second = (step - start_step) / elapsed if elapsed > 0 else 0.0
        self.print_fn(self._line(step, logs, steps_per_second))
        self._interval_start = (step, now)


class StopOnDivergence(keras.callbacks.Callback):
    """Stops training the first time a logged loss or a weight diverges.

    Losses and the networks' weights are checked after every block of steps
    (`tfgan.divergence`). Put it before `CheckpointEvery`: the `DivergenceError` it raises
    ends the block's callbacks there, so diverged weights are never checkpointed.

    Args:
        bound: float, the largest magnitude a loss or weight may reach (0: only NaN and
            infinity count). Defaults to `tfgan.divergence.DEFAULT_BOUND`.
        names: tuple of str, the logs to check. Defaults to `("d_loss", "g_loss")`.
    """

    def __init__(self, bound=divergence.DEFAULT_BOUND, names=("d_loss", "g_loss")):
        super().__init__()
        self.bound = bound
        self.names = tuple(names)

    def on_train_batch_end(self, batch, logs=None):
        what = (divergence.diverged_loss(logs or {}, self.names, self.bound)
                or divergence.diverged_weight(
                    self.model.generator.weights + self.model.discriminator.weights, self.bound))
        if what:
            raise divergence.DivergenceError(_model_step(self.model), what)


class CheckpointEvery(EveryNSteps):
    """Saves a checkpoint every `every` steps and at the end of training.

    Args:
        manager: `tf.train.CheckpointManager`; checkpoints are numbered by the model step.
        every: int, steps between checkpoints.

    Raises:
        ValueError: if `every` is not positive.
    """

    def __init__(self, manager, every):
        super().__init__(every)
        self.manager = manager
        self._saved_step = None

    def _save(self, step):
        if step != self._saved_step:
            self.manager.save(checkpoint_number=step)
            self._saved_step = step

    def on_interval(self, step, logs):
        self._save(step)

    def on_train_end(self, logs=None):
        self._save(_model_step(self.model))


class ResetMetricsEvery(EveryNSteps):
    """Resets the model's metric trackers every `every` steps, after the loggers have read them.

    Put it last in the callback list: the callbacks before it that share its `every` then log
    the mean over each interval rather than over the whole run.

    Args:
        every: int, steps between resets.

    Raises:
        ValueError: if `every` is not positive.
    """

    def on_interval(self, step, logs):
        self.model.reset_metrics()
