"""tf.data input pipelines: toy point distributions, MNIST, tfds image data sets, image folders."""

from tfgan.data.mnist import load_mnist_arrays
from tfgan.data.pipeline import DatasetInfo, DatasetUnavailableError
from tfgan.data.registry import DATASETS, dataset_names, load_dataset
from tfgan.data.toys import (
    GAUSSIAN_1D_MEAN,
    GAUSSIAN_1D_STD,
    GRID_STD,
    RING_STD,
    TOYS,
    grid_modes,
    ring_modes,
    sample_toy,
    toy_samples,
)
