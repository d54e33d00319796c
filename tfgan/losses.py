"""GAN losses: pure functions on discriminator logits, one generator/discriminator pair per family.

Every function takes raw logits (`[batch, 1]` or any shape; the discriminator's outputs before
any sigmoid) and returns the float32 scalar mean over all elements. Cross-entropy terms use
`softplus`, which stays finite for any logit, instead of `log(sigmoid(.))`:

    -log D(x)      = softplus(-l)        with D(x) = sigmoid(l)
    -log(1 - D(x)) = softplus(l)

Names follow TF-GAN (`<family>_generator_loss(discriminator_gen_outputs)`,
`<family>_discriminator_loss(discriminator_real_outputs, discriminator_gen_outputs)`);
`get_losses(name)` returns a family's pair as a `GANLoss`. Relativistic families compare each
real logit with a generated one, so their generator loss takes both outputs too, in the
discriminator loss's order (`GANLoss.generator_needs_real` says so). One regularizer of the
generator reads its samples instead of logits: `mode_seeking_loss`.
"""

import collections

import tensorflow as tf

GANLoss = collections.namedtuple(
    "GANLoss", ["generator_loss", "discriminator_loss", "generator_needs_real"], defaults=(False,)
)
GANLoss.__doc__ = """The two loss functions of one family.

Fields:
    generator_loss: callable `(discriminator_gen_outputs) -> scalar`, or when
        `generator_needs_real` is set `(discriminator_real_outputs, discriminator_gen_outputs)
        -> scalar`.
    discriminator_loss: callable
        `(discriminator_real_outputs, discriminator_gen_outputs) -> scalar`.
    generator_needs_real: bool, the generator loss compares with real outputs (relativistic
        families). Defaults to `False`.
"""


def _logits(outputs):
    return tf.cast(outputs, tf.float32)


def minimax_discriminator_loss(discriminator_real_outputs, discriminator_gen_outputs):
    """Discriminator loss of the original GAN: binary cross-entropy, real = 1, generated = 0.

    Goodfellow et al. 2014, "Generative Adversarial Networks",
    https://arxiv.org/abs/1406.2661. The discriminator maximises
    `log D(x) + log(1 - D(G(z)))`, i.e. minimises

        L_D = mean(softplus(-l_real)) + mean(softplus(l_gen))

    the sum of the two cross-entropies that seeds 000 and 003 write with
    `sigmoid_cross_entropy_with_logits`. The non-saturating family uses the same loss.

    Args:
        discriminator_real_outputs: float tensor, logits of real data, `[batch, 1]`.
        discriminator_gen_outputs: float tensor, logits of generated data, `[batch, 1]`.

    Returns:
        float32 scalar tensor.
    """
    real = _logits(discriminator_real_outputs)
    gen = _logits(discriminator_gen_outputs)
    return tf.reduce_mean(tf.nn.softplus(-real)) + tf.reduce_mean(tf.nn.softplus(gen))


def minimax_generator_loss(discriminator_gen_outputs):
    """Saturating generator loss of the original minimax game.

    Goodfellow et al. 2014, https://arxiv.org/abs/1406.2661, eq. 1: the generator minimises

        L_G = mean(log(1 - D(G(z)))) = -mean(softplus(l_gen))

    This is the objective as seed 001's text states it; its gradient vanishes when the
    discriminator confidently rejects samples, which is why the paper (and the code of all four
    seeds) trains with `non_saturating_generator_loss` instead.

    Args:
        discriminator_gen_outputs: float tensor, logits of generated data, `[batch, 1]`.

    Returns:
        float32 scalar tensor (at most 0).
    """
    return -tf.reduce_mean(tf.nn.softplus(_logits(discriminator_gen_outputs)))


