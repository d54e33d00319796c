"""Trains a GAN: `tfgan-train --flagfile=configs/mnist_mlp.flags --workdir=runs/mnist`.

Every option of `tfgan.config.TrainConfig` is a flag. A bad option prints one error line and
exits with status 2 before anything is written; re-running the same command resumes.
"""

import signal

from absl import app, flags, logging

from tfgan import data, training
from tfgan.cli.errors import FAILURE, USAGE, fail
from tfgan.cli.flags import config_from_flags, define_flags
from tfgan.config import ConfigError, TrainConfig

define_flags(TrainConfig)
FLAGS = flags.FLAGS


def main(argv):
    if len(argv) > 1:
        fail(f"unexpected arguments: {' '.join(argv[1:])}", USAGE)
    try:
        config = config_from_flags(TrainConfig)
        config.validate()
    except (ConfigError, ValueError) as error:
        fail(str(error), USAGE)
    if not FLAGS["verbosity"].present:
        logging.set_verbosity(logging.WARNING)  # TensorFlow's INFO lines would bury progress
    # `kill` ends a run like Ctrl-C does: the train loop checkpoints before it exits.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        training.train(config)
    except ConfigError as error:
        fail(str(error), USAGE)
    except (data.DatasetUnavailableError, FileExistsError, FileNotFoundError,
            training.NonFiniteError) as error:
        fail(str(error), FAILURE)
    except KeyboardInterrupt:
        fail("interrupted; the latest checkpoint is saved: run the same command to resume",
             FAILURE)
    print(f"Done: {config.workdir}")


def run():
    app.run(main)


if __name__ == "__main__":
    run()
