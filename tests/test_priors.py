import numpy as np
import pytest
import tensorflow as tf

from tfgan import priors


@pytest.mark.parametrize("prior", priors.PRIORS)
def test_stateless_prior_is_deterministic_per_seed(prior):
    a = priors.stateless_prior(4, 3, prior, 7).numpy()
    b = priors.stateless_prior(4, 3, prior, 7).numpy()
    c = priors.stateless_prior(4, 3, prior, 8).numpy()
    assert a.shape == (4, 3) and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_uniform_prior_range_and_moments():
    z = priors.stateless_prior(20000, 2, "uniform", 1).numpy()
    assert z.min() >= -1.0 and z.max() <= 1.0
    assert abs(z.mean()) < 0.02 and abs(z.std() - 1 / np.sqrt(3)) < 0.02


def test_normal_prior_moments():
    z = priors.stateless_prior(20000, 2, "normal", 1).numpy()
    assert abs(z.mean()) < 0.03 and abs(z.std() - 1.0) < 0.03


def test_per_seed_rows_do_not_depend_on_batch():
    both = priors.stateless_prior_per_seed(tf.constant([3, 9], tf.int64), 5, "normal").numpy()
    alone = priors.stateless_prior_per_seed(tf.constant([9], tf.int64), 5, "normal").numpy()
    np.testing.assert_array_equal(both[1], alone[0])
    np.testing.assert_array_equal(both[0], priors.stateless_prior(1, 5, "normal", 3).numpy()[0])


def test_stateful_prior_advances():
    import keras

    gen = keras.random.SeedGenerator(0)
    a = priors.sample_prior(3, 2, "uniform", gen)
    b = priors.sample_prior(3, 2, "uniform", gen)
    assert not np.allclose(a, b)


def test_unknown_prior_is_rejected():
    with pytest.raises(ValueError, match="Received: prior='cauchy'"):
        priors.stateless_prior(1, 2, "cauchy", 0)