def non_saturating_generator_loss(discriminator_gen_outputs):
    """Non-saturating generator loss: the generator's cross-entropy for "generated is real".

    Goodfellow et al. 2014, https://arxiv.org/abs/1406.2661, section 3: instead of minimising
    `log(1 - D(G(z)))`, the generator maximises `log D(G(z))`:

        L_G = -mean(log D(G(z))) = mean(softplus(-l_gen))

    Seeds 000 and 003 write it as `sigmoid_cross_entropy_with_logits(labels=1)`, seeds 001 and
    002 as `-log(D(G(z)))`.

    Args:
        discriminator_gen_outputs: float tensor, logits of generated data, `[batch, 1]`.

    Returns:
        float32 scalar tensor (at least 0).
    """
    return tf.reduce_mean(tf.nn.softplus(-_logits(discriminator_gen_outputs)))


# The non-saturating game changes only the generator's objective.
non_saturating_discriminator_loss = minimax_discriminator_loss


def least_squares_discriminator_loss(discriminator_real_outputs, discriminator_gen_outputs):
    """Least-squares (LSGAN) discriminator loss with targets a=0 (generated), b=1 (real).

    Mao et al. 2017, "Least Squares Generative Adversarial Networks",
    https://arxiv.org/abs/1611.04076, eq. 2:

        L_D = 1/2 mean((l_real - 1)^2) + 1/2 mean(l_gen^2)

    The discriminator's raw outputs are regressed onto the targets; no sigmoid.

    Args:
        discriminator_real_outputs: float tensor, outputs on real data, `[batch, 1]`.
        discriminator_gen_outputs: float tensor, outputs on generated data, `[batch, 1]`.

    Returns:
        float32 scalar tensor.
    """
    real = _logits(discriminator_real_outputs)
    gen = _logits(discriminator_gen_outputs)
    return 0.5 * tf.reduce_mean(tf.square(real - 1.0)) + 0.5 * tf.reduce_mean(tf.square(gen))


def least_squares_generator_loss(discriminator_gen_outputs):
    """Least-squares (LSGAN) generator loss with target c=1.

    Mao et al. 2017, https://arxiv.org/abs/1611.04076, eq. 2:

        L_G = 1/2 mean((l_gen - 1)^2)

    Args:
        discriminator_gen_outputs: float tensor, outputs on generated data, `[batch, 1]`.

    Returns:
        float32 scalar tensor.
    """
    return 0.5 * tf.reduce_mean(tf.square(_logits(discriminator_gen_outputs) - 1.0))


def wasserstein_discriminator_loss(discriminator_real_outputs, discriminator_gen_outputs):
    """Wasserstein critic loss.

    Arjovsky et al. 2017, "Wasserstein GAN", https://arxiv.org/abs/1701.07875: the critic
    maximises `E[f(x)] - E[f(G(z))]`, i.e. minimises

        L_D = mean(l_gen) - mean(l_real)

    Needs a Lipschitz constraint on the critic; tfgan provides the gradient penalty
    (`tfgan.penalties.wasserstein_gradient_penalty`).

    Args:
        discriminator_real_outputs: float tensor, critic scores of real data, `[batch, 1]`.
        discriminator_gen_outputs: float tensor, critic scores of generated data, `[batch, 1]`.

    Returns:
        float32 scalar tensor.
    """
    real = _logits(discriminator_real_outputs)
    gen = _logits(discriminator_gen_outputs)
    return tf.reduce_mean(gen) - tf.reduce_mean(real)


def wasserstein_generator_loss(discriminator_gen_outputs):
    """Wasserstein generator loss.

    Arjovsky et al. 2017, https://arxiv.org/abs/1701.07875:

        L_G = -mean(l_gen)

    Args:
        discriminator_gen_outputs: float tensor, critic scores of generated data, `[batch, 1]`.

    Returns:
        float32 scalar tensor.
    """
    return -tf.reduce_mean(_logits(discriminator_gen_outputs))


