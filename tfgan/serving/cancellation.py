"""Stopping a signature call that is still running when its caller gives up.

TensorFlow aborts a running function when the `CancellationManager` it runs under is
cancelled: the step ends with `CancelledError` at its next op, so a long graph (a loop, a
chain of layers) stops within one op of the cancel. The manager is read from one
process-wide slot (`tensorflow.python.eager.cancellation.context()`), which TensorFlow's
own `get_cancelable_function` fills for the length of a call, so two threads calling at
once would run under each other's managers. This module makes the slot per thread (the
process-wide one still answers threads that set none) and cancels each call when its
deadline passes:

    result = cancellation.call_before(deadline, function, **inputs)

raises `DeadlineExceeded` if the deadline (a `time.monotonic()` time) passes first.
"""

import heapq
import itertools
import threading
import time

from tensorflow.python.eager import cancellation as tf_cancellation

_thread = threading.local()
_process_wide_context = tf_cancellation.context


def _context():
    return getattr(_thread, "manager", None) or _process_wide_context()


tf_cancellation.context = _context


class DeadlineExceeded(Exception):
    """The call was cancelled because its deadline passed."""


class _Watch:
    """A watched call: its manager, and whether its deadline cancelled it."""

    __slots__ = ("manager", "expired")

    def __init__(self, manager):
        self.manager = manager
        self.expired = False  # a failing step also cancels its manager: this tells them apart


class DeadlineWatcher:
    """Cancels registered `CancellationManager`s when their deadlines pass.

    Args:
        clock: callable returning the current time in the deadlines' units; defaults to
            `time.monotonic`.
    """

    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._heap = []  # (deadline, sequence number, _Watch)
        self._sequence = itertools.count()
        self._changed = threading.Condition()
        self._thread = None

    def watch(self, deadline, manager):
        """Cancels `manager` at `deadline` unless `forget` is called first.

        Returns:
            the key to `forget` it by; `key[-1].expired` says whether the deadline cancelled it.
        """
        key = (deadline, next(self._sequence), _Watch(manager))
        with self._changed:
            heapq.heappush(self._heap, key)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="deadline-watcher", daemon=True
                )
                self._thread.start()
            if self._heap[0] is key:  # the thread sleeps until a later deadline otherwise
                self._changed.notify()
        return key

    def forget(self, key):
        """Stops watching the call registered as `key` (it ended)."""
        with self._changed:
            try:
                self._heap.remove(key)
            except ValueError:
                return  # already cancelled
            heapq.heapify(self._heap)

    def cancel_expired(self, now):
        """Cancels every watched call whose deadline is at or before `now`.

        Returns:
            (number of calls cancelled, the next deadline or None).
        """
        cancelled = 0
        with self._changed:
            while self._heap and self._heap[0][0] <= now:
                _, _, watch = heapq.heappop(self._heap)
                watch.expired = True
                watch.manager.start_cancel()
                cancelled += 1
            return cancelled, self._heap[0][0] if self._heap else None

    def _run(self):
        while True:
            _, next_deadline = self.cancel_expired(self._clock())
            with self._changed:
                if self._heap and self._heap[0][0] != next_deadline:
                    continue  # an earlier deadline arrived meanwhile
                self._changed.wait(
                    None if next_deadline is None else max(0.0, next_deadline - self._clock())
                )


WATCHER = DeadlineWatcher()


def call_before(deadline, function, *args, watcher=WATCHER, **kwargs):
    """Calls a TensorFlow function, cancelling it if `deadline` passes while it runs.

    Args:
        deadline: float `time.monotonic()` time, or None to run to the end.
        function: a `tf.function` / ConcreteFunction (e.g. a loaded signature).
        *args, **kwargs: its arguments.
        watcher: the `DeadlineWatcher` that cancels; defaults to the process's one.

    Returns:
        what `function` returns.

    Raises:
        DeadlineExceeded: the deadline passed before the call ended.
    """
    if deadline is None:
        return function(*args, **kwargs)
    manager = tf_cancellation.CancellationManager()
    key = watcher.watch(deadline, manager)
    previous = getattr(_thread, "manager", None)
    _thread.manager = manager
    try:
        return function(*args, **kwargs)
    except Exception:
        if key[-1].expired:
            raise DeadlineExceeded() from None
        raise
    finally:
        _thread.manager = previous
        watcher.forget(key)
