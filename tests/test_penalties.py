import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgan import penalties


def _linear_critic(w):
    """D(x) = <w, x> over all non-batch axes; its input gradient is w everywhere."""

    def critic(x, training=None):
        return tf.reduce_sum(x * w, axis=[1, 2])[:, None]

    return critic


def test_linear_critic_penalty_is_squared_norm_gap():
    w = tf.constant([[1.0, 2.0, 0.0], [2.0, 0.0, 0.0]])  # ||w|| = 3 over both axes
    real = tf.random.normal((5, 2, 3), seed=1)
    generated = tf.random.normal((5, 2, 3), seed=2)
    penalty = penalties.wasserstein_gradient_penalty(
        _linear_critic(w), real, generated, keras.random.SeedGenerator(0)
    )
    assert penalty.shape == () and penalty.dtype == tf.float32
    np.testing.assert_allclose(penalty.numpy(), (3.0 - 1.0) ** 2, rtol=1e-6)


def test_penalty_gradient_reaches_the_critic_weights():
    w = tf.Variable([[0.5, 0.0, 0.0], [0.0, 0.0, 0.0]])  # ||w|| = 0.5
    real = tf.ones((3, 2, 3))
    generated = tf.zeros((3, 2, 3))
    with tf.GradientTape() as tape:
        penalty = penalties.wasserstein_gradient_penalty(
            _linear_critic(w), real, generated, keras.random.SeedGenerator(0)
        )
    # d/dw (||w|| - 1)^2 = 2 (||w|| - 1) w / ||w||
    expected = 2.0 * (0.5 - 1.0) * w.numpy() / 0.5
    np.testing.assert_allclose(tape.gradient(penalty, w).numpy(), expected, rtol=1e-5)


def test_interpolation_weight_is_uniform_per_example():
    # D(x) = ||x||^2 / 2 has gradient x. With unit-norm real rows and zero generated rows,
    # x_hat = eps * real, so the penalty is mean((eps - 1)^2): 1/3 for eps ~ U[0, 1]
    # (a normal eps would give 2, one eps for the whole batch a value spread over [0, 1]).
    def quadratic_critic(x, training=None):
        return 0.5 * tf.reduce_sum(tf.square(x), axis=[1, 2])[:, None]

    directions = tf.random.normal((20000, 2, 3), seed=3)
    real = directions / tf.norm(directions, axis=[1, 2], keepdims=True)
    generated = tf.zeros_like(real)
    penalty = penalties.wasserstein_gradient_penalty(
        quadratic_critic, real, generated, keras.random.SeedGenerator(7)
    )
    np.testing.assert_allclose(penalty.numpy(), 1.0 / 3.0, atol=0.01)


def _quadratic_critic(x, training=None):
    """D(x) = ||x||^2 / 2 over all non-batch axes; its input gradient is x itself."""
    return 0.5 * tf.reduce_sum(tf.square(x), axis=[1, 2])[:, None]


# Two real examples with ||x||^2 = 9 and 1; generated ones with ||x||^2 = 4 and 16.
REAL = tf.constant([[[1.0, 2.0, 2.0], [0.0, 0.0, 0.0]], [[0.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])
GENERATED = tf.constant([[[2.0, 0.0, 0.0], [0.0, 0.0, 0.0]], [[0.0, 0.0, 0.0], [4.0, 0.0, 0.0]]])


def test_r1_is_half_the_mean_squared_gradient_norm_on_real_data():
    # grad D(x) = x: 1/2 mean(9, 1) = 2.5, whatever the generated batch holds.
    penalty = penalties.r1_gradient_penalty(_quadratic_critic, REAL)
    assert penalty.shape == () and penalty.dtype == tf.float32
    np.testing.assert_allclose(penalty.numpy(), 2.5, rtol=1e-6)


def test_r2_is_the_same_penalty_on_generated_data():
    # 1/2 mean(4, 16) = 5.
    np.testing.assert_allclose(
        penalties.r2_gradient_penalty(_quadratic_critic, GENERATED).numpy(), 5.0, rtol=1e-6)


@pytest.mark.parametrize("name, expected", [("r1", 2.5), ("r2", 5.0), ("r1_r2", 7.5)])
def test_gradient_penalty_picks_the_batches_its_name_says(name, expected):
    penalty = penalties.gradient_penalty(
        name, _quadratic_critic, REAL, GENERATED, keras.random.SeedGenerator(0))
    np.testing.assert_allclose(penalty.numpy(), expected, rtol=1e-6)


def test_gradient_penalty_wgan_gp_is_the_wasserstein_one():
    w = tf.constant([[1.0, 2.0, 0.0], [2.0, 0.0, 0.0]])  # ||w|| = 3
    penalty = penalties.gradient_penalty(
        "wgan_gp", _linear_critic(w), REAL, GENERATED, keras.random.SeedGenerator(0))
    np.testing.assert_allclose(penalty.numpy(), (3.0 - 1.0) ** 2, rtol=1e-6)


@pytest.mark.parametrize("name", ["r1", "r2"])
def test_r1_and_r2_gradients_reach_the_critic_weights_only(name):
    # D(x) = <w, x>: the penalty is ||w||^2 / 2, its gradient w; the samples get none.
    w = tf.Variable([[0.5, 0.0, 1.0], [0.0, -2.0, 0.0]])
    real, generated = tf.Variable(REAL), tf.Variable(GENERATED)
    with tf.GradientTape(persistent=True) as tape:
        penalty = penalties.gradient_penalty(
            name, _linear_critic(w), real, generated, keras.random.SeedGenerator(0))
    np.testing.assert_allclose(penalty.numpy(), 0.5 * (0.25 + 1.0 + 4.0), rtol=1e-6)
    np.testing.assert_allclose(tape.gradient(penalty, w).numpy(), w.numpy(), rtol=1e-6)
    assert tape.gradient(penalty, [real, generated]) == [None, None]


def test_unknown_penalty_raises():
    with pytest.raises(ValueError, match=r"Received: gradient_penalty='r3'$"):
        penalties.gradient_penalty("r3", _quadratic_critic, REAL, GENERATED, None)