def hinge_discriminator_loss(discriminator_real_outputs, discriminator_gen_outputs):
    """Hinge discriminator loss.

    Lim & Ye 2017, "Geometric GAN", https://arxiv.org/abs/1705.02894; Miyato et al. 2018,
    "Spectral Normalization for GANs", https://arxiv.org/abs/1802.05957, eq. 16:

        L_D = mean(relu(1 - l_real)) + mean(relu(1 + l_gen))

    Args:
        discriminator_real_outputs: float tensor, logits of real data, `[batch, 1]`.
        discriminator_gen_outputs: float tensor, logits of generated data, `[batch, 1]`.

    Returns:
        float32 scalar tensor (at least 0).
    """
    real = _logits(discriminator_real_outputs)
    gen = _logits(discriminator_gen_outputs)
    return tf.reduce_mean(tf.nn.relu(1.0 - real)) + tf.reduce_mean(tf.nn.relu(1.0 + gen))


# The hinge game (Miyato et al. 2018, eq. 17) trains the generator on the Wasserstein objective.
hinge_generator_loss = wasserstein_generator_loss


def relativistic_pairing_discriminator_loss(discriminator_real_outputs,
                                            discriminator_gen_outputs):
    """Relativistic pairing (RpGAN) discriminator loss: each real sample against one generated.

    Jolicoeur-Martineau 2018, "The relativistic discriminator: a key element missing from
    standard GAN", https://arxiv.org/abs/1807.00734 (RSGAN); Huang et al. 2024, "The GAN is
    dead; long live the GAN! A Modern GAN Baseline", https://arxiv.org/abs/2501.05441 (RpGAN,
    with f = softplus). The discriminator asks "is x more real than G(z)?" of the i-th real and
    the i-th generated logit:

        L_D = mean(-log sigmoid(l_real_i - l_gen_i)) = mean(softplus(l_gen_i - l_real_i))

    R3GAN shows that pairing each real sample with a generated one removes the plain game's
    tendency to drop modes; it pairs the loss with the R1 and R2 penalties.

    Args:
        discriminator_real_outputs: float tensor, logits of real data, `[batch, 1]`.
        discriminator_gen_outputs: float tensor, logits of generated data, the same shape.

    Returns:
        float32 scalar tensor (at least 0).
    """
    real = _logits(discriminator_real_outputs)
    gen = _logits(discriminator_gen_outputs)
    return tf.reduce_mean(tf.nn.softplus(gen - real))


def relativistic_pairing_generator_loss(discriminator_real_outputs, discriminator_gen_outputs):
    """Relativistic pairing (RpGAN) generator loss: the discriminator's loss with roles swapped.

    Jolicoeur-Martineau 2018, https://arxiv.org/abs/1807.00734; Huang et al. 2024,
    https://arxiv.org/abs/2501.05441:

        L_G = mean(-log sigmoid(l_gen_i - l_real_i)) = mean(softplus(l_real_i - l_gen_i))

    Unlike the other families' generator losses it takes the real logits too (they carry no
    gradient to the generator).

    Args:
        discriminator_real_outputs: float tensor, logits of real data, `[batch, 1]`.
        discriminator_gen_outputs: float tensor, logits of generated data, the same shape.

    Returns:
        float32 scalar tensor (at least 0).
    """
    return relativistic_pairing_discriminator_loss(
        discriminator_gen_outputs, discriminator_real_outputs
    )


def auxiliary_classifier_discriminator_loss(labels, real_class_logits, gen_class_logits):
    """AC-GAN's classification loss for the discriminator: real and generated samples alike.

    Odena et al. 2017, "Conditional Image Synthesis with Auxiliary Classifier GANs",
    https://arxiv.org/abs/1610.09585, section 3: the discriminator maximises the
    log-likelihood of the correct class on both sides, `L_C = E[log P(C=c | X_real)] +
    E[log P(C=c | X_fake)]`, i.e. minimises

        L_C^D = mean(CE(c, k_real)) + mean(CE(c, k_gen))

    with `CE` the softmax cross-entropy of class logits `k`. Weighted by the caller and added
    to the adversarial loss. Beware: a high weight makes samples that classify easily and
    vary little within a class (ReACGAN, Kang et al. 2021).

    Args:
        labels: int tensor `[batch]`, the class each sample was made for (real: its label).
        real_class_logits: float tensor `[batch, num_classes]`, class logits of real data.
        gen_class_logits: float tensor `[batch, num_classes]`, of generated data.

    Returns:
        float32 scalar tensor.
    """
    return (auxiliary_classifier_generator_loss(labels, real_class_logits)
            + auxiliary_classifier_generator_loss(labels, gen_class_logits))


