"""Floating-point operations of one GAN train step, counted by TensorFlow's profiler.

The profiler sums the registered FLOP counts of every op in the traced step's graph
(MatMul, Conv2D and its two backprops, elementwise ops, the optimizers' updates), so the
count follows the networks, the loss, the penalty and the schedule as they are configured.
`tfgan.training_loop.auto_steps_per_execution` and `scripts/bench_train.py` (the fraction of
the machine's peak a step reaches) use it.
"""

import tensorflow as tf
from tensorflow.python.profiler import model_analyzer, option_builder
from tensorflow.python.util import deprecation


def graph_flops(graph):
    """The profiler's total FLOPs of a `tf.Graph` whose shapes are static.

    Args:
        graph: `tf.Graph`, e.g. a concrete function's `graph`.

    Returns:
        int, the floating-point operations of one run of the graph.
    """
    options = (option_builder.ProfileOptionBuilder(
        option_builder.ProfileOptionBuilder.float_operation()).with_empty_output().build())
    # The profiler's FLOP registry calls a TF1 helper that warns on every use.
    with deprecation.silence():
        return int(model_analyzer.profile(graph, options=options).total_float_ops)


def train_step_flops(gan, batch_size):
    """FLOPs of one `gan.train_step` on a batch of `batch_size` real samples (labelled, if
    the GAN is conditional).

    Traces the step once more (it does not run it: no weight changes).

    Args:
        gan: a compiled, built `tfgan.gan.GAN`.
        batch_size: int, real samples per step (per replica).

    Returns:
        int, the floating-point operations of one train step.
    """
    spec = tf.TensorSpec((batch_size, *gan.generator.data_shape), tf.float32)
    if gan.num_classes:
        spec = (spec, tf.TensorSpec((batch_size,), tf.int32))
    concrete = tf.function(gan.train_step).get_concrete_function(spec)
    return graph_flops(concrete.graph)
