import keras
import numpy as np
import tensorflow as tf

from tfgan import rng


def test_draws_match_keras_random_outside_xla():
    ours, theirs = keras.random.SeedGenerator(7), keras.random.SeedGenerator(7)
    for _ in range(2):  # the second draw checks both generators advanced alike
        np.testing.assert_array_equal(
            rng.uniform((5, 3), ours, -1.0, 1.0),
            keras.random.uniform((5, 3), -1.0, 1.0, seed=theirs))
        np.testing.assert_array_equal(rng.normal((4,), ours), keras.random.normal((4,), seed=theirs))


def test_compiled_draws_are_deterministic_and_advance():
    def draws(seed):
        seed_generator = keras.random.SeedGenerator(seed)
        draw = tf.function(lambda: rng.uniform((1000,), seed_generator), jit_compile=True)
        return draw().numpy(), draw().numpy()

    first, second = draws(3)
    again, _ = draws(3)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, second)
    assert 0.0 <= first.min() and first.max() < 1.0
    assert abs(first.mean() - 0.5) < 0.05
