"""Server-side batching: concurrent predict requests on one signature run as one call.

As the stock server's `--enable_batching`, tasks wait in a queue per (version, signature);
batch threads take up to `max_batch_size` rows of them, at once when the queue is full or when
its oldest task has waited `batch_timeout_micros`, concatenate their inputs along dimension 0,
run the signature once and split every output back by rows. With a timeout of 0 a request
runs as soon as a batch thread is free, and requests that arrive meanwhile are batched.

As in the stock server, batching applies to every signature: a request with a scalar input
(tfgan's `sample` and `sample_png` take `num_samples` and `seed`) is refused with the stock
batching session's error, "Batching Run() input tensors must have at least one dimension", and
so is a batch whose outputs do not have one row per input row. Serve such signatures from a
server with batching off (`export_generator(..., batchable_only=True)` leaves them out).

Parameters come from a `BatchingParameters` text proto (`--batching_parameters_file`):
`max_batch_size { value: 128 } batch_timeout_micros { value: 1000 } ...`.
"""

import collections
import dataclasses
import logging
import os
import threading
import time

import numpy as np

from tfgan.serving.core import BatchingParameters, ServingError, read_text_proto

_log = logging.getLogger("tfgan.serving")


@dataclasses.dataclass(frozen=True)
class BatchingOptions:
    """How requests are batched; the defaults are the stock server's.

    Args:
        max_batch_size: int, most rows in one batch; a request with more rows is refused.
            Defaults to `1000`.
        batch_timeout_micros: int, how long the oldest queued task may wait for others.
            Defaults to `0`.
        max_enqueued_batches: int, queue length (in batches) past which requests are refused
            with UNAVAILABLE. Defaults to `10`.
        num_batch_threads: int, batches that may run at the same time. Defaults to the
            number of CPUs.
        allowed_batch_sizes: tuple of int, increasing, ending in `max_batch_size`; a batch is
            padded (with copies of its first row) to the next allowed size. Defaults to `()`.

    Raises:
        ValueError: for a non-positive size or thread count, a negative timeout, or allowed
            sizes that do not increase to `max_batch_size`.
    """

    max_batch_size: int = 1000
    batch_timeout_micros: int = 0
    max_enqueued_batches: int = 10
    num_batch_threads: int = dataclasses.field(default_factory=lambda: os.cpu_count() or 1)
    allowed_batch_sizes: tuple = ()

    def __post_init__(self):
        for name in ("max_batch_size", "max_enqueued_batches", "num_batch_threads"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1. Received: {name}={getattr(self, name)}")
        if self.batch_timeout_micros < 0:
            raise ValueError(
                "batch_timeout_micros must be >= 0. "
                f"Received: batch_timeout_micros={self.batch_timeout_micros}"
            )
        sizes = tuple(self.allowed_batch_sizes)
        if sizes:
            if list(sizes) != sorted(set(sizes)) or sizes[0] < 1:
                raise ValueError(
                    "allowed_batch_sizes must be positive and increasing. "
                    f"Received: allowed_batch_sizes={list(sizes)}"
                )
            if sizes[-1] != self.max_batch_size:
                raise ValueError(
                    "Last entry in allowed_batch_sizes must match max_batch_size; last entry"
                    f" was {sizes[-1]}; expected {self.max_batch_size}. "
                    f"Received: allowed_batch_sizes={list(sizes)}"
                )
        object.__setattr__(self, "allowed_batch_sizes", sizes)

    @classmethod
    def from_proto(cls, params):
        """Options from a `BatchingParameters` message; unset fields keep their defaults."""
        values = {}
        for name in ("max_batch_size", "batch_timeout_micros", "max_enqueued_batches",
                     "num_batch_threads"):
            if params.HasField(name):
                values[name] = getattr(params, name).value
        if params.allowed_batch_sizes:
            values["allowed_batch_sizes"] = tuple(params.allowed_batch_sizes)
        return cls(**values)

    def padded_size(self, rows):
        """The batch size `rows` rows are padded to."""
        for size in self.allowed_batch_sizes:
            if size >= rows:
                return size
        return rows


def read_batching_parameters(path):
    """Reads a `BatchingParameters` text proto (`--batching_parameters_file`).

    Args:
        path: str, the file.

    Returns:
        `BatchingOptions`.

    Raises:
        ValueError: if the file cannot be read or parsed, or holds invalid values.
    """
    return BatchingOptions.from_proto(read_text_proto(path, BatchingParameters()))


def _has_batch_dimension(info):
    shape = info.tensor_shape
    return not shape.unknown_rank and len(shape.dim) >= 1 and shape.dim[0].size == -1


def is_batchable(signature_def):
    """True if every input and output of a SignatureDef has an unknown leading dimension."""
    return bool(signature_def.inputs) and all(
        _has_batch_dimension(info)
        for info in (*signature_def.inputs.values(), *signature_def.outputs.values())
    )


def _task_rows(inputs):
    """The rows of one request, or the stock batching session's error."""
    rows = None
    for value in inputs.values():
        if value.ndim == 0:
            raise ServingError.invalid_argument(
                "Batching Run() input tensors must have at least one dimension"
            )
        if rows is not None and value.shape[0] != rows:
            raise ServingError.invalid_argument(
                "Batching Run() input tensors must have equal 0th-dimension size"
            )
        rows = value.shape[0]
    return rows


def _deadline_error():
    return ServingError.deadline_exceeded("Deadline exceeded before the request was run")


class _Task:
    """One request waiting in a queue."""

    def __init__(self, inputs, rows, deadline=None):
        self.inputs = inputs
        self.rows = rows
        self.deadline = deadline  # time.monotonic() seconds; None waits as long as it takes
        self.shape_key = tuple(
            sorted((name, value.dtype.str, value.shape[1:]) for name, value in inputs.items())
        )
        self.enqueued_at = time.monotonic()
        self.done = threading.Event()
        self.outputs = None
        self.error = None


class _Queue:
    """The waiting tasks of one signature of one loaded version."""

    def __init__(self, loaded, signature_name):
        self.loaded = loaded
        self.signature_name = signature_name
        self.tasks = collections.deque()
        self.rows = 0


class Batcher:
    """Gathers concurrent requests on batchable signatures into single calls.

    Args:
        options: `BatchingOptions`. Defaults to the stock server's defaults.

    Example:

    ```python
    batcher = Batcher(BatchingOptions(max_batch_size=64, batch_timeout_micros=2000))
    registry = ModelRegistry(config, batcher=batcher)
    ```
    """

    def __init__(self, options=None):
        self.options = options or BatchingOptions()
        self._cond = threading.Condition()
        self._queues = {}
        self._closed = False
        self._threads = [
            threading.Thread(target=self._work, name=f"tfgan-batch-{i}", daemon=True)
            for i in range(self.options.num_batch_threads)
        ]
        for thread in self._threads:
            thread.start()

    def run(self, loaded, signature_name, inputs, deadline=None):
        """Runs one request, batched with others when its signature allows.

        Args:
            loaded: `LoadedVersion` to run on.
            signature_name: str, a signature of `loaded`.
            inputs: dict of input alias -> numpy array.
            deadline: float or None, a `time.monotonic()` time after which the request's
                caller no longer waits: a task still queued then is dropped, not run.
                Defaults to None.

        Returns:
            dict of output alias -> numpy array, this request's rows only.

        Raises:
            ServingError: INVALID_ARGUMENT for a scalar input, inputs without a common leading
                dimension or with more rows than `max_batch_size`, UNAVAILABLE when the queue is full, or
                the error of the batch the request ran in.
        """
        rows = _task_rows(inputs)
        if rows > self.options.max_batch_size:
            raise ServingError.invalid_argument(
                f"Task size {rows} is larger than maximum input batch size"
                f" {self.options.max_batch_size}"
            )
        if deadline is not None and time.monotonic() >= deadline:
            raise _deadline_error()
        task = _Task(inputs, rows, deadline)
        key = (id(loaded), signature_name)
        with self._cond:
            if self._closed:
                raise ServingError.unavailable("The batch scheduler is shutting down")
            queue = self._queues.get(key)
            if queue is None:
                queue = self._queues[key] = _Queue(loaded, signature_name)
            limit = self.options.max_enqueued_batches * self.options.max_batch_size
            if queue.rows + rows > limit:
                raise ServingError.unavailable(
                    "The batch scheduling queue to which this task was submitted is full"
                )
            queue.tasks.append(task)
            queue.rows += rows
            self._cond.notify_all()
        if not task.done.wait(None if deadline is None else deadline - time.monotonic()):
            with self._cond:
                queue = self._queues.get(key)
                if queue is not None and task in queue.tasks:  # not started: drop it
                    queue.tasks.remove(task)
                    queue.rows -= task.rows
                    raise _deadline_error()
            task.done.wait()  # running: its batch answers soon
        if task.error is not None:
            raise ServingError(task.error.code, task.error.message)  # one instance per thread
        return task.outputs

    def close(self):
        """Runs what is queued, then stops the batch threads."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        for thread in self._threads:
            thread.join()

    def _work(self):
        while True:
            with self._cond:
                while True:
                    picked, wait = self._take_batch()
                    if picked is not None:
                        break
                    if self._closed and wait is None:
                        return
                    self._cond.wait(wait)
            self._execute(*picked)

    def _take_batch(self):
        """A ready batch as (queue, tasks), else (None, seconds until one may be ready)."""
        now = time.monotonic()
        timeout = self.options.batch_timeout_micros / 1e6
        max_rows = self.options.max_batch_size
        wait = None
        for key, queue in list(self._queues.items()):
            if not queue.tasks:
                del self._queues[key]
                continue
            deadline = queue.tasks[0].enqueued_at + timeout
            if queue.rows < max_rows and now < deadline and not self._closed:
                wait = deadline - now if wait is None else min(wait, deadline - now)
                continue
            shape_key, rows, tasks, kept = queue.tasks[0].shape_key, 0, [], []
            while queue.tasks:
                task = queue.tasks.popleft()
                if task.deadline is not None and now >= task.deadline:
                    queue.rows -= task.rows  # its caller has given up: never run it
                    task.error = _deadline_error()
                    task.done.set()
                elif task.shape_key == shape_key and rows + task.rows <= max_rows:
                    tasks.append(task)
                    rows += task.rows
                else:
                    kept.append(task)
            queue.tasks.extend(kept)
            queue.rows -= rows
            if not tasks:
                continue
            return (queue, tasks), None
        return None, wait

    def _execute(self, queue, tasks):
        rows = sum(task.rows for task in tasks)
        size = self.options.padded_size(rows) if rows else 0
        try:
            merged = {}
            for name in tasks[0].inputs:
                value = np.concatenate([task.inputs[name] for task in tasks])
                if size > rows:
                    value = np.concatenate([value, np.repeat(value[:1], size - rows, axis=0)])
                merged[name] = value
            deadlines = [task.deadline for task in tasks]
            # Cancelled only once every caller in the batch has given up.
            deadline = None if None in deadlines else max(deadlines)
            outputs = queue.loaded.run(queue.signature_name, merged, deadline)
            for value in outputs.values():
                if value.ndim == 0 or value.shape[0] != size:
                    raise ServingError.internal(
                        "Batched output tensor's 0th dimension does not equal the sum of the"
                        " 0th dimension sizes of the input tensors"
                    )
            offset = 0
            for task in tasks:
                task.outputs = {
                    name: value[offset : offset + task.rows] for name, value in outputs.items()
                }
                offset += task.rows
        except ServingError as error:
            for task in tasks:
                task.error = error
        except Exception as error:  # noqa: BLE001 - every waiting request must be answered
            _log.exception("a batch failed")
            for task in tasks:
                task.error = ServingError.internal(str(error))
        finally:
            for task in tasks:
                task.done.set()
