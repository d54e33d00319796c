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

import dataclasses
import json
import os

import keras
import tensorflow as tf

from tfgan import callbacks as callbacks_lib
from tfgan import data as data_lib
from tfgan import export as export_lib
from tfgan import models as models_lib
from tfgan import priors, training_loop
from tfgan.config import MODEL_OPTIONS, ConfigError, TrainConfig
from tfgan.flops import train_step_flops
from tfgan.gan import GAN, packed_shape
from tfgan.metrics.evaluate import evaluate_samples
from tfgan.metrics.reference import load_reference
from tfgan.metrics.registry import METRICS
from tfgan.schedules import Schedule

OPTIONS_FILE = "options.json"
DATASET_FILE = "dataset.json"
CHECKPOINT_DIR = "checkpoints"


@dataclasses.dataclass(frozen=True)
class DataSpec:
    """What a trained generator produces: enough to rebuild, sample and export it."""

    kind: str  # "image" or "points"
    data_shape: tuple
    value_range: tuple | None  # the generator's output range for images; None for points

    @classmethod
    def from_info(cls, info):
        value_range = tuple(info.value_range) if info.value_range is not None else None
        return cls(info.kind, tuple(info.data_shape), value_range)


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
    `tfgan.gan.packed_shape(spec.data_shape, m)`.

    Raises:
        ConfigError: the architecture does not fit the data's shape, or an option is invalid.
    """
    common = dict(minibatch_kernels=config.num_kernels if config.minibatch else 0,
                  minibatch_kernel_dim=config.kernel_dim)
    if config.architecture == "mlp":
        g_options = dict(hidden_units=config.g_hidden_units, activation=config.activation,
                         output_activation=config.output_activation)
        d_options = dict(hidden_units=config.d_hidden_units, activation=config.activation,
                         feature_units=config.d_feature_units or None, **common)
    else:
        g_options = dict(width=config.width, output_activation=config.output_activation)
        d_options = dict(width=config.width, dropout=config.dropout, **common)
    try:
        generator = models_lib.build_generator(
            config.architecture, z_dim=config.z_dim, data_shape=spec.data_shape, **g_options)
        discriminator = models_lib.build_discriminator(
            config.architecture, data_shape=packed_shape(spec.data_shape, config.pack),
            **d_options)
    except ValueError as error:
        raise ConfigError(f"--architecture={config.architecture}: {error}") from None
    return generator, discriminator


def _optimizer(config):
    if config.optimizer == "adam":
        return keras.optimizers.Adam(config.learning_rate, beta_1=config.beta1,
                                     beta_2=config.beta2)
    return keras.optimizers.RMSprop(config.learning_rate)


def build_gan(config, spec):
    """Builds and compiles the GAN of `config` with every variable created (ready to restore)."""
    keras.utils.set_random_seed(config.seed)
    generator, discriminator = build_networks(config, spec)
    gan = GAN(
        generator,
        discriminator,
        prior=config.prior,
        schedule=Schedule(config.schedule, d_steps=config.k_d, g_steps=config.k_g,
                          d_confidence=config.d_confidence),
        ema_decay=config.ema_decay or None,
        seed=config.seed,
        pack=config.pack,
    )
    gan.compile(
        d_optimizer=_optimizer(config),
        g_optimizer=_optimizer(config),
        loss=config.loss,
        gradient_penalty_weight=config.gradient_penalty_weight,
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
    if changed and tf.train.latest_checkpoint(os.path.join(config.workdir, CHECKPOINT_DIR)):
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

    def evaluate(model):
        samples = export_lib.sample_from_seed(
            model.sampling_generator, config.eval_num_samples, config.seed,
            prior=config.prior, value_range=spec.value_range)["samples"]
        return evaluate_samples(samples.numpy(), config.dataset, reference=reference)

    try:
        names = tuple(evaluate(gan))
    except ValueError as error:
        raise ConfigError(f"--eval_every on --dataset={config.dataset}: {error}") from None
    return callbacks_lib.EvaluateEvery(
        config.eval_every, evaluate, names,
        logdir=os.path.join(config.workdir, "tensorboard", "eval"))


def _callbacks(config, gan, spec, dataset, manager, evaluation=None):
    workdir = config.workdir
    history_path = os.path.join(workdir, "history.csv")
    tensorboard_dir = os.path.join(workdir, "tensorboard")
    if spec.kind == "points":
        reference = data_lib.sample_toy(config.dataset, config.num_grid_samples, config.seed)
        z = _fixed_z(config, config.num_grid_samples)
    else:
        reference = None
        z = _fixed_z(config, config.num_grid_samples)
    # Pictures render on a background thread; `drawing` waits for them at the end.
    drawing = callbacks_lib.BackgroundDrawing()
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
            drawing=drawing,
        ),
        # Redrawn with the sample grids: a plot takes ~0.3 s, a log interval of seed 003's
        # GAN ~2 s.
        callbacks_lib.LossPlot(history_path, os.path.join(workdir, "losses.png"),
                               max(config.log_every, config.sample_every), drawing=drawing),
    ]
    if spec.kind == "points" and spec.data_shape == (2,):
        real_batch = next(iter(dataset))
        result.append(callbacks_lib.FeatureSpacePlot(
            os.path.join(workdir, "features"), config.sample_every, real_batch, z,
            drawing=drawing))
    result.append(drawing)
    result.append(callbacks_lib.CheckpointEvery(manager, config.checkpoint_every))
    # Last: the loggers above have read this interval's means.
    result.append(callbacks_lib.ResetMetricsEvery(config.log_every))
    return result


def steps_per_execution(config, gan):
    """`--steps_per_execution`, or when it is 0 the block size the step's FLOPs call for."""
    if config.steps_per_execution:
        return config.steps_per_execution
    return training_loop.auto_steps_per_execution(train_step_flops(gan, config.batch_size))