def auxiliary_classifier_generator_loss(labels, gen_class_logits):
    """AC-GAN's classification loss for the generator: its samples should show their class.

    Odena et al. 2017, https://arxiv.org/abs/1610.09585: the generator maximises
    `L_C - L_S`; its classification part is

        L_C^G = mean(CE(c, k_gen))

    Args:
        labels: int tensor `[batch]`, the class each sample was made for.
        gen_class_logits: float tensor `[batch, num_classes]`, class logits of generated data.

    Returns:
        float32 scalar tensor.
    """
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=tf.cast(labels, tf.int32), logits=_logits(gen_class_logits)))


def mode_seeking_loss(generated, z, epsilon=1e-5):
    """Mode seeking regularizer of the generator: unlike `z`s should give unlike samples.

    Mao et al. 2019, "Mode Seeking Generative Adversarial Networks for Diverse Image
    Synthesis", https://arxiv.org/abs/1903.05628, eq. 3: pair sample `i` of the first half of
    the batch with sample `i` of the second half, made for the same condition from another
    `z`, and let the generator maximise

        r = mean(|G(z1) - G(z2)|) / mean(|z1 - z2|)

    (each mean over every element of the half batches) by minimising `1 / (r + epsilon)`. A
    generator that maps many `z` to one sample (mode collapse) has a small `r`.

    Args:
        generated: float tensor `[2n, ...]`, samples; row `i` and row `n + i` form a pair.
        z: float tensor `[2n, z_dim]`, the latents they were made from.
        epsilon: float, keeps the loss finite when `r` is 0. Defaults to `1e-5`.

    Returns:
        float32 scalar tensor.
    """
    generated_a, generated_b = tf.split(tf.cast(generated, tf.float32), 2)
    z_a, z_b = tf.split(tf.cast(z, tf.float32), 2)
    ratio = (tf.reduce_mean(tf.abs(generated_a - generated_b))
             / tf.reduce_mean(tf.abs(z_a - z_b)))
    return 1.0 / (ratio + epsilon)


_FAMILIES = {
    "minimax": GANLoss(minimax_generator_loss, minimax_discriminator_loss),
    "non_saturating": GANLoss(non_saturating_generator_loss, non_saturating_discriminator_loss),
    "least_squares": GANLoss(least_squares_generator_loss, least_squares_discriminator_loss),
    "wasserstein": GANLoss(wasserstein_generator_loss, wasserstein_discriminator_loss),
    "hinge": GANLoss(hinge_generator_loss, hinge_discriminator_loss),
    "relativistic_pairing": GANLoss(
        relativistic_pairing_generator_loss,
        relativistic_pairing_discriminator_loss,
        generator_needs_real=True,
    ),
}

LOSSES = tuple(_FAMILIES)


def get_losses(name):
    """Returns the loss pair of the family `name`.

    Args:
        name: str, one of `LOSSES`: `"minimax"`, `"non_saturating"`, `"least_squares"`,
            `"wasserstein"`, `"hinge"`, `"relativistic_pairing"`.

    Returns:
        `GANLoss(generator_loss, discriminator_loss, generator_needs_real)`.

    Raises:
        ValueError: if `name` is not a known family.
    """
    if name not in _FAMILIES:
        raise ValueError(f"loss must be one of {LOSSES}. Received: loss={name!r}")
    return _FAMILIES[name]
