import numpy as np
import pytest

from tfgan.data.pipeline import batch_arrays


def _images(n):
    """n 2x2 one-channel images whose pixels all hold the image's index."""
    return np.repeat(np.arange(n, dtype=np.uint8), 4).reshape(n, 2, 2, 1)


def _batches(num_batches, **options):
    options = {"image_shape": (2, 2, 1), "batch_size": 3, "value_range": (0.0, 255.0),
               "seed": 0, **options}
    dataset = batch_arrays(_images(10), **options)
    return [batch[:, 0, 0, 0].astype(int) for batch in dataset.take(num_batches).as_numpy_iterator()]


def test_every_epoch_is_a_permutation_cut_into_batches():
    batches = _batches(9)  # three epochs of 10 // 3 = 3 batches
    for epoch in range(3):
        seen = np.concatenate(batches[3 * epoch: 3 * epoch + 3])
        assert len(set(seen)) == 9  # no image twice in an epoch; one left over
    assert [list(b) for b in batches[:3]] != [list(b) for b in batches[3:6]]


def test_same_seed_same_batches_other_seed_other_batches():
    assert np.array_equal(_batches(4), _batches(4))
    assert not np.array_equal(_batches(4), _batches(4, seed=1))


def test_scales_and_resizes():
    batch = next(iter(batch_arrays(_images(4), image_shape=(4, 4, 1), batch_size=2,
                                   value_range=(-1.0, 1.0), seed=0)))
    assert batch.shape == (2, 4, 4, 1)
    values = np.sort(np.unique(batch.numpy()))
    assert np.all(values >= -1.0) and np.all(values <= -1.0 + 2 * 3 / 255 + 1e-6)


def test_too_few_images_is_refused():
    with pytest.raises(ValueError, match="batch_size must be at most the 2 images"):
        batch_arrays(_images(2), image_shape=(2, 2, 1), batch_size=3, value_range=(0, 1), seed=0)
