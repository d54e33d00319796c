"""`run_steps`: trains a compiled `GAN` many steps per compiled call, with Keras callbacks.

The loop `fit` would run, made for a GAN's many cheap steps:

- One `tf.function` runs a block of `num_steps` train steps in a `tf.while_loop`, taking
  batches from the iterator inside the graph; the step itself is `GAN.train_step` under
  `strategy.run`, XLA-compiled when asked. `num_steps` is a tensor, so blocks of any length
  share one trace.
- A block ends at `steps_per_execution` steps, at the last step, or at the next step some
  callback asks for (`next_stop`, see `tfgan.callbacks.EveryNSteps`), so every callback acts
  exactly on its steps however long the blocks are, and N steps in one block give the same
  weights as N blocks of one step.
- Callbacks get the model's running metric means (`GAN.metrics`) as their logs.

Keras' `fit` with `steps_per_execution` runs whole blocks only (it overshoots a step count
that is not a multiple) and cannot stop a block where a callback needs it.
"""

import keras
import tensorflow as tf

# A block should hold about this many floating-point operations: enough to hide the cost of
# one call (a few hundred microseconds), few enough that Ctrl-C is answered within a second.
_FLOPS_PER_BLOCK = 2e9
MAX_STEPS_PER_EXECUTION = 1000


def auto_steps_per_execution(step_flops):
    """Steps per compiled call for a train step of `step_flops` floating-point operations.

    Args:
        step_flops: int, the FLOPs of one train step (`tfgan.flops.train_step_flops`).

    Returns:
        int in [1, `MAX_STEPS_PER_EXECUTION`]: 1 for steps of 2 GFLOPs or more (a DCGAN),
        about 10 for seed 003's MLP (190 MFLOPs), the maximum for the tiny toy networks.
    """
    return int(min(MAX_STEPS_PER_EXECUTION, max(1, _FLOPS_PER_BLOCK // max(step_flops, 1))))


def make_train_function(gan, jit_compile=False):
    """The compiled block: `train_steps(iterator, num_steps)` runs `num_steps` train steps.

    Args:
        gan: a compiled, built `tfgan.gan.GAN`.
        jit_compile: bool, compile each step with XLA. Defaults to `False`.

    Returns:
        a `tf.function` taking an iterator over (distributed) batches and an int32 scalar
        tensor; it returns nothing (read `gan.metrics` after it).
    """
    strategy = gan.distribute_strategy

    @tf.function(jit_compile=jit_compile, reduce_retracing=True)
    def one_step(batch):
        strategy.run(gan.train_step, args=(batch,))

    @tf.function
    def train_steps(iterator, num_steps):
        for _ in tf.range(num_steps):
            one_step(next(iterator))

    return train_steps


def run_steps(gan, dataset, total_steps, callbacks=(), steps_per_execution=1,
              jit_compile=False):
    """Trains `gan` from its current `gan.step` up to `total_steps`.

    Args:
        gan: a compiled, built `tfgan.gan.GAN`; its `step` says where training stands.
        dataset: infinite `tf.data.Dataset` of real batches `[batch, *data_shape]` (the
            global batch: under a strategy it is split across replicas).
        total_steps: int, the step to stop at.
        callbacks: sequence of `keras.callbacks.Callback`; those with a `next_stop(step)`
            method end blocks where they act. Defaults to `()`.
        steps_per_execution: int >= 1, the longest block of steps per compiled call.
            Defaults to `1`.
        jit_compile: bool, compile the train step with XLA. Defaults to `False`.

    Returns:
        dict of floats, the model's metric means at the end (empty if no step ran).

    Raises:
        ValueError: if `steps_per_execution` is not a positive int.
        KeyboardInterrupt: on Ctrl-C (or SIGTERM mapped to it), after `on_train_end`.
    """
    if isinstance(steps_per_execution, bool) or not isinstance(steps_per_execution, int) \
            or steps_per_execution < 1:
        raise ValueError("steps_per_execution must be a positive int. "
                         f"Received: steps_per_execution={steps_per_execution!r}")
    strategy = gan.distribute_strategy
    iterator = iter(strategy.experimental_distribute_dataset(dataset))
    train_steps = make_train_function(gan, jit_compile)
    stoppers = [callback.next_stop for callback in callbacks if hasattr(callback, "next_stop")]
    callback_list = keras.callbacks.CallbackList(list(callbacks), model=gan)
    gan.stop_training = False
    logs = {}
    callback_list.on_train_begin()
    step = int(gan.step.numpy())
    try:
        while step < total_steps and not gan.stop_training:
            stop = min([total_steps, step + steps_per_execution]
                       + [next_stop(step) for next_stop in stoppers])
            callback_list.on_train_batch_begin(step)
            train_steps(iterator, tf.constant(stop - step, tf.int32))
            step = int(gan.step.numpy())
            logs = _metric_means(gan)
            callback_list.on_train_batch_end(step, logs)
    except KeyboardInterrupt:
        # Ctrl-C or SIGTERM: Python sees it only between compiled calls, so the model stands at
        # a whole step. The callbacks end there as at a normal end (last history row, grid,
        # checkpoint), and the caller learns of the interruption.
        callback_list.on_train_end(_metric_means(gan))
        raise
    callback_list.on_train_end(logs)
    return logs


def _metric_means(gan):
    return {tracker.name: float(tracker.result()) for tracker in gan.metrics}
