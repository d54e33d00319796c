"""The training loop: `train(config)` turns a `TrainConfig` into a trained, checkpointed GAN.

A run directory (`--workdir`) holds:

    options.json        every option of the run, written before the first step
    dataset.json        what the data looks like (kind, shape, value range)
    checkpoints/        tf.train.CheckpointManager; re-running the same command resumes
    history.csv         one row every --log_every steps: the means of d_loss, g_loss, d_real,
                        d_fake, ... over those steps, then the data set's metrics every
                        --eval_every steps (empty cells between)
    losses.png          the loss and D-output curves, redrawn with every sample grid
    samples/NNNNNN.png  generated samples from one fixed z every --sample_every steps
    progress.gif        those grids animated
    features/           (2-D toys) the discriminator's feature space before/after a G update
    tensorboard/        scalars and image grids; eval/ holds the metrics (tags eval/<name>)

Nothing is written until every option and the data have been checked.
"""

import contextlib
import dataclasses
import functools
import glob
import json
import os
import re
import shutil
import sys
from typing import NamedTuple

import numpy as np

import keras
import tensorflow as tf

from tfgan import callbacks as callbacks_lib
from tfgan import data as data_lib
from tfgan import export as export_lib
from tfgan import labels as labels_lib
from tfgan import models as models_lib
from tfgan import adversaries, distribute, divergence, learning_rates, priors, training_loop
from tfgan.config import MODEL_OPTIONS, ConfigError, TrainConfig
from tfgan.flops import train_step_flops
from tfgan.gan import GAN, packed_shape
from tfgan.metrics.evaluate import evaluate_samples
from tfgan.metrics.reference import load_reference
from tfgan.metrics.registry import METRICS
from tfgan.schedules import make_schedule

OPTIONS_FILE = "options.json"
DATASET_FILE = "dataset.json"
CHECKPOINT_DIR = "checkpoints"
# `--on_nan=rollback` resumes from the last good checkpoint at most this many times.
MAX_ROLLBACKS = 3
# A run refuses to start with less free space in its workdir than this many times the size
# of its variables (three checkpoints of weights and optimizer slots, and room to spare).
_FREE_SPACE_FACTOR = 20


class DivergedError(RuntimeError):
    """A run's losses or weights are NaN, infinite or past `--divergence_bound`; the message
    says what to do."""


class TrainedRun(NamedTuple):
    """What `train` returns: `gan, workdir = tfgan.train(config)`.

    Attributes:
        gan: the trained `tfgan.gan.GAN`, at its last step.
        workdir: str, its run directory (checkpoints, history.csv, plots, options.json).
    """

    gan: GAN
    workdir: str


@dataclasses.dataclass(frozen=True)
class DataSpec:
    """What a trained generator produces: enough to rebuild, sample and export it."""

    kind: str  # "image" or "points"
    data_shape: tuple
    value_range: tuple | None  # the generator's output range for images; None for points
    class_names: tuple | None = None  # a conditional generator's classes

    @classmethod
    def from_info(cls, info):
        value_range = tuple(info.value_range) if info.value_range is not None else None
        class_names = tuple(info.class_names) if info.class_names is not None else None
        return cls(info.kind, tuple(info.data_shape), value_range, class_names)

    @property
    def num_classes(self):
        """0 for an unconditional generator, else the number of classes."""
        return len(self.class_names) if self.class_names else 0


def set_precision_policy(mixed_precision):
    """Sets Keras's global dtype policy; returns its name.

    mixed_float16 (with loss scaling, done by the GAN) where a GPU is present, mixed_bfloat16
    on CPUs, float32 when mixed precision is off.
    """
    if not mixed_precision:
        name = "float32"
    elif tf.config.list_physical_devices("GPU"):
        name = "mixed_float16"
    else:
        name = "mixed_bfloat16"
    keras.mixed_precision.set_global_policy(name)
    return name


