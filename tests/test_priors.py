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


@pytest.mark.parametrize("prior", priors.PRIORS)
def test_truncation_one_is_the_untruncated_draw_bit_for_bit(prior):
    z = priors.stateless_prior(64, 5, prior, 3).numpy()
    for psi in (1.0, tf.constant(1.0)):
        np.testing.assert_array_equal(priors.stateless_prior(64, 5, prior, 3, psi), z)
    per_seed = priors.stateless_prior_per_seed(tf.constant([3, 4], tf.int64), 5, prior).numpy()
    np.testing.assert_array_equal(
        priors.stateless_prior_per_seed(tf.constant([3, 4], tf.int64), 5, prior,
                                        tf.constant([1.0, 1.0])), per_seed)


@pytest.mark.parametrize("prior", priors.PRIORS)
def test_truncation_keeps_the_central_mass_and_shrinks_the_spread_as_psi_falls(prior):
    untruncated = priors.stateless_prior(20000, 4, prior, 5).numpy()
    spreads = []
    for psi in (1.0, 0.9, 0.7, 0.4, 0.1):
        z = priors.stateless_prior(20000, 4, prior, 5, tf.constant(psi)).numpy()
        # The truncated prior's support: [-t, t] with psi of the prior's mass inside.
        bound = float(tf.math.ndtri((1.0 + psi) / 2.0)) if prior == "normal" else psi
        assert np.abs(z).max() <= bound + 1e-5
        if psi < 1.0:
            assert abs(np.mean(np.abs(untruncated) <= bound) - psi) < 0.01
            # The draw is monotone in the untruncated one: the same order, moved inward.
            assert np.all(np.diff(z[np.argsort(untruncated[:, 0]), 0]) >= 0.0)
        spreads.append(z.std())
    assert all(a > b for a, b in zip(spreads, spreads[1:])), spreads
    np.testing.assert_array_equal(priors.stateless_prior(3, 4, prior, 5, 0.0), np.zeros((3, 4)))


def test_normal_truncation_has_the_truncated_normals_spread():
    # N(0, 1) truncated to [-t, t] has variance 1 - 2 t phi(t) / (2 Phi(t) - 1).
    psi = 0.7
    t = float(tf.math.ndtri((1.0 + psi) / 2.0))
    density = np.exp(-t * t / 2.0) / np.sqrt(2.0 * np.pi)
    expected = np.sqrt(1.0 - 2.0 * t * density / psi)
    z = priors.stateless_prior(50000, 4, "normal", 2, psi).numpy()
    assert abs(z.std() - expected) < 0.01


def test_uniform_truncation_scales_toward_the_center():
    z = priors.stateless_prior(8, 3, "uniform", 1).numpy()
    np.testing.assert_allclose(priors.stateless_prior(8, 3, "uniform", 1, 0.25), z * 0.25)


def test_per_seed_truncation_applies_each_rows_own_psi():
    seeds = tf.constant([4, 9, 4], tf.int64)
    z = priors.stateless_prior_per_seed(seeds, 3, "normal", tf.constant([1.0, 0.5, 0.5])).numpy()
    np.testing.assert_array_equal(z[0], priors.stateless_prior(1, 3, "normal", 4)[0])
    np.testing.assert_array_equal(z[1], priors.stateless_prior(1, 3, "normal", 9, 0.5)[0])
    np.testing.assert_array_equal(z[2], priors.stateless_prior(1, 3, "normal", 4, 0.5)[0])


@pytest.mark.parametrize("psi", [-0.1, 1.5, float("nan")])
def test_checked_truncation_refuses_values_outside_zero_to_one(psi):
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"truncation must be in \[0, 1\]"):
        priors.checked_truncation(tf.constant(psi))
