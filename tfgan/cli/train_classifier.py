"""Trains the MNIST classifier behind the image metrics and saves its weights.

    python scripts/train_classifier.py --mnist_path=mnist.npz --epochs=10 --dropout=0

trained the committed `tfgan/metrics/weights/mnist_classifier.weights.h5` (test accuracy
0.9912; the 10000 test digits score 9.74 of 10; about 15 minutes on 2 busy CPU cores).
Without dropout and with 10 epochs the classifier is confident on real digits, which leaves
room between them and a good generator (with dropout 0.3 and 5 epochs real digits scored
9.55). `--mnist_path` is a Keras-layout `mnist.npz` or a folder of the four idx `.gz` files;
without it MNIST comes through tensorflow-datasets.
Trains on the training split, prints the test accuracy and writes the network weights that
`tfgan.metrics.load_classifier(path)` reads.
"""

import os

import numpy as np
from absl import flags

from tfgan.cli.errors import FAILURE, fail, require_existing
from tfgan.cli.flags import run_tool
from tfgan.data import DatasetUnavailableError, load_mnist_arrays
from tfgan.data.mnist import MNIST_PATH_HELP
from tfgan.metrics.classifier import (
    WEIGHTS_PATH,
    classifier_outputs,
    save_classifier,
    train_classifier,
)
from tfgan.metrics.classifier_score import classifier_score

FLAGS = flags.FlagValues()
flags.DEFINE_string("mnist_path", None, f"MNIST: {MNIST_PATH_HELP}; unset: tensorflow-datasets.",
                    flag_values=FLAGS)
flags.DEFINE_string("data_dir", None, "tensorflow-datasets data directory (without "
                    "--mnist_path).", flag_values=FLAGS)
flags.DEFINE_string("out", WEIGHTS_PATH, "Where to write the .weights.h5 file.",
                    flag_values=FLAGS)
flags.DEFINE_integer("epochs", 10, "Passes over the 60k training images.", flag_values=FLAGS)
flags.DEFINE_float("dropout", 0.0, "Dropout rate before the logits layer while training.",
                   flag_values=FLAGS)
flags.DEFINE_integer("seed", 0, "Seeds initialisation, dropout and shuffling.",
                     flag_values=FLAGS)
GROUPS = {"data": ("mnist_path", "data_dir"), "model": ("dropout",),
          "run": ("epochs", "seed", "out")}


def main(argv):
    del argv  # the parser refuses positional arguments
    if FLAGS.epochs < 1:
        fail(f"--epochs must be at least 1; got {FLAGS.epochs}")
    if not 0 <= FLAGS.dropout < 1:
        fail(f"--dropout must be in [0, 1); got {FLAGS.dropout}")
    if FLAGS.mnist_path:
        require_existing("mnist_path", FLAGS.mnist_path, MNIST_PATH_HELP)
    try:
        x_train, y_train = load_mnist_arrays("train", FLAGS.mnist_path, FLAGS.data_dir)
        x_test, y_test = load_mnist_arrays("test", FLAGS.mnist_path, FLAGS.data_dir)
    except DatasetUnavailableError as error:
        fail(str(error), FAILURE)
    classifier = train_classifier(x_train.astype("float32") / 255.0, y_train, FLAGS.epochs,
                                  dropout=FLAGS.dropout, seed=FLAGS.seed)
    logits, _ = classifier_outputs(classifier, x_test.astype("float32") / 255.0)
    accuracy = float(np.mean(np.argmax(logits, axis=1) == y_test))
    print(f"test accuracy: {accuracy:.4f} on {len(y_test)} images; their classifier score: "
          f"{classifier_score(logits):.3f} (10 at best)")
    os.makedirs(os.path.dirname(os.path.abspath(FLAGS.out)), exist_ok=True)
    save_classifier(classifier, FLAGS.out)
    print(f"wrote {FLAGS.out} ({os.path.getsize(FLAGS.out)} bytes)")


def run(argv=None):
    """The `tfgan-train-classifier` entry point."""
    run_tool(main, FLAGS, __doc__, argv=argv, groups=GROUPS)


if __name__ == "__main__":
    run()
