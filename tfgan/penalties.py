"""Regularisers of the discriminator: the WGAN-GP gradient penalty."""

import tensorflow as tf

from tfgan import rng

# Keeps the second derivative of the norm finite where the critic's gradient is exactly zero.
_NORM_EPSILON = 1e-12


def wasserstein_gradient_penalty(discriminator, real, generated, seed_generator):
    """Two-sided gradient penalty on random interpolates of real and generated data.

    Gulrajani et al. 2017, "Improved Training of Wasserstein GANs",
    https://arxiv.org/abs/1704.00028, Algorithm 1:

        eps ~ U[0, 1] per example,  x_hat = eps * x + (1 - eps) * G(z)
        penalty = mean((||grad_x_hat D(x_hat)||_2 - 1)^2)

    The norm runs over all non-batch axes. Call it inside the discriminator's gradient tape so
    the penalty's own gradient reaches the discriminator's weights. The critic must score each
    example independently (no batch normalisation, no minibatch discrimination), as in the paper.

    Args:
        discriminator: callable `(x, training=...) -> logits`, `x` of shape `[batch, *data_shape]`,
            logits `[batch, 1]`.
        real: float tensor `[batch, *data_shape]`, a batch of real data.
        generated: float tensor `[batch, *data_shape]`, a batch of generated data.
        seed_generator: `keras.random.SeedGenerator` that draws `eps`.

    Returns:
        float32 scalar tensor, the penalty (unweighted).
    """
    real = tf.cast(real, tf.float32)
    generated = tf.cast(generated, tf.float32)
    eps_shape = (tf.shape(real)[0],) + (1,) * (real.shape.rank - 1)
    eps = rng.uniform(eps_shape, seed_generator)
    interpolated = eps * real + (1.0 - eps) * generated
    with tf.GradientTape() as tape:
        tape.watch(interpolated)
        logits = discriminator(interpolated, training=True)
    grads = tf.cast(tape.gradient(logits, interpolated), tf.float32)
    squared_norm = tf.reduce_sum(tf.square(grads), axis=list(range(1, real.shape.rank)))
    norm = tf.sqrt(squared_norm + _NORM_EPSILON)
    return tf.reduce_mean(tf.square(norm - 1.0))
