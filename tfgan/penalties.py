"""Gradient penalties on the discriminator: WGAN-GP, and R1 / R2 (Mescheder et al. 2018).

`gradient_penalty(name, ...)` computes the one a name picks (`PENALTIES`); each is a float32
scalar, unweighted, to be added to the discriminator's loss times a weight.
"""

import tensorflow as tf

from tfgan import rng

PENALTIES = ("wgan_gp", "r1", "r2", "r1_r2")

# Keeps the second derivative of the norm finite where the critic's gradient is exactly zero.
_NORM_EPSILON = 1e-12


def _squared_input_gradient_norms(discriminator, x):
    """`||grad_x D(x)_i||^2` per example, `[batch]` float32, the norm over all non-batch axes.

    Taken under its own tape inside the caller's: the result stays differentiable with
    respect to the discriminator's weights (a second-order gradient).
    """
    with tf.GradientTape() as tape:
        tape.watch(x)
        logits = discriminator(x, training=True)
    grads = tf.cast(tape.gradient(logits, x), tf.float32)
    return tf.reduce_sum(tf.square(grads), axis=list(range(1, x.shape.rank)))


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
    squared_norm = _squared_input_gradient_norms(discriminator, interpolated)
    norm = tf.sqrt(squared_norm + _NORM_EPSILON)
    return tf.reduce_mean(tf.square(norm - 1.0))


def r1_gradient_penalty(discriminator, real):
    """R1: the squared gradient norm of the discriminator on real data, halved.

    Mescheder et al. 2018, "Which Training Methods for GANs do actually Converge?",
    https://arxiv.org/abs/1801.04406, section 4.1 (the weight gamma applied by the caller):

        penalty = 1/2 mean(||grad_x D(x)||^2),  x real

    So a weight of gamma gives the paper's `gamma / 2 E[||grad D||^2]` (StyleGAN's `r1_gamma`).
    Pushing the discriminator flat on the data makes the game converge locally to the data
    distribution; R3GAN (Huang et al. 2024, https://arxiv.org/abs/2501.05441) pairs it with R2
    under the relativistic pairing loss. Call it inside the discriminator's gradient tape.

    Args:
        discriminator: callable `(x, training=...) -> logits`, `x` `[batch, *data_shape]`,
            logits `[batch, 1]`.
        real: float tensor `[batch, *data_shape]`, a batch of real data.

    Returns:
        float32 scalar tensor, the penalty (unweighted).
    """
    real = tf.stop_gradient(tf.cast(real, tf.float32))
    return 0.5 * tf.reduce_mean(_squared_input_gradient_norms(discriminator, real))


def r2_gradient_penalty(discriminator, generated):
    """R2: R1's penalty on generated data instead of real.

    Mescheder et al. 2018, https://arxiv.org/abs/1801.04406, section 4.1:

        penalty = 1/2 mean(||grad_x D(x)||^2),  x = G(z)

    The samples are constants here: the penalty's gradient reaches the discriminator only.

    Args:
        discriminator: callable `(x, training=...) -> logits`.
        generated: float tensor `[batch, *data_shape]`, a batch of generated data.

    Returns:
        float32 scalar tensor, the penalty (unweighted).
    """
    return r1_gradient_penalty(discriminator, generated)


def gradient_penalty(name, discriminator, real, generated, seed_generator, labels=None):
    """The penalty `name` picks, on a real and a generated batch.

    A conditional discriminator is differentiated under fixed `labels`, the same for both
    batches (a conditional GAN generates for the real batch's labels), so WGAN-GP's
    interpolates keep the label of both ends.

    Args:
        name: str, one of `PENALTIES`: `"wgan_gp"` (`wasserstein_gradient_penalty`), `"r1"`,
            `"r2"`, or `"r1_r2"` (their sum, as R3GAN trains).
        discriminator: callable `(x, training=...) -> logits`.
        real: float tensor `[batch, *data_shape]`, a batch of real data.
        generated: float tensor `[batch, *data_shape]`, a batch of generated data.
        seed_generator: `keras.random.SeedGenerator`, used by `"wgan_gp"` only.
        labels: int32 tensor `[batch]` for a conditional `discriminator([x, labels])`, or
            None. Defaults to `None`.

    Returns:
        float32 scalar tensor, the penalty (unweighted).

    Raises:
        ValueError: if `name` is not one of `PENALTIES`.
    """
    check_penalty(name)
    if labels is not None:
        conditional = discriminator

        def discriminator(x, training=None):
            return conditional([x, labels], training=training)
    if name == "wgan_gp":
        return wasserstein_gradient_penalty(discriminator, real, generated, seed_generator)
    penalty = 0.0
    if name in ("r1", "r1_r2"):
        penalty += r1_gradient_penalty(discriminator, real)
    if name in ("r2", "r1_r2"):
        penalty += r2_gradient_penalty(discriminator, generated)
    return penalty


def check_penalty(name):
    """Raises `ValueError` unless `name` is one of `PENALTIES`."""
    if name not in PENALTIES:
        raise ValueError(
            f"gradient_penalty must be one of {PENALTIES}. Received: gradient_penalty={name!r}")