def data_value_range(config, kind):
    """The range real samples are scaled to so that they match the generator's output."""
    if kind == "points":
        if config.output_activation != "linear":
            raise ConfigError(
                f"--dataset={config.dataset} is point data in its own units: it needs "
                f"--output_activation=linear, got {config.output_activation}"
            )
        return None
    range_ = models_lib.output_range(config.output_activation)
    if range_ is None:
        raise ConfigError(
            f"--dataset={config.dataset} holds images: --output_activation must be sigmoid "
            "or tanh, got linear"
        )
    return range_


def build_networks(config, spec):
    """Builds the generator and discriminator that `config` describes for data of `spec`.

    With `--pack=m` the discriminator is built for packs of m samples,
    `tfgan.gan.packed_shape(spec.data_shape, m)`. With `--num_generators` or
    `--num_discriminators` above 1 they are a `tfgan.adversaries.GeneratorMixture` and a
    `DiscriminatorEnsemble` of that many networks. With `--conditional` the generators take
    labels and each discriminator is wrapped in the `--conditioning` of
    `tfgan.models.conditioned_discriminator` (a concat one's base sees the one-hot channels).

    Raises:
        ConfigError: the architecture does not fit the data's shape, or an option is invalid.
    """
    common = dict(minibatch_kernels=config.num_kernels if config.minibatch else 0,
                  minibatch_kernel_dim=config.kernel_dim, spectral_norm=config.spectral_norm)
    num_classes = spec.num_classes
    d_shape = packed_shape(spec.data_shape, config.pack)
    if num_classes and config.conditioning == "concat":
        d_shape = models_lib.concat_shape(d_shape, num_classes)
    if config.architecture == "mlp":
        g_options = dict(hidden_units=config.g_hidden_units, activation=config.activation,
                         output_activation=config.output_activation)
        d_options = dict(hidden_units=config.d_hidden_units, activation=config.activation,
                         feature_units=config.d_feature_units or None, **common)
    else:
        g_options = dict(width=config.width, output_activation=config.output_activation,
                         kernel_size=config.kernel_size)
        d_options = dict(width=config.d_width or config.width, dropout=config.dropout,
                         kernel_size=config.kernel_size, **common)
    try:
        generators = [
            models_lib.build_generator(config.architecture, z_dim=config.z_dim,
                                       data_shape=spec.data_shape, num_classes=num_classes,
                                       **g_options)
            for _ in range(config.num_generators)]
        discriminators = [
            models_lib.build_discriminator(config.architecture, data_shape=d_shape, **d_options)
            for _ in range(config.num_discriminators)]
        if num_classes:
            discriminators = [
                models_lib.conditioned_discriminator(config.conditioning, member, num_classes,
                                                     class_stddev=config.class_stddev)
                for member in discriminators]
    except ValueError as error:
        raise ConfigError(f"--architecture={config.architecture}: {error}") from None
    generator = (generators[0] if len(generators) == 1
                 else adversaries.GeneratorMixture(generators, name="generator_mixture"))
    discriminator = (discriminators[0] if len(discriminators) == 1
                     else adversaries.DiscriminatorEnsemble(discriminators,
                                                            name="discriminator_ensemble"))
    return generator, discriminator


def _learning_rate(config, network):
    """`network`'s rate ("d" or "g"), scheduled over its updates: k_d or k_g per step."""
    updates_per_step = config.k_d if network == "d" else config.k_g
    return learning_rates.learning_rate(
        config.network_learning_rate(network), config.lr_schedule,
        total_steps=config.steps * updates_per_step,
        warmup_steps=config.lr_warmup_steps * updates_per_step)


def _optimizer(config, network):
    learning_rate = _learning_rate(config, network)
    if config.optimizer == "adam":
        return keras.optimizers.Adam(learning_rate, beta_1=config.beta1, beta_2=config.beta2)
    return keras.optimizers.RMSprop(learning_rate)


def apply_flag_learning_rates(gan, config):
    """Gives the optimizers of a GAN restored from a checkpoint the flags' learning rates.

    The checkpoint holds the optimizers' learning rates; the flags' values win, so a run that
    diverged can be resumed with a lower --learning_rate. A scheduled optimizer holds none:
    its schedule was built from the flags.
    """
    if not config.scheduled_learning_rates:
        for network, optimizer in (("d", gan.d_optimizer), ("g", gan.g_optimizer)):
            optimizer.learning_rate = config.network_learning_rate(network)


