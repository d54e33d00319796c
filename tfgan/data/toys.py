"""Toy distributions of points: the low-dimensional data sets of the tutorials and the papers.

Every toy is one sampler built from TensorFlow's stateless random ops, keyed by a seed pair, so
a seed always gives the same points: `load_toy` streams batch `k` from the pair `(seed, k)`,
and `sample_toy(name, n, seed)` is the first batch of `load_toy(name, batch_size=n, seed)`.

- `quadratic` (seed 000): x ~ U(-50, 50), y = 10 + x^2; points `(2,)`.
- `gaussian_1d` (seed 001, John Glover's "An introduction to Generative Adversarial Networks
  (with code in TensorFlow)"): N(4, 0.5^2); points `(1,)`.
- `two_curves` (seed 000's exercise "data from 2 different curves"): x ~ U(-50, 50), each point
  with probability 1/2 on y = 10 + x^2 or on its mirror image y = -10 - x^2; points `(2,)`.
- `ring`: 8 equally likely Gaussians, std 0.02, centred on a circle of radius 2 (VEEGAN,
  Srivastava et al. 2017, https://arxiv.org/abs/1705.07761); points `(2,)`.
- `grid`: 25 equally likely Gaussians, std 0.05, centred on {-4, -2, 0, 2, 4}^2 (PacGAN,
  Lin et al. 2018, https://arxiv.org/abs/1712.04086); points `(2,)`.

The mixtures (`ring`, `grid`) are also labelled data sets: `load_toy(..., labelled=True)`
yields each point with the index of the mode it was drawn from (`ring_modes()[k]`,
`grid_modes()[k]`), the same points as without labels.
"""

import dataclasses
from typing import Callable

import numpy as np
import tensorflow as tf

from tfgan.data.pipeline import DatasetInfo

QUADRATIC_X_RANGE = (-50.0, 50.0)
GAUSSIAN_1D_MEAN = 4.0
GAUSSIAN_1D_STD = 0.5
RING_NUM_MODES = 8
RING_RADIUS = 2.0
RING_STD = 0.02
GRID_COORDINATES = (-4.0, -2.0, 0.0, 2.0, 4.0)
GRID_STD = 0.05


def ring_modes():
    """Returns the centres of the `ring` modes, float32 `[8, 2]`, the first at `(2, 0)`."""
    angles = 2.0 * np.pi * np.arange(RING_NUM_MODES) / RING_NUM_MODES
    return (RING_RADIUS * np.stack([np.cos(angles), np.sin(angles)], axis=1)).astype(np.float32)


def grid_modes():
    """Returns the centres of the `grid` modes, float32 `[25, 2]`, ordered by x then y."""
    return np.array([(x, y) for x in GRID_COORDINATES for y in GRID_COORDINATES], np.float32)


def quadratic_curve(x):
    """Seed 000's `get_y`: returns `10 + x^2`."""
    return 10.0 + x * x


def _uniform_x(num_samples, seed):
    low, high = QUADRATIC_X_RANGE
    return tf.random.stateless_uniform([num_samples], seed, minval=low, maxval=high)


def _sample_quadratic(num_samples, seed):
    x = _uniform_x(num_samples, seed)
    return tf.stack([x, quadratic_curve(x)], axis=1)


def _sample_two_curves(num_samples, seed):
    x_seed, curve_seed = tf.unstack(tf.random.split(seed, 2))
    x = _uniform_x(num_samples, x_seed)
    upper = tf.random.stateless_uniform([num_samples], curve_seed) < 0.5
    y = quadratic_curve(x)
    return tf.stack([x, tf.where(upper, y, -y)], axis=1)


def _sample_gaussian_1d(num_samples, seed):
    return tf.random.stateless_normal(
        [num_samples, 1], seed, mean=GAUSSIAN_1D_MEAN, stddev=GAUSSIAN_1D_STD
    )


def _sample_labelled_mixture(modes, std, num_samples, seed):
    mode_seed, noise_seed = tf.unstack(tf.random.split(seed, 2))
    index = tf.random.stateless_uniform(
        [num_samples], mode_seed, minval=0, maxval=len(modes), dtype=tf.int32
    )
    noise = tf.random.stateless_normal([num_samples, 2], noise_seed, stddev=std)
    return tf.gather(tf.constant(modes), index) + noise, index


