"""Latent priors: where a generator's `z` comes from.

Two ways to draw `z`:

- `sample_prior` draws from a stateful `keras.random.SeedGenerator` during training.
- `stateless_prior` draws from an integer seed with TensorFlow's oldest stateless kernels
  (`StatelessRandomUniform` / `StatelessRandomNormal`), so the same seed gives the same `z`
  in training code, in an exported SavedModel and in the stock model server (whose older
  builds lack the newer `StatelessRandomGetKeyCounter` kernels).

Both stateless draws take a `truncation` psi in [0, 1] (the truncation trick of BigGAN, Brock
et al. 2019, https://arxiv.org/abs/1809.11096; StyleGAN's psi): `z` is drawn from the prior
truncated to its central psi of probability mass, per component, by `truncate`. psi = 1 is
off and gives exactly the untruncated `z`; psi = 0 puts every `z` at the prior's center.
"""

import math

import tensorflow as tf

from tfgan import rng

PRIORS = ("uniform", "normal")
# The truncation that leaves `z` as drawn.
NO_TRUNCATION = 1.0
TRUNCATION_MESSAGE = "truncation must be in [0, 1] (the prior's mass kept per component; 1: off)"


def validate_prior(prior):
    """Raises `ValueError` unless `prior` names a known prior."""
    if prior not in PRIORS:
        raise ValueError(f"prior must be one of {PRIORS}. Received: prior={prior!r}")


def sample_prior(num_samples, z_dim, prior, seed_generator):
    """Draws `z` of shape `[num_samples, z_dim]` from a stateful seed generator.

    Args:
        num_samples: int or scalar int tensor, the batch size.
        z_dim: int, the latent dimension.
        prior: str, `"uniform"` (U(-1, 1), seeds 002/003) or `"normal"` (N(0, 1)).
        seed_generator: `keras.random.SeedGenerator` that advances on every call.

    Returns:
        float32 tensor of shape `[num_samples, z_dim]`.
    """
    validate_prior(prior)
    shape = (num_samples, z_dim)
    if prior == "uniform":
        return rng.uniform(shape, seed_generator, -1.0, 1.0)
    return rng.normal(shape, seed_generator)


def stateless_prior(num_samples, z_dim, prior, seed, truncation=NO_TRUNCATION, stream=0):
    """Draws `z` of shape `[num_samples, z_dim]` deterministically from an integer seed.

    Args:
        num_samples: int or scalar int32 tensor.
        z_dim: int.
        prior: str, `"uniform"` or `"normal"`.
        seed: int or scalar int64 tensor; the same seed always gives the same `z`.
        truncation: float or float32 tensor, psi in [0, 1], a scalar or one per row
            (`[num_samples, 1]`); see `truncate`. Defaults to `1.0` (off).
        stream: int or scalar int64 tensor, the second half of the kernels' seed pair: other
            streams give independent draws from the same seed (guided sampling's candidates).
            Defaults to `0`, the stream every seed's samples come from.

    Returns:
        float32 tensor of shape `[num_samples, z_dim]`.
    """
    validate_prior(prior)
    shape = tf.stack([tf.cast(num_samples, tf.int32), tf.constant(z_dim, tf.int32)])
    seed_pair = tf.stack([tf.cast(seed, tf.int64), tf.cast(stream, tf.int64)])
    if prior == "uniform":
        unit = tf.raw_ops.StatelessRandomUniform(shape=shape, seed=seed_pair, dtype=tf.float32)
        z = unit * 2.0 - 1.0
    else:
        z = tf.raw_ops.StatelessRandomNormal(shape=shape, seed=seed_pair, dtype=tf.float32)
    return truncate(z, prior, truncation)


def stateless_prior_per_seed(seeds, z_dim, prior, truncation=NO_TRUNCATION, stream=0):
    """Draws one `z` row per seed: row i depends only on `seeds[i]` (and its truncation).

    This is StyleGAN's `--seeds` idea: a batch of seeds gives the same rows whatever else is
    in the batch, so requests can be batched and split freely.

    Args:
        seeds: int64 tensor of shape `[batch]`.
        z_dim: int.
        prior: str, `"uniform"` or `"normal"`.
        truncation: float or float32 tensor, psi in [0, 1]: a scalar or one per seed
            (`[batch]`); see `truncate`. Defaults to `1.0` (off).
        stream: int, see `stateless_prior`. Defaults to `0`.

    Returns:
        float32 tensor of shape `[batch, z_dim]`.
    """
    validate_prior(prior)
    z = tf.map_fn(
        lambda s: stateless_prior(1, z_dim, prior, s, stream=stream)[0],
        tf.cast(seeds, tf.int64),
        fn_output_signature=tf.TensorSpec([z_dim], tf.float32),
    )
    psi = tf.convert_to_tensor(truncation, tf.float32)
    return truncate(z, prior, psi[:, tf.newaxis] if psi.shape.rank == 1 else psi)


def truncate(z, prior, truncation):
    """Maps draws of the prior onto the prior truncated to its central `truncation` of mass.

    psi (`truncation`) is the probability mass of the prior kept per component, and each
    component goes through the truncated distribution's inverse CDF at the untruncated
    draw's CDF value, so the result has exactly the truncated distribution and moves
    continuously with psi (no resampling loop, nothing random beyond the draw itself):

    - `"normal"`: N(0, 1) truncated to [-t, t], t = Phi^-1((1 + psi) / 2) (psi 0.7: t = 1.04,
      psi 0.95: t = 1.96), the distribution BigGAN's resampling of |z| > t gives:
      `z' = sign(z) * -Phi^-1((1 - psi) / 2 + psi * Phi(-|z|))`.
    - `"uniform"`: U(-1, 1) truncated to [-psi, psi], which is `z * psi` (scaled toward the
      center, StyleGAN's psi with the center as the mean).

    psi = 1 returns `z` unchanged (bit for bit), psi = 0 gives all zeros.

    Args:
        z: float32 tensor drawn from `prior`.
        prior: str, `"uniform"` or `"normal"`.
        truncation: float or float32 tensor broadcastable to `z`, in [0, 1].

    Returns:
        float32 tensor shaped as `z`.
    """
    validate_prior(prior)
    if isinstance(truncation, (int, float)) and truncation == NO_TRUNCATION:
        return z
    psi = tf.convert_to_tensor(truncation, tf.float32)
    if prior == "uniform":
        return tf.where(psi >= 1.0, z, z * psi)
    # Phi(-|z|), exact in the tails. Products only: a graph optimizer turns a division by a
    # constant into a product, which would round differently from the eager result.
    tail = 0.5 * tf.math.erfc(tf.abs(z) * math.sqrt(0.5))
    kept = -tf.math.ndtri((1.0 - psi) * 0.5 + psi * tail)
    return tf.where(psi >= 1.0, z, tf.sign(z) * kept)


def checked_truncation(truncation):
    """`truncation` as float32, asserted in [0, 1] (NaN fails): an InvalidArgumentError in the
    graph, which the stock server returns as INVALID_ARGUMENT."""
    psi = tf.convert_to_tensor(truncation, tf.float32)
    checks = [tf.debugging.assert_greater_equal(psi, 0.0, message=TRUNCATION_MESSAGE),
              tf.debugging.assert_less_equal(psi, 1.0, message=TRUNCATION_MESSAGE)]
    with tf.control_dependencies(checks):
        return tf.identity(psi)
