"""tfgan.serving.cancellation: a running signature call stops when its caller gives up."""

import threading
import time

import numpy as np
import pytest
import tensorflow as tf
from tensorflow.core.protobuf import error_codes_pb2 as codes

from tfgan.serving import cancellation
from tfgan.serving.errors import ServingError
from tfgan.serving.versions import LoadedVersion

FAR = 1e9  # a deadline the watcher's own thread never reaches: tests cancel by hand
ENDLESS = 10**12  # loop steps: hours of work, so a call that ends was cancelled


class Spinner(tf.Module):
    """`spin(steps)`: counts `steps` loop iterations in `iterations`; returns the count."""

    def __init__(self):
        super().__init__()
        self.iterations = tf.Variable(0, dtype=tf.int64)

    @tf.function(input_signature=[tf.TensorSpec([], tf.int64, name="steps")])
    def spin(self, steps):
        def body(i):
            self.iterations.assign_add(1)
            return i + 1

        done = tf.while_loop(lambda i: i < steps, body, [tf.constant(0, tf.int64)])[0]
        return {"done": done}


class FakeManager:
    def __init__(self):
        self.cancelled = False

    def start_cancel(self):
        self.cancelled = True


def wait_until(condition):
    while not condition():  # an event polled, not a time bound: the call is running
        time.sleep(0.005)


def start(function, *args, **kwargs):
    """Runs `function` in a thread; returns the thread and a dict that gets its outcome."""
    outcome = {}

    def target():
        try:
            outcome["value"] = function(*args, **kwargs)
        except Exception as error:  # noqa: BLE001 - the test inspects it
            outcome["error"] = error

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, outcome


def test_the_watcher_cancels_what_has_expired_and_nothing_else():
    now = [100.0]
    watcher = cancellation.DeadlineWatcher(clock=lambda: now[0])
    early, late, ended = FakeManager(), FakeManager(), FakeManager()
    watcher.watch(FAR + 10, early)
    watcher.watch(FAR + 20, late)
    watcher.forget(watcher.watch(FAR + 5, ended))
    assert watcher.cancel_expired(FAR + 10) == (1, FAR + 20)
    assert (early.cancelled, late.cancelled, ended.cancelled) == (True, False, False)
    assert watcher.cancel_expired(FAR + 30) == (1, None)
    assert late.cancelled and not ended.cancelled


def test_the_watcher_thread_is_woken_only_by_a_new_earliest_deadline():
    watcher = cancellation.DeadlineWatcher(clock=lambda: 0.0)
    wakeups = []
    notify = watcher._changed.notify
    watcher._changed.notify = lambda: (wakeups.append(True), notify())
    watcher.watch(FAR + 10, FakeManager())
    watcher.watch(FAR + 20, FakeManager())  # later: the thread's wait is still right
    assert len(wakeups) == 1
    watcher.watch(FAR + 5, FakeManager())
    assert len(wakeups) == 2


def test_a_running_call_is_cancelled_and_others_run_on():
    spinner = Spinner()
    other = Spinner()
    watcher = cancellation.DeadlineWatcher()
    cancelled_call, cancelled = start(cancellation.call_before, FAR, spinner.spin,
                                      tf.constant(ENDLESS, tf.int64), watcher=watcher)
    wait_until(lambda: int(spinner.iterations.numpy()) > 0)
    # Started while the first call runs, with no deadline: with one process-wide slot it
    # would run under the first call's manager and be cancelled with it.
    steps = 20_000
    running_call, running = start(cancellation.call_before, None, other.spin,
                                  tf.constant(steps, tf.int64), watcher=watcher)
    wait_until(lambda: int(other.iterations.numpy()) > 0)
    assert watcher.cancel_expired(FAR)[0] == 1
    cancelled_call.join(120)
    running_call.join(120)
    assert not cancelled_call.is_alive()
    assert isinstance(cancelled.get("error"), cancellation.DeadlineExceeded)
    assert int(running["value"]["done"]) == steps
    assert int(spinner.iterations.numpy()) < ENDLESS


def test_a_call_without_a_deadline_is_not_watched():
    spinner = Spinner()
    watcher = cancellation.DeadlineWatcher()
    assert int(cancellation.call_before(None, spinner.spin, tf.constant(3, tf.int64),
                                        watcher=watcher)["done"]) == 3
    assert watcher.cancel_expired(float("inf")) == (0, None)


@pytest.fixture(scope="module")
def spinner_version(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("spinner") / "1")
    module = Spinner()
    tf.saved_model.save(module, path, signatures={"spin": module.spin})
    return LoadedVersion("spinner", 1, path, warmup=False)


def test_a_served_signature_past_its_deadline_answers_deadline_exceeded(spinner_version):
    deadline = time.monotonic() + 3600
    call, outcome = start(spinner_version.run, "spin", {"steps": np.int64(ENDLESS)}, deadline)
    iterations = spinner_version._signatures.loaded.iterations
    wait_until(lambda: int(iterations.numpy()) > 0)
    cancellation.WATCHER.cancel_expired(deadline)  # as its thread does at that time
    call.join(120)
    assert not call.is_alive()
    error = outcome.get("error")
    assert isinstance(error, ServingError) and error.code == codes.DEADLINE_EXCEEDED
    assert "cancelled" in error.message
    assert int(spinner_version.run("spin", {"steps": np.int64(5)})["done"]) == 5  # it serves on


def test_a_failing_call_keeps_its_own_error():
    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.float32)])
    def square(x):
        return x @ x

    with pytest.raises(tf.errors.InvalidArgumentError):  # TensorFlow cancels a failed step
        cancellation.call_before(FAR, square, tf.zeros([2, 3]))
