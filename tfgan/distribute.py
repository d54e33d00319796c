"""Which `tf.distribute` strategy trains the GAN, and which process of a cluster writes.

`--strategy` picks one of `STRATEGIES`:

- `default`: one device (TensorFlow's default strategy).
- `mirrored`: `tf.distribute.MirroredStrategy` over this machine's GPUs, or over its logical
  CPU devices when it has no GPU and several are configured; one replica per device.
- `multi_worker`: `tf.distribute.MultiWorkerMirroredStrategy` over the processes that the
  `TF_CONFIG` environment variable describes (one per machine or container; see
  `serving/kubernetes/` for a Job that sets it).
- `parameter_server`: refused. Its workers run the step through a `ClusterCoordinator` that
  schedules single steps as remote functions; tfgan's train loop runs blocks of steps under
  `strategy.run` and its "every N steps" callbacks need each step's results in order, which
  that API does not give.

The train loop (`tfgan.training_loop`) is tfgan's own, not Keras's `fit`, so the strategy's
`run`, `experimental_distribute_dataset` and reductions are used directly: `fit` under
`MultiWorkerMirroredStrategy` has open Keras 3 bugs (keras-team/keras#20585, #20164).

Only the chief writes the run directory (`is_chief`); the other workers save their share of
each checkpoint, which `MultiWorkerMirroredStrategy` needs from every worker, in a directory
of their own (`worker_checkpoint_dir`), as TensorFlow's multi-worker guide does.
"""

import json
import os
import tempfile

import tensorflow as tf

STRATEGIES = ("default", "mirrored", "multi_worker", "parameter_server")


class StrategyError(ValueError):
    """A strategy that cannot be made here; the message says why and what to do."""


def make_strategy(name):
    """The `tf.distribute.Strategy` that `name` picks.

    Args:
        name: str, one of `STRATEGIES`.

    Returns:
        a `tf.distribute.Strategy`.

    Raises:
        StrategyError: for an unknown name, `parameter_server`, or `multi_worker` without a
            valid `TF_CONFIG`.
    """
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        devices = None
        if not tf.config.list_logical_devices("GPU"):
            cpus = tf.config.list_logical_devices("CPU")
            devices = [device.name for device in cpus] if len(cpus) > 1 else None
        return tf.distribute.MirroredStrategy(devices)
    if name == "multi_worker":
        tf_config = read_tf_config()
        if not tf_config.get("cluster") or "task" not in tf_config:
            raise StrategyError(
                "--strategy=multi_worker needs the TF_CONFIG environment variable: "
                '{"cluster": {"worker": ["host:port", ...]}, "task": {"type": "worker", '
                '"index": i}}')
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name == "parameter_server":
        raise StrategyError(
            "--strategy=parameter_server is not supported: its ClusterCoordinator runs single "
            "steps remotely, and tfgan's train loop needs each block of steps and its callbacks "
            "in order; use --strategy=multi_worker")
    raise StrategyError(f"--strategy must be one of {', '.join(STRATEGIES)}; got {name!r}")


def read_tf_config(environ=None):
    """The parsed `TF_CONFIG` (an empty dict when unset).

    Raises:
        StrategyError: if it is set but is not a JSON object.
    """
    text = (os.environ if environ is None else environ).get("TF_CONFIG", "")
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise StrategyError(f"TF_CONFIG is not JSON: {error}") from None
    if not isinstance(value, dict):
        raise StrategyError(f"TF_CONFIG must be a JSON object; got {text!r}")
    return value


def is_chief(tf_config):
    """Whether this process writes the run directory.

    The task of type `chief`, or worker 0 of a cluster without a chief; a process without a
    cluster (no `TF_CONFIG`) is its own chief.

    Args:
        tf_config: dict, as `read_tf_config` returns it.
    """
    task = tf_config.get("task")
    if not task:
        return True
    if task.get("type") == "chief":
        return True
    return (task.get("type") == "worker" and int(task.get("index", 0)) == 0
            and "chief" not in tf_config.get("cluster", {}))


def worker_checkpoint_dir(checkpoint_dir, tf_config):
    """Where this process saves checkpoints: the run's directory on the chief, else a
    temporary directory of this worker's own (written because every worker must take part
    in a save, then ignored)."""
    if is_chief(tf_config):
        return checkpoint_dir
    task = tf_config["task"]
    return os.path.join(tempfile.gettempdir(),
                        f"tfgan-{task['type']}-{task.get('index', 0)}-checkpoints")