def train(config, callbacks=()):
    """Trains (or resumes) the GAN that `config` describes; returns the trained `GAN`.

    Args:
        config: `TrainConfig`.
        callbacks: sequence of extra `keras.callbacks.Callback`, run after tfgan's own at
            every block of steps (e.g. a timer). Defaults to `()`.

    Raises:
        ConfigError: an option is invalid or does not fit the data; nothing has been written.
        tfgan.data.DatasetUnavailableError: the data set cannot be read or downloaded.
    """
    config.validate()
    _check_resumable(config)
    set_precision_policy(config.mixed_precision)
    kind = "points" if config.dataset in data_lib.TOYS else "image"
    try:
        dataset, info = data_lib.load_dataset(
            config.dataset, batch_size=config.batch_size,
            value_range=data_value_range(config, kind), seed=config.seed,
            data_dir=config.data_dir or None, mnist_path=config.mnist_path or None,
            image_dir=config.image_dir or None, image_size=config.image_size or None)
    except ValueError as error:
        raise ConfigError(f"--dataset={config.dataset}: {error}") from None
    spec = DataSpec.from_info(info)
    gan = build_gan(config, spec)
    evaluation = _evaluate_every(config, spec, gan)

    # Everything is checked: from here on the run directory is written.
    os.makedirs(config.workdir, exist_ok=True)
    _write_json_atomically(os.path.join(config.workdir, OPTIONS_FILE), config.to_json())
    _write_json_atomically(os.path.join(config.workdir, DATASET_FILE),
                           json.dumps(dataclasses.asdict(spec), indent=2))
    checkpoint = tf.train.Checkpoint(gan=gan)
    manager = tf.train.CheckpointManager(
        checkpoint, os.path.join(config.workdir, CHECKPOINT_DIR), max_to_keep=3)
    if manager.latest_checkpoint:
        checkpoint.restore(manager.latest_checkpoint).assert_existing_objects_matched()
        print(f"Resumed from {manager.latest_checkpoint} at step {int(gan.step.numpy())}",
              flush=True)
    if int(gan.step.numpy()) < config.steps:
        try:
            training_loop.run_steps(
                gan, dataset, config.steps,
                callbacks=_callbacks(config, gan, spec, dataset, manager, evaluation)
                + list(callbacks),
                steps_per_execution=steps_per_execution(config, gan),
                jit_compile=config.jit_compile)
        except KeyboardInterrupt:
            manager.save(checkpoint_number=int(gan.step.numpy()))
            raise
    if config.export_dir:
        export_trained(gan, config, spec, config.export_dir)
    return gan


def load_run(workdir):
    """Rebuilds the GAN of a run directory from its options and latest checkpoint.

    Returns:
        `(gan, config, spec)`.

    Raises:
        FileNotFoundError: `workdir` holds no options file or no checkpoint.
    """
    options_path = os.path.join(workdir, OPTIONS_FILE)
    latest = tf.train.latest_checkpoint(os.path.join(workdir, CHECKPOINT_DIR))
    if not os.path.exists(options_path) or latest is None:
        raise FileNotFoundError(f"{workdir} holds no trained run (no {OPTIONS_FILE} or checkpoint)")
    with open(options_path) as f:
        config = TrainConfig.from_dict(json.load(f))
    with open(os.path.join(workdir, DATASET_FILE)) as f:
        values = json.load(f)
    spec = DataSpec(values["kind"], tuple(values["data_shape"]),
                    tuple(values["value_range"]) if values["value_range"] else None)
    set_precision_policy(config.mixed_precision)
    gan = build_gan(config, spec)
    tf.train.Checkpoint(gan=gan).restore(latest).expect_partial()
    return gan, config, spec


def export_trained(gan, config, spec, export_base, version=None, overwrite=False,
                   batchable_only=False):
    """Exports the sampling generator (EMA if on) of a trained GAN; returns the version path.

    The `discriminate` signature scores single samples, so it is exported only when the
    discriminator judges single samples (`--pack=1`); a packed one judges packs.
    """
    metadata = {
        "dataset": config.dataset,
        "architecture": config.architecture,
        "step": int(gan.step.numpy()),
        "options": json.loads(config.to_json()),
    }
    return export_lib.export_generator(
        gan.sampling_generator,
        export_base=export_base,
        model_name=config.export_model_name,
        prior=config.prior,
        value_range=spec.value_range,
        discriminator=gan.discriminator if gan.pack == 1 else None,
        version=version,
        overwrite=overwrite,
        metadata=metadata,
        batchable_only=batchable_only,
    )