def build_gan(config, spec):
    """Builds and compiles the GAN of `config` with every variable created (ready to restore)."""
    keras.utils.set_random_seed(config.seed)
    generator, discriminator = build_networks(config, spec)
    gan = GAN(
        generator,
        discriminator,
        prior=config.prior,
        schedule=make_schedule(config.schedule, d_steps=config.k_d, g_steps=config.k_g,
                               d_confidence=config.d_confidence),
        ema_decay=config.ema_decay or None,
        seed=config.seed,
        pack=config.pack,
        ema_warmup=config.ema_warmup,
    )
    gan.compile(
        d_optimizer=_optimizer(config, "d"),
        g_optimizer=_optimizer(config, "g"),
        loss=config.loss,
        gradient_penalty_weight=config.gradient_penalty_weight,
        gradient_penalty=config.gradient_penalty,
        gradient_penalty_every=config.gradient_penalty_every,
        unrolled_steps=config.unrolled_steps,
        unrolled_learning_rate=(config.unrolled_learning_rate
                                or config.network_learning_rate("d")),
        adversary_weighting=config.adversary_weighting,
        adversary_temperature=config.adversary_temperature,
        class_loss_weight=(config.acgan_weight if spec.num_classes
                           and config.conditioning in models_lib.CLASSIFYING else 0.0),
        classify_generated=config.conditioning == "acgan",
        mode_seeking_weight=config.mode_seeking_weight,
    )
    gan.build_all(spec.data_shape)
    return gan


def _check_resumable(config):
    """Refuses to resume a workdir whose saved options shape different networks."""
    path = os.path.join(config.workdir, OPTIONS_FILE)
    if not os.path.exists(path):
        return
    with open(path) as f:
        saved = TrainConfig.from_dict(json.load(f))
    changed = [name for name in MODEL_OPTIONS if getattr(saved, name) != getattr(config, name)]
    if changed and checkpoint_paths(os.path.join(config.workdir, CHECKPOINT_DIR)):
        details = ", ".join(f"--{n}={getattr(saved, n)} (now {getattr(config, n)})"
                            for n in changed)
        raise ConfigError(
            f"{config.workdir} was trained with {details}; use a new --workdir to change them"
        )


