"""A class-conditional "generator" whose samples are real MNIST digits, for acceptance tests.

Tests cannot train an MNIST GAN good enough for the committed classifier, but they can make a
conditional model whose answer is known: `DigitTableGenerator` looks its sample up in a table
of one real digit per class (from `tests/data/mnist_test_subset.npz`), and `z` adds nothing.
Exported with `tfgan.export.export_generator`, it has every signature a trained conditional
MNIST export has, so the classifier must name digit k wherever label k was asked for.
"""

import os

import keras
import numpy as np

from tfgan import export as export_lib

SUBSET_PATH = os.path.join(os.path.dirname(__file__), "data", "mnist_test_subset.npz")
NUM_CLASSES = 10
IMAGE_SHAPE = (28, 28, 1)


def class_digits(shift=0):
    """float32 `[10, 28, 28, 1]` in [0, 1]: row k is the subset's first digit of class
    `(k + shift) % 10`."""
    with np.load(SUBSET_PATH) as subset:
        images, labels = subset["images"], subset["labels"]
    first = [int(np.flatnonzero(labels == (k + shift) % NUM_CLASSES)[0])
             for k in range(NUM_CLASSES)]
    return (images[first].astype(np.float32) / 255.0)[..., np.newaxis]


class DigitTableGenerator(keras.Model):
    """A conditional generator that answers label k with row k of a fixed table of images.

    Follows docs/architecture.md's generator contract (`z_dim`, `data_shape`,
    `output_activation`, `num_classes`, called as `generator([z, labels])`); the table is a
    frozen `Embedding`, so the export carries it as a variable.

    Args:
        table: float array `[num_classes, 28, 28, 1]` in [0, 1].
        z_dim: int, the latent size the signatures take (ignored). Defaults to `2`.

    Input shape:
        `[z, labels]`: float32 `[batch, z_dim]` and int `[batch]`.

    Output shape:
        `[batch, 28, 28, 1]` in [0, 1].
    """

    def __init__(self, table, z_dim=2, **kwargs):
        super().__init__(**kwargs)
        table = np.asarray(table, np.float32)
        self.z_dim = z_dim
        self.data_shape = IMAGE_SHAPE
        self.output_activation = "sigmoid"  # the range [0, 1], for export's check
        self.num_classes = len(table)
        self.table = keras.layers.Embedding(
            self.num_classes, int(np.prod(IMAGE_SHAPE)), trainable=False,
            embeddings_initializer=keras.initializers.Constant(table.reshape(len(table), -1)))

    def call(self, inputs, training=None):
        _, labels = inputs
        return keras.ops.reshape(self.table(labels), (-1, *IMAGE_SHAPE))


def export_digit_table(export_base, model_name, shift=0):
    """Exports `DigitTableGenerator(class_digits(shift))` as version 1 of `model_name`.

    Returns:
        str, the model directory `<export_base>/<model_name>`.
    """
    export_lib.export_generator(
        DigitTableGenerator(class_digits(shift)), export_base=str(export_base),
        model_name=model_name, prior="normal", value_range=(0, 1),
        class_names=[str(k) for k in range(NUM_CLASSES)])
    return os.path.join(str(export_base), model_name)