@dataclasses.dataclass(frozen=True)
class Toy:
    """One toy distribution.

    Args:
        data_shape: tuple of ints, the shape of one point.
        sample: callable `(num_samples, seed) -> float32 [num_samples, *data_shape]`, where
            `seed` is an int64 tensor of shape `[2]` for TensorFlow's stateless random ops.
        sample_labelled: callable `(num_samples, seed) -> (points, int32 labels
            [num_samples])` drawing the same points as `sample`, or `None` for a toy without
            classes. Defaults to `None`.
        num_classes: int, the number of labels `sample_labelled` gives (0: none).
            Defaults to `0`.
    """

    data_shape: tuple
    sample: Callable
    sample_labelled: Callable | None = None
    num_classes: int = 0


def _mixture(modes, std):
    def sample_labelled(num_samples, seed):
        return _sample_labelled_mixture(modes, std, num_samples, seed)

    return Toy((2,), lambda n, seed: sample_labelled(n, seed)[0], sample_labelled, len(modes))


TOYS = {
    "quadratic": Toy((2,), _sample_quadratic),
    "gaussian_1d": Toy((1,), _sample_gaussian_1d),
    "two_curves": Toy((2,), _sample_two_curves),
    "ring": _mixture(ring_modes(), RING_STD),
    "grid": _mixture(grid_modes(), GRID_STD),
}
LABELLED_TOYS = tuple(name for name, toy in TOYS.items() if toy.sample_labelled is not None)


def _get_toy(name):
    if name not in TOYS:
        raise ValueError(f"Unknown toy; expected one of {tuple(TOYS)}. Received: name={name!r}")
    return TOYS[name]


def _batch_seed(seed, step):
    return tf.stack([tf.cast(seed, tf.int64), tf.cast(step, tf.int64)])


def load_toy(name, *, batch_size, seed=0, labelled=False):
    """Streams batches of points from a toy distribution.

    The points are drawn independently, so the stream needs no shuffling; batch `k` depends
    only on `(seed, k)`.

    Args:
        name: str, one of `TOYS`: `"quadratic"`, `"gaussian_1d"`, `"two_curves"`, `"ring"`,
            `"grid"`.
        batch_size: int, the number of points per batch.
        seed: int, the same seed gives the same batches. Defaults to `0`.
        labelled: bool, yield `(points, labels)`, each label the index of the point's mode;
            only the mixtures (`LABELLED_TOYS`) have labels. Defaults to `False`.

    Returns:
        `(dataset, info)`: an infinite `tf.data.Dataset` of float32 batches
        `[batch_size, *data_shape]` in data units (with `labelled`, `(points, int32 labels
        [batch_size])`), and its `DatasetInfo` (kind `"points"`; with `labelled`,
        `class_names` `"0"`, `"1"`, ...).

    Raises:
        ValueError: if `name` is not a toy, or `labelled` is set for a toy without modes.
    """
    toy = _get_toy(name)
    if labelled and toy.sample_labelled is None:
        raise ValueError(f"Only the mixtures {LABELLED_TOYS} have labels (the index of each "
                         f"point's mode). Received: name={name!r}")
    sample = toy.sample_labelled if labelled else toy.sample
    dataset = tf.data.Dataset.counter().map(
        lambda step: sample(batch_size, _batch_seed(seed, step)),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    info = DatasetInfo(
        name=name, kind="points", data_shape=toy.data_shape, value_range=None, num_examples=None,
        class_names=tuple(str(k) for k in range(toy.num_classes)) if labelled else None,
    )
    return dataset.prefetch(tf.data.AUTOTUNE), info


def sample_toy(name, num_samples, seed=0):
    """Draws points from a toy distribution as a numpy array (for plots and metrics).

    Args:
        name: str, one of `TOYS`.
        num_samples: int, the number of points.
        seed: int, the same seed gives the same points. Defaults to `0`.

    Returns:
        float32 numpy array `[num_samples, *data_shape]`, equal to the first batch of
        `load_toy(name, batch_size=num_samples, seed=seed)`.

    Raises:
        ValueError: if `name` is not a toy.
    """
    return toy_samples(name, num_samples, seed).numpy()


def toy_samples(name, num_samples, seed):
    """Draws points from a toy distribution in TensorFlow ops, as an export's `real_samples`.

    Args:
        name: str, one of `TOYS`.
        num_samples: int or scalar int32 tensor, the number of points.
        seed: int or scalar int64 tensor.

    Returns:
        float32 tensor `[num_samples, *data_shape]`, the points `sample_toy` draws for the
        same arguments.

    Raises:
        ValueError: if `name` is not a toy.
    """
    return _get_toy(name).sample(num_samples, _batch_seed(seed, 0))
