"""Latent priors: where a generator's `z` comes from.

Two ways to draw `z`:

- `sample_prior` draws from a stateful `keras.random.SeedGenerator` during training.
- `stateless_prior` draws from an integer seed with TensorFlow's oldest stateless kernels
  (`StatelessRandomUniform` / `StatelessRandomNormal`), so the same seed gives the same `z`
  in training code, in an exported SavedModel and in the stock model server (whose older
  builds lack the newer `StatelessRandomGetKeyCounter` kernels).
"""

import tensorflow as tf

from tfgan import rng

PRIORS = ("uniform", "normal")


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


def stateless_prior(num_samples, z_dim, prior, seed):
    """Draws `z` of shape `[num_samples, z_dim]` deterministically from an integer seed.

    Args:
        num_samples: int or scalar int32 tensor.
        z_dim: int.
        prior: str, `"uniform"` or `"normal"`.
        seed: int or scalar int64 tensor; the same seed always gives the same `z`.

    Returns:
        float32 tensor of shape `[num_samples, z_dim]`.
    """
    validate_prior(prior)
    shape = tf.stack([tf.cast(num_samples, tf.int32), tf.constant(z_dim, tf.int32)])
    seed_pair = tf.stack([tf.cast(seed, tf.int64), tf.constant(0, tf.int64)])
    if prior == "uniform":
        unit = tf.raw_ops.StatelessRandomUniform(shape=shape, seed=seed_pair, dtype=tf.float32)
        return unit * 2.0 - 1.0
    return tf.raw_ops.StatelessRandomNormal(shape=shape, seed=seed_pair, dtype=tf.float32)


def stateless_prior_per_seed(seeds, z_dim, prior):
    """Draws one `z` row per seed: row i depends only on `seeds[i]`.

    This is StyleGAN's `--seeds` idea: a batch of seeds gives the same rows whatever else is
    in the batch, so requests can be batched and split freely.

    Args:
        seeds: int64 tensor of shape `[batch]`.
        z_dim: int.
        prior: str, `"uniform"` or `"normal"`.

    Returns:
        float32 tensor of shape `[batch, z_dim]`.
    """
    validate_prior(prior)
    return tf.map_fn(
        lambda s: stateless_prior(1, z_dim, prior, s)[0],
        tf.cast(seeds, tf.int64),
        fn_output_signature=tf.TensorSpec([z_dim], tf.float32),
    )
