"""Discriminator-guided sampling: Discriminator Rejection Sampling over K candidates per sample.

Discriminator Rejection Sampling (DRS; Azadi et al. 2019, https://arxiv.org/abs/1810.06758)
uses the trained discriminator's logit D(x) as the log density ratio log p_data(x) / p_g(x)
(exact for the optimal discriminator) and keeps a generated sample with the rejection
sampler's probability p_data(x) / (M p_g(x)) = exp(D(x) - D_M), where D_M, the largest logit,
is estimated before sampling on generated samples (the paper's "burn-in") and raised whenever a
larger logit is seen. tfgan's version keeps DRS's acceptance rule with two changes that make it
a graph a model server can run, with one answer per seed:

- Bounded: each sample draws K candidates (K fixed at export, `rejection_candidates`),
  candidate k from the seed's own stream k of the prior (candidate 0 is the unguided sample),
  and keeps the first candidate whose acceptance draw u_k (the seed's stream -1) is below its
  acceptance probability; when none is accepted, the candidate with the highest logit. So a
  seed always gives exactly one sample, the same one whatever else is in the batch, at the cost
  of K generator and K discriminator evaluations per sample (whatever the strength).
- A strength r >= 0 (the `rejection` input) on the log ratio: acceptance is
  exp(r * (D(x) - D_M)), r = 1 is DRS's rule (target p_data), r = 0 accepts candidate 0 (off:
  the unguided samples), r between moves the target geometrically from p_g to p_data
  (p_g^(1-r) p_data^r), r > 1 past it, toward the samples the discriminator likes best.

D_M is the maximum of the burn-in estimate and the row's own K logits (the paper's update,
per seed, so rows stay independent). Not done here: the paper's logistic-regression
calibration of D on held-out real data (an export sees no data) and its gamma shift of the
acceptance logit (r plays that part: lower r, higher acceptance).
"""

import collections

import tensorflow as tf

# The signature input that carries the strength r.
REJECTION_INPUT = "rejection"
# The strength a signature uses when a request leaves it out: DRS's own rule.
DEFAULT_STRENGTH = 1.0
STRENGTH_MESSAGE = "rejection must be a finite number >= 0 (0: off, 1: DRS)"
# Generated samples whose largest logit estimates D_M at export time, and their seed.
BURN_IN_SAMPLES = 2000
BURN_IN_SEED = 20190101
# The stream of the prior's seed pair that the acceptance draws come from; candidate k of a
# seed uses stream k (tfgan.priors.stateless_prior), so the two never overlap.
ACCEPTANCE_STREAM = -1


def validate_candidates(candidates):
    """Raises `ValueError` unless `candidates` is an int >= 0 (0 and 1: no guidance)."""
    if isinstance(candidates, bool) or not isinstance(candidates, int) or candidates < 0:
        raise ValueError("rejection_candidates must be an int >= 0 (0 or 1: off). "
                         f"Received: rejection_candidates={candidates!r}")


def checked_strength(strength):
    """`strength` as float32, asserted finite and >= 0: an InvalidArgumentError in the graph,
    which the stock server returns as INVALID_ARGUMENT."""
    strength = tf.convert_to_tensor(strength, tf.float32)
    checks = [tf.debugging.assert_greater_equal(strength, 0.0, message=STRENGTH_MESSAGE),
              tf.debugging.assert_less(strength, float("inf"), message=STRENGTH_MESSAGE)]
    with tf.control_dependencies(checks):
        return tf.identity(strength)


def acceptance_draws(num_samples, candidates, seed):
    """U[0, 1) float32 `[num_samples, candidates]` from `seed`'s acceptance stream."""
    seed_pair = tf.stack([tf.cast(seed, tf.int64), tf.constant(ACCEPTANCE_STREAM, tf.int64)])
    shape = tf.stack([tf.cast(num_samples, tf.int32), tf.constant(candidates, tf.int32)])
    return tf.raw_ops.StatelessRandomUniform(shape=shape, seed=seed_pair, dtype=tf.float32)


def acceptance_draws_per_seed(seeds, candidates):
    """One row of `acceptance_draws` per seed: `[batch, candidates]`, row i from `seeds[i]`."""
    return tf.map_fn(lambda seed: acceptance_draws(1, candidates, seed)[0],
                     tf.cast(seeds, tf.int64),
                     fn_output_signature=tf.TensorSpec([candidates], tf.float32))


def choose(logits, draws, max_logit, strength):
    """The candidate each row keeps under bounded DRS.

    Args:
        logits: float32 `[batch, K]`, the discriminator's logit of each candidate.
        draws: float32 `[batch, K]` in [0, 1), the acceptance draws.
        max_logit: float, the burn-in estimate of D_M.
        strength: float32 scalar or `[batch]`, r >= 0.

    Returns:
        int32 `[batch]`: the first candidate with `draw < exp(r * (logit - D_M))`, where D_M is
        the larger of `max_logit` and the row's largest logit, else the highest logit.
    """
    strength = tf.convert_to_tensor(strength, tf.float32)
    if strength.shape.rank == 1:
        strength = strength[:, tf.newaxis]
    running_max = tf.maximum(max_logit, tf.reduce_max(logits, axis=1, keepdims=True))
    accepted = draws < tf.exp(strength * (logits - running_max))
    count = tf.shape(logits)[1]
    first = tf.reduce_min(tf.where(accepted, tf.range(count)[tf.newaxis], count), axis=1)
    best = tf.argmax(logits, axis=1, output_type=tf.int32)
    return tf.where(first < count, first, best)


class Guide(collections.namedtuple("Guide", ["discriminator", "candidates", "max_logit"])):
    """What an export guides its sampling with: the discriminator (`[batch, *data_shape]` in
    the generator's range -> logits `[batch, 1]`), K >= 2 and the burn-in's D_M."""
