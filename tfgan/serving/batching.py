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

from tfgan.serving.configs import BatchingParameters, read_text_proto
from tfgan.serving.errors import ServingError

_log = logging.getLogger("tfgan.serving")


@dataclasses.dataclass(frozen=True)
class BatchingOptions:
    """How requests are batched: the `BatchingParameters` fields, the stock defaults. A
    request of more than `max_batch_size` rows is refused, and so are requests past
    `max_enqueued_batches` queued (UNAVAILABLE); a batch is padded with copies of its first row
    to the next of `allowed_batch_sizes` (increasing, ending in `max_batch_size`)."""

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
        return next((size for size in self.allowed_batch_sizes if size >= rows), rows)


def read_batching_parameters(path):
    """`BatchingOptions` from a `BatchingParameters` text proto (`--batching_parameters_file`);
    ValueError if it does not read or parse, or holds invalid values."""
    return BatchingOptions.from_proto(read_text_proto(path, BatchingParameters()))


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
    """One request waiting in a queue; `done` is set once it has `outputs` or an `error`."""

    def __init__(self, key, inputs, rows, deadline, enqueued_at):
        self.key = key  # (loaded version, signature name): its queue
        self.inputs = inputs
        self.rows = rows
        self.deadline = deadline  # clock time past which its caller no longer waits, or None
        self.enqueued_at = enqueued_at
        self.shape_key = tuple(
            sorted((name, value.dtype.str, value.shape[1:]) for name, value in inputs.items())
        )
        self.done = threading.Event()
        self.outputs = None
        self.error = None

    def finish(self, outputs=None, error=None):
        self.outputs, self.error = outputs, error
        self.done.set()


class Batcher:
    """Gathers concurrent requests on batchable signatures into single calls.

    Args:
        options: `BatchingOptions`. Defaults to the stock server's defaults.
        clock: callable returning seconds, the time of timeouts and deadlines.
        background: bool, run batches on `options.num_batch_threads` threads of its own;
            False leaves that to calls of `run_ready_batch` (tests).
    """

    def __init__(self, options=None, clock=time.monotonic, background=True):
        self.options = options or BatchingOptions()
        self._clock = clock
        self._cond = threading.Condition()
        self._queues = {}  # (loaded version, signature name) -> deque of _Task
        self._closed = False
        self._threads = [
            threading.Thread(target=self._work, name=f"tfgan-batch-{i}", daemon=True)
            for i in range(self.options.num_batch_threads if background else 0)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, loaded, signature_name, inputs, deadline=None):
        """Queues one request on `loaded`'s signature and returns the task at once (`done` is
        set once it has `outputs` or an `error`). A task still queued at `deadline` (clock
        time; its caller no longer waits) is dropped, not run.

        Raises:
            ServingError: INVALID_ARGUMENT for a scalar input, inputs without a common leading
                dimension or with more rows than `max_batch_size`; DEADLINE_EXCEEDED past its
                deadline; UNAVAILABLE when the queue is full or the batcher closed.
        """
        rows = _task_rows(inputs)
        max_rows = self.options.max_batch_size
        if rows > max_rows:
            raise ServingError.invalid_argument(
                f"Task size {rows} is larger than maximum input batch size {max_rows}"
            )
        now = self._clock()
        if deadline is not None and now >= deadline:
            raise _deadline_error()
        task = _Task((loaded, signature_name), inputs, rows, deadline, now)
        with self._cond:
            if self._closed:
                raise ServingError.unavailable("The batch scheduler is shutting down")
            queue = self._queues.setdefault(task.key, collections.deque())
            if sum(t.rows for t in queue) + rows > self.options.max_enqueued_batches * max_rows:
                raise ServingError.unavailable(
                    "The batch scheduling queue to which this task was submitted is full"
                )
            queue.append(task)
            self._cond.notify()
        return task

    def run(self, loaded, signature_name, inputs, deadline=None):
        """Runs one request, batched with others: `submit`, then its rows of the batch's
        outputs, or DEADLINE_EXCEEDED if the deadline passes while it is queued, or the error
        of its batch."""
        task = self.submit(loaded, signature_name, inputs, deadline)
        wait = None if deadline is None else max(0.0, deadline - self._clock())
        if not task.done.wait(wait):
            with self._cond:
                queue = self._queues.get(task.key, ())
                if task in queue:  # not started: its caller has given up, drop it
                    queue.remove(task)
                    raise _deadline_error()
            task.done.wait()  # running: its batch answers soon
        if task.error is not None:
            raise ServingError(task.error.code, task.error.message)  # one instance per caller
        return task.outputs

    def run_ready_batch(self):
        """Runs one batch that is ready at the clock's time, on this thread; returns None if
        one ran, tasks were dropped or nothing is queued, else the seconds until one may be
        ready."""
        with self._cond:
            picked, wait = self._take_batch(self._clock())
        if picked is not None:
            self._execute(*picked)
        return wait

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
                    picked, wait = self._take_batch(self._clock())
                    if picked is not None:
                        break
                    if self._closed and wait is None:
                        return
                    self._cond.wait(wait)
            self._execute(*picked)

    def _take_batch(self, now):
        """A ready batch as ((loaded, signature name), tasks), else (None, seconds until one
        may be ready, or None when nothing is queued). Drops tasks past their deadline."""
        timeout = self.options.batch_timeout_micros / 1e6
        max_rows = self.options.max_batch_size
        wait = None
        for key, queue in list(self._queues.items()):
            for task in [t for t in queue if t.deadline is not None and now >= t.deadline]:
                queue.remove(task)  # its caller has given up: never run it
                task.finish(error=_deadline_error())
            if not queue:
                del self._queues[key]
                continue
            ready_at = queue[0].enqueued_at + timeout
            if sum(t.rows for t in queue) < max_rows and now < ready_at and not self._closed:
                wait = ready_at - now if wait is None else min(wait, ready_at - now)
                continue
            shape_key, rows, tasks = queue[0].shape_key, 0, []
            for task in list(queue):
                if task.shape_key == shape_key and rows + task.rows <= max_rows:
                    queue.remove(task)
                    tasks.append(task)
                    rows += task.rows
            return (key, tasks), None
        return None, wait

    def _execute(self, key, tasks):
        (loaded, signature_name), rows = key, sum(task.rows for task in tasks)
        size = self.options.padded_size(rows) if rows else 0
        try:
            merged = {}
            for name in tasks[0].inputs:
                value = np.concatenate([task.inputs[name] for task in tasks])
                if size > rows:
                    value = np.concatenate([value, np.repeat(value[:1], size - rows, axis=0)])
                merged[name] = value
            outputs = loaded.run(signature_name, merged)
            for value in outputs.values():
                if value.ndim == 0 or value.shape[0] != size:
                    raise ServingError.internal(
                        "Batched output tensor's 0th dimension does not equal the sum of the"
                        " 0th dimension sizes of the input tensors"
                    )
            offset = 0
            for task in tasks:
                task.finish({name: value[offset:offset + task.rows]
                             for name, value in outputs.items()})
                offset += task.rows
        except Exception as error:  # noqa: BLE001 - every waiting request must be answered
            if not isinstance(error, ServingError):
                _log.exception("a batch failed")
                error = ServingError.internal(str(error))
            for task in tasks:
                task.finish(error=error)
