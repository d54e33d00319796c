"""Tests for tfgan.data.toys: the toy point distributions."""

import numpy as np
import pytest

from tfgan.data import DatasetInfo, load_dataset
from tfgan.data.toys import (
    GAUSSIAN_1D_MEAN,
    GAUSSIAN_1D_STD,
    GRID_STD,
    RING_STD,
    TOYS,
    grid_modes,
    ring_modes,
    sample_toy,
)

SHAPES = {"quadratic": (2,), "gaussian_1d": (1,), "two_curves": (2,), "ring": (2,), "grid": (2,)}


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_dataset_shapes_and_info(name):
    dataset, info = load_dataset(name, batch_size=16, value_range=(-1.0, 1.0))
    assert info == DatasetInfo(name, "points", SHAPES[name], None, None)
    assert dataset.element_spec.shape == (16, *SHAPES[name])
    batches = list(dataset.take(3).as_numpy_iterator())
    assert all(batch.shape == (16, *SHAPES[name]) for batch in batches)
    assert all(batch.dtype == np.float32 for batch in batches)
    assert not np.array_equal(batches[0], batches[1])


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_same_seed_same_points(name):
    def first_batches(seed):
        dataset, _ = load_dataset(name, batch_size=8, seed=seed)
        return np.stack(list(dataset.take(2).as_numpy_iterator()))

    np.testing.assert_array_equal(first_batches(7), first_batches(7))
    assert not np.array_equal(first_batches(7), first_batches(8))
    np.testing.assert_array_equal(sample_toy(name, 8, seed=7), first_batches(7)[0])


def test_quadratic_lies_on_the_curve():
    x, y = sample_toy("quadratic", 2000, seed=1).T
    np.testing.assert_array_equal(y, np.float32(10.0) + x * x)
    assert -50.0 <= x.min() < -45.0 and 45.0 < x.max() < 50.0


def test_two_curves_splits_points_between_the_curve_and_its_mirror():
    x, y = sample_toy("two_curves", 4000, seed=2).T
    np.testing.assert_array_equal(np.abs(y), np.float32(10.0) + x * x)
    assert 0.45 < np.mean(y > 0) < 0.55
    assert -50.0 <= x.min() < -45.0 and 45.0 < x.max() < 50.0


def test_gaussian_1d_moments():
    points = sample_toy("gaussian_1d", 20000, seed=3)
    assert (GAUSSIAN_1D_MEAN, GAUSSIAN_1D_STD) == (4.0, 0.5)
    # Standard errors: 0.5 / sqrt(20000) = 0.0035 for the mean, 0.0025 for the std.
    assert abs(points.mean() - 4.0) < 0.015
    assert abs(points.std() - 0.5) < 0.01


def test_mode_centres():
    np.testing.assert_allclose(np.linalg.norm(ring_modes(), axis=1), 2.0, rtol=1e-6)
    np.testing.assert_allclose(ring_modes()[[0, 2]], [[2.0, 0.0], [0.0, 2.0]], atol=1e-6)
    assert ring_modes().shape == (8, 2) and grid_modes().shape == (25, 2)
    coordinates = range(-4, 5, 2)
    assert set(map(tuple, grid_modes())) == {(x, y) for x in coordinates for y in coordinates}
    assert (RING_STD, GRID_STD) == (0.02, 0.05)


@pytest.mark.parametrize(
    "name, modes, std", [("ring", ring_modes(), RING_STD), ("grid", grid_modes(), GRID_STD)]
)
def test_mixture_points_sit_near_every_mode(name, modes, std):
    points = sample_toy(name, 5000, seed=4)
    distances = np.linalg.norm(points[:, None, :] - modes[None], axis=2)
    nearest = distances.argmin(axis=1)
    offsets = points - modes[nearest]
    assert distances.min(axis=1).max() < 6 * std
    assert abs(offsets.std() / std - 1.0) < 0.05
    counts = np.bincount(nearest, minlength=len(modes))
    expected = len(points) / len(modes)
    assert counts.min() > 0.7 * expected and counts.max() < 1.3 * expected


def test_unknown_toy():
    with pytest.raises(ValueError, match=r"expected one of \(.*'ring'.*Received: name='rng'$"):
        sample_toy("rng", 4)
    assert tuple(TOYS) == tuple(SHAPES)


@pytest.mark.parametrize("name, modes", [("ring", ring_modes()), ("grid", grid_modes())])
def test_labelled_mixtures_label_each_point_with_its_mode(name, modes):
    dataset, info = load_dataset(name, batch_size=500, seed=4, labelled=True)
    points, labels = (array.numpy() for array in next(iter(dataset)))
    assert info.class_names == tuple(str(k) for k in range(len(modes)))
    nearest = np.argmin(np.linalg.norm(points[:, None] - modes[None], axis=2), axis=1)
    np.testing.assert_array_equal(labels, nearest)
    unlabelled, _ = load_dataset(name, batch_size=500, seed=4)
    np.testing.assert_array_equal(next(iter(unlabelled)).numpy(), points)


def test_toys_without_modes_have_no_labels():
    with pytest.raises(ValueError, match=r"Only the mixtures \('ring', 'grid'\) have labels"):
        load_dataset("quadratic", batch_size=4, labelled=True)