def _write_json_atomically(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def _check_workdir(config, gan):
    """Refuses a workdir that cannot be written or lacks the room for checkpoints.

    A run needs about `_FREE_SPACE_FACTOR` times the size of its variables; the checkpoints
    a resumed run already holds count towards it, as new ones replace them.

    Raises:
        ConfigError: one line naming --workdir and the problem.
    """
    try:
        os.makedirs(config.workdir, exist_ok=True)
        probe = os.path.join(config.workdir, ".write_test")
        with open(probe, "w") as f:
            f.write("ok")
        os.remove(probe)
    except OSError as error:
        raise ConfigError(f"--workdir={config.workdir} is not writable: {error.strerror}") \
            from None
    needed = _FREE_SPACE_FACTOR * sum(
        int(np.prod(v.shape)) * np.dtype(v.dtype).itemsize for v in gan.variables)
    held = sum(os.path.getsize(path) for path in glob.glob(
        os.path.join(config.workdir, CHECKPOINT_DIR, "ckpt-*")) if os.path.isfile(path))
    free = shutil.disk_usage(config.workdir).free
    if free < needed - held:
        raise ConfigError(f"--workdir={config.workdir} has {free / 2**20:.0f} MB free; this run's "
                          f"checkpoints need about {(needed - held) / 2**20:.0f} MB more")


def _checkpoint_number(prefix):
    return int(prefix.rsplit("-", 1)[1])


def checkpoint_paths(checkpoint_dir):
    """The checkpoints in `checkpoint_dir`, oldest first.

    Those its state file (`checkpoint`) lists; when that file is missing or unreadable, the
    checkpoints whose files are on disk (`ckpt-<step>.index`), so a damaged state file never
    makes a run start again over its own checkpoints.

    Returns:
        list of str, checkpoint prefixes such as `<checkpoint_dir>/ckpt-3000`.
    """
    state = tf.train.get_checkpoint_state(checkpoint_dir)
    if state is not None:
        return list(state.all_model_checkpoint_paths)
    on_disk = [path[:-len(".index")]
               for path in glob.glob(os.path.join(checkpoint_dir, "ckpt-*.index"))]
    return sorted((path for path in on_disk
                   if re.fullmatch(r"ckpt-\d+", os.path.basename(path))), key=_checkpoint_number)


def _finish_drawings(callbacks):
    """Lets the pictures still being drawn finish (each is written whole or not at all)."""
    for callback in callbacks:
        if isinstance(callback, callbacks_lib.BackgroundDrawing):
            with contextlib.suppress(Exception):  # the failure being raised says enough
                callback.on_train_end()


def _remove_unfinished_saves(checkpoint_dir):
    """Removes the temporary directories of saves that failed (`ckpt-<step>_temp`), which
    TensorFlow's checkpoint writer documents as safe to remove."""
    for path in glob.glob(os.path.join(checkpoint_dir, "ckpt-*_temp")):
        shutil.rmtree(path, ignore_errors=True)


def repair_checkpoints(checkpoint_dir):
    """Readies a run's checkpoint directory for a resume, before a manager reads it.

    Removes what failed saves left, and rewrites a missing or unreadable state file from the
    checkpoints on disk (saying so on stderr): `tf.train.CheckpointManager` reads the state
    file to know which checkpoints it keeps, and without it would save beside checkpoints it
    no longer knows.
    """
    _remove_unfinished_saves(checkpoint_dir)
    if tf.train.get_checkpoint_state(checkpoint_dir) is not None:
        return
    paths = checkpoint_paths(checkpoint_dir)
    if not paths:
        return
    # With their times the manager counts them as its own and deletes them in turn.
    tf.compat.v1.train.update_checkpoint_state(
        checkpoint_dir, paths[-1], paths, last_preserved_timestamp=0.0,
        all_model_checkpoint_timestamps=[os.path.getmtime(path + ".index") for path in paths])
    print(f"warning: {os.path.join(checkpoint_dir, 'checkpoint')} was missing or unreadable; "
          f"rebuilt from the {len(paths)} checkpoints on disk (newest "
          f"{os.path.basename(paths[-1])})", file=sys.stderr, flush=True)


def restore_good_checkpoint(checkpoint, checkpoint_dir):
    """Restores the newest checkpoint in `checkpoint_dir` that reads back whole.

    A checkpoint cut short (a full disk, a kill during the save) is skipped with a warning on
    stderr, and the one before it is tried.

    Returns:
        str, the path restored, or `None` when the directory holds no checkpoint.

    Raises:
        FileNotFoundError: checkpoints exist but none of them can be read.
    """
    paths = checkpoint_paths(checkpoint_dir)
    for path in reversed(paths):
        try:
            checkpoint.restore(path).assert_existing_objects_matched()
            return path
        except (tf.errors.OpError, IndexError, ValueError, AssertionError) as error:
            reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error)
            print(f"warning: checkpoint {path} cannot be read ({reason}); trying the one before",
                  file=sys.stderr, flush=True)
    if paths:
        raise FileNotFoundError(
            f"none of the {len(paths)} checkpoints in {checkpoint_dir} can be read; remove them "
            "to start again, or use a new --workdir")
    return None


def _fixed_z(config, num_samples):
    return priors.stateless_prior(num_samples, config.z_dim, config.prior, config.seed)


