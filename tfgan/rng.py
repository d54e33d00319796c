"""Random draws from a `keras.random.SeedGenerator` that are fast under XLA on a CPU.

`keras.random.uniform(..., seed=seed_generator)` calls TensorFlow's stateless kernels with the
algorithm left to TensorFlow. Outside XLA that is Philox; inside an XLA cluster on a CPU it is
a generator that took 4.5 ms for 6,400 numbers (longer than the whole train step of seed 003's
MLP GAN). These functions draw from the same seed generator with Philox named explicitly:
outside XLA they give exactly the numbers `keras.random` gives, inside XLA they cost
microseconds (XLA's Philox is its own implementation, so compiled and uncompiled steps draw
different numbers, as they did before).
"""

import tensorflow as tf

_ALGORITHM = "philox"


def _next_seed(seed_generator):
    """The seed generator's next `[2]` int32 seed, advanced as Keras advances it."""
    # Keras keeps the state in int64; TensorFlow's stateless kernels take int32 seeds under XLA.
    return tf.cast(tf.math.floormod(seed_generator.next(), tf.int32.max - 1), tf.int32)


def uniform(shape, seed_generator, minval=0.0, maxval=1.0):
    """float32 tensor of `shape` drawn from U[minval, maxval).

    Args:
        shape: sequence of ints or int tensors.
        seed_generator: `keras.random.SeedGenerator`; advances by one draw.
        minval: float. Defaults to `0.0`.
        maxval: float. Defaults to `1.0`.
    """
    return tf.random.stateless_uniform(shape, _next_seed(seed_generator), minval=minval,
                                       maxval=maxval, dtype=tf.float32, alg=_ALGORITHM)


def normal(shape, seed_generator):
    """float32 tensor of `shape` drawn from N(0, 1); see `uniform`."""
    return tf.random.stateless_normal(shape, _next_seed(seed_generator), dtype=tf.float32,
                                      alg=_ALGORITHM)
