import keras
import numpy as np
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