def _evaluate_every(config, spec, gan):
    """The `--eval_every` callback, checked and with its reference computed, or `None`.

    Every evaluation scores `--eval_num_samples` samples of the sampling generator from the
    fixed seed `--seed` (`tfgan.export.sample_from_seed`, as `scripts/evaluate.py
    --seed=<seed> --num_samples=<eval_num_samples>` draws them from a checkpoint) with the
    data set's metrics; MNIST's real test features are computed here, once. The untrained
    generator is scored once here too: that checks the metrics fit the data and names the
    history columns before anything is written.

    Raises:
        ConfigError: the data set has no metrics or its samples do not fit them.
        tfgan.data.DatasetUnavailableError: MNIST's test split cannot be read.
    """
    if not config.eval_every:
        return None
    if config.dataset not in METRICS:
        raise ConfigError(
            f"--eval_every needs a data set with metrics ({', '.join(METRICS)}); got "
            f"--dataset={config.dataset}")
    reference = load_reference(config.dataset, config.eval_num_samples,
                               mnist_path=config.mnist_path or None,
                               data_dir=config.data_dir or None)

    # A conditional generator is scored on its class-balanced mixture.
    labels = (labels_lib.balanced_labels(config.eval_num_samples, spec.num_classes)
              if spec.num_classes else None)

    def evaluate(model):
        samples = export_lib.sample_from_seed(
            model.sampling_generator, config.eval_num_samples, config.seed,
            prior=config.prior, value_range=spec.value_range, labels=labels)["samples"]
        return evaluate_samples(samples.numpy(), config.dataset, reference=reference)

    try:
        names = tuple(evaluate(gan))
    except ValueError as error:
        raise ConfigError(f"--eval_every on --dataset={config.dataset}: {error}") from None
    return callbacks_lib.EvaluateEvery(
        config.eval_every, evaluate, names,
        logdir=os.path.join(config.workdir, "tensorboard", "eval"))


