"""Trains a GAN: `tfgan-train --preset=mnist_mlp --workdir=runs/mnist`.

Every option of `tfgan.config.TrainConfig` is a flag; a preset (`--preset=NAME`, or its file
`--flagfile=configs/NAME.flags`) sets many at once and flags after it override it. A bad option
prints one error line and exits with status 2 before anything is written; data that cannot be
read or downloaded, status 1.
Re-running the same command resumes from the latest checkpoint.
"""

import signal
import sys

import tensorflow as tf
from absl import flags

from tfgan import data, training
from tfgan.cli.errors import FAILURE, USAGE, describe, fail, require_existing
from tfgan.cli.flags import (config_from_flags, define_flags, define_preset_flag,
                             expand_preset, run_tool)
from tfgan.config import ConfigError, TrainConfig
from tfgan.data.mnist import MNIST_PATH_HELP

FLAGS = flags.FlagValues()
define_flags(TrainConfig, FLAGS)
define_preset_flag(FLAGS, "A preset to start from (listed below); flags after it override it.")

# `--help` groups; a field added to TrainConfig and not listed here shows under "other".
GROUPS = {
    "preset": ("preset",),
    "data": ("dataset", "mnist_path", "data_dir", "image_dir", "image_size", "conditional",
             "draw_labels"),
    "model": ("architecture", "z_dim", "prior", "g_hidden_units", "d_hidden_units",
              "activation", "output_activation", "d_feature_units", "width", "d_width",
              "dropout", "kernel_size",
              "minibatch", "num_kernels", "kernel_dim", "pack", "spectral_norm",
              "num_generators", "num_discriminators", "adversary_weighting",
              "adversary_temperature", "conditioning", "class_stddev"),
    "loss": ("loss", "gradient_penalty", "gradient_penalty_weight", "gradient_penalty_every",
             "acgan_weight", "mode_seeking_weight"),
    "schedule": ("schedule", "k_d", "k_g", "d_confidence", "unrolled_steps",
                 "unrolled_learning_rate"),
    "optimizer": ("optimizer", "learning_rate", "d_learning_rate", "g_learning_rate",
                  "lr_schedule", "lr_warmup_steps", "beta1", "beta2", "ema_decay", "ema_warmup"),
    "run": ("workdir", "steps", "batch_size", "seed", "sample_every", "num_grid_samples",
            "log_every", "checkpoint_every", "on_nan", "divergence_bound", "eval_every",
            "eval_num_samples", "mixed_precision", "jit_compile", "steps_per_execution",
            "strategy"),
    "export": ("export_dir", "model_name"),
}
_MNIST_DATASETS = ("mnist", "stacked_mnist")


def _check_paths(config):
    """Refuses a local data path that does not exist (a typo, not a download to try)."""
    if config.mnist_path and config.dataset in _MNIST_DATASETS:
        require_existing("mnist_path", config.mnist_path, MNIST_PATH_HELP)
    if config.dataset == "folder":
        require_existing("image_dir", config.image_dir, "a folder of images", directory=True)


def main(argv):
    del argv  # the parser refuses positional arguments
    try:
        config = config_from_flags(TrainConfig, FLAGS)
        config.validate()
    except (ConfigError, ValueError) as error:
        fail(str(error), USAGE)
    _check_paths(config)
    # `kill` ends a run like Ctrl-C does: the train loop checkpoints before it exits.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        training.train(config)
    except ConfigError as error:
        fail(str(error), USAGE)
    except (data.DatasetUnavailableError, FileExistsError, FileNotFoundError,
            training.DivergedError) as error:
        fail(str(error), FAILURE)
    except (OSError, tf.errors.OpError) as error:  # a full disk, say, in the middle of the run
        fail(f"{describe(error)}; the latest checkpoint is kept: run the same command to resume "
             "once that is fixed", FAILURE)
    except KeyboardInterrupt:
        fail("interrupted; the latest checkpoint is saved: run the same command to resume",
             FAILURE)
    print(f"Done: {config.workdir}")


def run(argv=None):
    """The `tfgan-train` entry point."""
    run_tool(main, FLAGS, __doc__, argv=expand_preset(argv or sys.argv), groups=GROUPS)


if __name__ == "__main__":
    run()