def _callbacks(config, gan, spec, dataset, manager, evaluation, drawing):
    workdir = config.workdir
    history_path = os.path.join(workdir, "history.csv")
    tensorboard_dir = os.path.join(workdir, "tensorboard")
    reference = (data_lib.sample_toy(config.dataset, config.num_grid_samples, config.seed)
                 if spec.kind == "points" else None)
    labels = num_columns = None
    if spec.num_classes:
        # A conditional grid: one row per class, as many columns as fit the samples.
        num_columns = max(1, config.num_grid_samples // spec.num_classes)
        labels = labels_lib.class_rows(spec.num_classes, num_columns)
    z = _fixed_z(config, config.num_grid_samples if labels is None else len(labels))
    # Pictures render on `drawing`'s background thread, which waits for them at the end.
    # The evaluation adds its metrics to the logs after TensorBoardScalars (it writes its own
    # scalars) and before HistoryCSV and ProgressLogger, which show them.
    result = [callbacks_lib.TensorBoardScalars(tensorboard_dir, every=config.log_every)]
    if evaluation is not None:
        result.append(evaluation)
    result += [
        callbacks_lib.HistoryCSV(
            history_path, every=config.log_every,
            extra_columns=evaluation.names if evaluation is not None else ()),
        callbacks_lib.ProgressLogger(config.steps, config.log_every),
        callbacks_lib.SampleGrid(
            os.path.join(workdir, "samples"), config.sample_every, z,
            reference=reference, value_range=spec.value_range,
            summary_writer=tf.summary.create_file_writer(os.path.join(tensorboard_dir, "samples")),
            drawing=drawing, labels=labels, num_columns=num_columns,
        ),
        # Redrawn with the sample grids: a plot takes ~0.3 s, a log interval of seed 003's
        # GAN ~2 s.
        callbacks_lib.LossPlot(history_path, os.path.join(workdir, "losses.png"),
                               max(config.log_every, config.sample_every), drawing=drawing),
    ]
    # Seed 000's picture of an unconditional discriminator's features.
    if spec.kind == "points" and spec.data_shape == (2,) and not spec.num_classes:
        real_batch = next(iter(dataset))
        result.append(callbacks_lib.FeatureSpacePlot(
            os.path.join(workdir, "features"), config.sample_every, real_batch, z,
            drawing=drawing))
    result.append(drawing)
    # Before the checkpoints: diverged weights are never saved.
    result.append(callbacks_lib.StopOnDivergence(config.divergence_bound))
    result.append(callbacks_lib.CheckpointEvery(manager, config.checkpoint_every))
    # Last: the loggers above have read this interval's means.
    result.append(callbacks_lib.ResetMetricsEvery(config.log_every))
    return result


def steps_per_execution(config, gan):
    """`--steps_per_execution`, or when it is 0 the block size the step's FLOPs call for."""
    if config.steps_per_execution:
        return config.steps_per_execution
    return training_loop.auto_steps_per_execution(train_step_flops(gan, config.batch_size))


def load_data(config):
    """The real batches `config` trains on, scaled to its generator's output range.

    Returns:
        `(dataset, spec)`: an infinite `tf.data.Dataset` of batches
        `[batch_size, *spec.data_shape]`, and its `DataSpec`.

    Raises:
        ConfigError: the data set does not fit the options.
        tfgan.data.DatasetUnavailableError: the data set cannot be read or downloaded.
    """
    kind = "points" if config.dataset in data_lib.TOYS else "image"
    try:
        dataset, info = data_lib.load_dataset(
            config.dataset, batch_size=config.batch_size,
            value_range=data_value_range(config, kind), seed=config.seed,
            data_dir=config.data_dir or None, mnist_path=config.mnist_path or None,
            image_dir=config.image_dir or None, image_size=config.image_size or None,
            labelled=config.conditional)
    except ValueError as error:
        raise ConfigError(f"--dataset={config.dataset}: {error}") from None
    return dataset, DataSpec.from_info(info)


def train(config, callbacks=(), drawing=None):
    """Trains (or resumes) the GAN that `config` describes in its `workdir`.

    Args:
        config: `TrainConfig`.
        callbacks: sequence of extra `keras.callbacks.Callback`, run after tfgan's own at
            every block of steps (e.g. a timer). Defaults to `()`.
        drawing: `tfgan.callbacks.BackgroundDrawing` that renders the run's pictures; a
            caller that pauses training can let them finish first (`drawing.submit(event.set)`
            runs after every picture submitted before it). Defaults to a new one.

    Returns:
        `TrainedRun(gan, workdir)`.

    Raises:
        ConfigError: an option is invalid, does not fit the data, or the workdir cannot hold
            the run; nothing has been written.
        tfgan.data.DatasetUnavailableError: the data set cannot be read or downloaded.
        FileNotFoundError: the workdir's checkpoints exist but none can be read.
        DivergedError: a loss or weight became NaN, infinite or past `--divergence_bound`
            (after `MAX_ROLLBACKS` rollbacks with `--on_nan=rollback`); the latest
            checkpoint is the last good one.
        KeyboardInterrupt: on Ctrl-C, after the callbacks saved where training stands.
    """
    config.validate()
    _check_resumable(config)
    # First: a multi-worker strategy configures the runtime, before any TensorFlow op runs.
    strategy, tf_config = _strategy(config)
    set_precision_policy(config.mixed_precision)
    dataset, spec = load_data(config)
    with strategy.scope():
        gan = build_gan(config, spec)
    chief = distribute.is_chief(tf_config)
    evaluation = _evaluate_every(config, spec, gan) if chief else None
    if chief:
        _check_workdir(config, gan)
        # Everything is checked: from here on the run directory is written.
        _write_json_atomically(os.path.join(config.workdir, OPTIONS_FILE), config.to_json())
        _write_json_atomically(os.path.join(config.workdir, DATASET_FILE),
                               json.dumps(dataclasses.asdict(spec), indent=2))
    checkpoint = tf.train.Checkpoint(gan=gan)
    checkpoint_dir = os.path.join(config.workdir, CHECKPOINT_DIR)
    if chief:
        repair_checkpoints(checkpoint_dir)
    manager = tf.train.CheckpointManager(
        checkpoint, distribute.worker_checkpoint_dir(checkpoint_dir, tf_config), max_to_keep=3)
    # Every worker resumes from the chief's checkpoints (the workdir is on shared storage).
    restored = restore_good_checkpoint(checkpoint, checkpoint_dir)
    if restored:
        apply_flag_learning_rates(gan, config)
        print(f"Resumed from {restored} at step {int(gan.step.numpy())}", flush=True)
    block = steps_per_execution(config, gan)
    jit_compile = config.jit_compile
    if jit_compile and strategy.num_replicas_in_sync > 1 \
            and not tf.config.list_logical_devices("GPU"):
        # XLA cannot compile the replicas' all-reduce on CPUs (TensorFlow b/194942685).
        jit_compile = False
        print(f"note: --jit_compile is off under --strategy={config.strategy} on CPUs "
              "(XLA compiles no cross-replica sums there)", file=sys.stderr, flush=True)
    rollbacks = 0
    while int(gan.step.numpy()) < config.steps:
        run_callbacks = (_callbacks(config, gan, spec, dataset, manager, evaluation,
                                    drawing if drawing is not None
                                    else callbacks_lib.BackgroundDrawing())
                         if chief else _worker_callbacks(config, manager)) + list(callbacks)
        try:
            training_loop.run_steps(gan, dataset, config.steps, callbacks=run_callbacks,
                                    steps_per_execution=block, jit_compile=jit_compile)
        except (OSError, tf.errors.OpError):  # a full disk, say: nothing stays half-written
            _finish_drawings(run_callbacks)
            _remove_unfinished_saves(checkpoint_dir)
            raise
        except divergence.DivergenceError as error:
            good = manager.latest_checkpoint
            advice = (f"{error}; the latest checkpoint, {good or 'none'}, is the last good one "
                      "(try a lower --learning_rate or a gradient penalty)")
            if config.on_nan != "rollback" or good is None or rollbacks == MAX_ROLLBACKS:
                raise DivergedError(advice) from None
            rollbacks += 1
            checkpoint.restore(good).assert_existing_objects_matched()
            gan.reset_metrics()
            print(f"warning: {error}; rolled back to {good} ({rollbacks}/{MAX_ROLLBACKS})",
                  file=sys.stderr, flush=True)
    if config.export_dir and chief:
        export_gan(gan, config.export_dir, config.export_model_name, config=config,
                   class_names=spec.class_names)
    return TrainedRun(gan, config.workdir)


def _strategy(config):
    """The strategy of `--strategy` and the cluster's `TF_CONFIG` (empty unless multi-worker).

    Raises:
        ConfigError: the strategy cannot be made, or the global batch does not split evenly
            across its replicas.
    """
    try:
        tf_config = distribute.read_tf_config() if config.strategy == "multi_worker" else {}
        strategy = distribute.make_strategy(config.strategy)
    except distribute.StrategyError as error:
        raise ConfigError(str(error)) from None
    replicas = strategy.num_replicas_in_sync
    if config.batch_size % (replicas * config.pack * config.num_generators):
        raise ConfigError(
            f"--batch_size ({config.batch_size}) must split evenly across the "
            f"{replicas} replicas of --strategy={config.strategy}, each share a multiple of "
            f"--pack times --num_generators ({config.pack * config.num_generators})")
    if config.schedule == "worse" and replicas > 1:
        raise ConfigError(
            f"--schedule=worse needs one replica; --strategy={config.strategy} has {replicas} "
            "(the optimizers' cross-replica sums cannot run inside the choice of network)")
    return strategy, tf_config


def _worker_callbacks(config, manager):
    """A non-chief worker's callbacks: it writes nothing of the run, only its part of each
    checkpoint save, which every worker must take part in."""
    return [callbacks_lib.StopOnDivergence(config.divergence_bound),
            callbacks_lib.CheckpointEvery(manager, config.checkpoint_every),
            callbacks_lib.ResetMetricsEvery(config.log_every)]


def load_run(workdir):
    """Rebuilds the GAN of a run directory from its options and latest checkpoint.

    Returns:
        `(gan, config, spec)`.

    Raises:
        FileNotFoundError: `workdir` holds no options file or no checkpoint.
    """
    options_path = os.path.join(workdir, OPTIONS_FILE)
    checkpoint_dir = os.path.join(workdir, CHECKPOINT_DIR)
    if not os.path.exists(options_path) or not checkpoint_paths(checkpoint_dir):
        raise FileNotFoundError(f"{workdir} holds no trained run (no {OPTIONS_FILE} or checkpoint)")
    with open(options_path) as f:
        config = TrainConfig.from_dict(json.load(f))
    with open(os.path.join(workdir, DATASET_FILE)) as f:
        values = json.load(f)
    spec = DataSpec(values["kind"], tuple(values["data_shape"]),
                    tuple(values["value_range"]) if values["value_range"] else None,
                    tuple(values["class_names"]) if values.get("class_names") else None)
    set_precision_policy(config.mixed_precision)
    gan = build_gan(config, spec)
    restore_good_checkpoint(tf.train.Checkpoint(gan=gan), checkpoint_dir)
    return gan, config, spec


def served_networks(gan, config=None):
    """The generator and discriminator that exports and samplers of a run see.

    The sampling generator (the EMA copy, if any) and the discriminator (when it judges single
    samples, `pack=1`; else `None`); for a run with `draw_labels`, their
    `tfgan.models.ClassMixtureGenerator` / `ClassMixtureDiscriminator`, which take no labels
    and draw each sample's class from `z`.

    Args:
        gan: a `tfgan.gan.GAN`.
        config: the run's `TrainConfig`, or `None` (no `draw_labels`). Defaults to `None`.

    Returns:
        `(generator, discriminator)`, Keras models; the discriminator may be `None`.
    """
    generator = gan.sampling_generator
    discriminator = gan.discriminator if gan.pack == 1 else None
    if config is None or not config.draw_labels:
        return generator, discriminator
    return (models_lib.ClassMixtureGenerator(generator),
            discriminator and models_lib.ClassMixtureDiscriminator(discriminator,
                                                                  gan.num_classes))


def export_gan(gan, export_dir, model_name, *, config=None, class_names=None, version=None,
               overwrite=False, batchable_only=False, rejection_candidates=0):
    """Exports the sampling generator of `gan` (its EMA copy, if any) for TF Serving.

    With `config.draw_labels` the export is unconditional: `served_networks`'s class mixture.

    Samples come out in [0, 1] from a generator with a sigmoid or tanh output (images), in
    data units from a linear one (points). The `discriminate` signature scores single samples,
    so it is exported only when the discriminator judges single samples (`pack=1`).

    Args:
        gan: a trained `tfgan.gan.GAN`.
        export_dir: str, the export base: the model goes to `<export_dir>/<model_name>/<N>`.
        model_name: str, the TF Serving model name.
        config: the run's `TrainConfig`, or `None`: its options go into the export's
            metadata and its `divergence_bound` checks the weights. Defaults to `None`
            (`tfgan.divergence.DEFAULT_BOUND`).
        class_names: sequence of str, a conditional generator's classes (a run's
            `DataSpec.class_names`; unused when the export draws them). Defaults to `None`:
            for a conditional generator, its class indices.
        version, overwrite, batchable_only, rejection_candidates: see
            `tfgan.export.export_generator` (guided sampling needs the discriminate signature,
            so `pack=1`).

    Returns:
        str, the version directory written.

    Raises:
        DivergedError: a weight of the generator is NaN, infinite or past the bound.
        FileExistsError: the version exists and `overwrite` is off.
    """
    step = int(gan.step.numpy())
    generator, discriminator = served_networks(gan, config)
    num_classes = int(getattr(generator, "num_classes", 0))
    bound = config.divergence_bound if config else divergence.DEFAULT_BOUND
    what = divergence.diverged_weight(generator.weights, bound)
    if what:
        raise DivergedError(f"the generator at step {step} has diverged: {what}; not exported")
    metadata = {"step": step}
    if config is not None:
        metadata.update(dataset=config.dataset, architecture=config.architecture,
                        options=json.loads(config.to_json()))
    return export_lib.export_generator(
        generator,
        export_base=export_dir,
        model_name=model_name,
        prior=gan.prior,
        value_range=models_lib.output_range(gan.generator.output_activation),
        discriminator=discriminator,
        class_names=(None if not num_classes else class_names if class_names is not None
                     else [str(k) for k in range(num_classes)]),
        version=version,
        overwrite=overwrite,
        metadata=metadata,
        batchable_only=batchable_only,
        rejection_candidates=rejection_candidates,
        real_data=(functools.partial(data_lib.toy_samples, config.dataset)
                   if config is not None and config.dataset in data_lib.TOYS else None),
    )
