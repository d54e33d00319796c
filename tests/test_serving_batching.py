"""tfgan.serving.batching: concurrent requests become one call, and results split back.

The batcher's clock is injected and its batches are run by the test (`run_ready_batch`):
nothing here sleeps or depends on when threads arrive.
"""

import threading

import numpy as np
import pytest
from tensorflow.core.framework import types_pb2
from tensorflow.core.protobuf import error_codes_pb2 as codes
from tensorflow.core.protobuf import meta_graph_pb2
from tensorflow_serving.apis import model_pb2

from serving_fixtures import (
    MODEL_NAME,
    build_networks,
    exported_model,
    install_version,
    model_config,
)
from tfgan.serving import core, versions
from tfgan.serving.batching import Batcher, BatchingOptions, read_batching_parameters
from tfgan.serving.errors import ServingError


def tensor_info(*dims, dtype=types_pb2.DT_FLOAT):
    info = meta_graph_pb2.TensorInfo(dtype=dtype)
    for size in dims:
        info.tensor_shape.dim.add(size=size)
    return info


def signature(inputs, outputs):
    result = meta_graph_pb2.SignatureDef()
    for name, info in inputs.items():
        result.inputs[name].CopyFrom(info)
    for name, info in outputs.items():
        result.outputs[name].CopyFrom(info)
    return result


class FakeVersion:
    """Stands in for a `LoadedVersion`: `double` returns 2x and the batch size of each row."""

    def __init__(self, fail=False):
        self.calls = []
        self.fail = fail

    def run(self, signature_name, inputs):
        self.calls.append((signature_name, {k: v.shape for k, v in inputs.items()}))
        if self.fail:
            raise ServingError.invalid_argument("the graph failed")
        rows = len(inputs["x"])
        return {"y": inputs["x"] * 2, "size": np.full(rows, rows)}


class Clock:
    """A clock the test sets; each reading advances it by `step`."""

    def __init__(self, step=0.0):
        self.now = 0.0
        self.step = step

    def __call__(self):
        self.now += self.step
        return self.now


def rows(count, start=0.0):
    return {"x": np.arange(start, start + 2 * count, dtype=np.float32).reshape(count, 2)}


@pytest.fixture()
def make_batcher():
    """A batcher without threads of its own: the test runs its batches (`run_ready_batch`)."""

    def make(clock=None, **options):
        return Batcher(BatchingOptions(num_batch_threads=1, **options), clock=clock or Clock(),
                       background=False)

    return make


# ---- options ----------------------------------------------------------------------------------


def test_batching_parameters_file(tmp_path):
    path = tmp_path / "batching.config"
    path.write_text("max_batch_size { value: 8 } batch_timeout_micros { value: 1000 }"
                    " num_batch_threads { value: 2 } allowed_batch_sizes: 4"
                    " allowed_batch_sizes: 8")
    assert read_batching_parameters(str(path)) == BatchingOptions(
        max_batch_size=8, batch_timeout_micros=1000, num_batch_threads=2,
        allowed_batch_sizes=(4, 8))
    path.write_text("max_batch_size: 8")
    with pytest.raises(ValueError,
                       match="Error parsing text-format tensorflow.serving.BatchingParameters"):
        read_batching_parameters(str(path))


@pytest.mark.parametrize("options, message", [
    ({"max_batch_size": 0}, "max_batch_size must be >= 1. Received: max_batch_size=0"),
    ({"batch_timeout_micros": -1}, "batch_timeout_micros must be >= 0."),
    ({"max_batch_size": 8, "allowed_batch_sizes": (4, 6)},
     "Last entry in allowed_batch_sizes must match max_batch_size; last entry was 6; expected 8"),
    ({"max_batch_size": 8, "allowed_batch_sizes": (4, 2, 8)},
     "allowed_batch_sizes must be positive and increasing."),
])
def test_invalid_options(options, message):
    with pytest.raises(ValueError, match=message):
        BatchingOptions(**options)


# ---- the batcher ------------------------------------------------------------------------------


def test_queued_requests_become_one_call_once_the_oldest_has_waited_the_timeout(make_batcher):
    clock = Clock()
    batcher = make_batcher(clock, max_batch_size=16, batch_timeout_micros=1000)
    version = FakeVersion()
    requests = [rows(count, start=10 * i) for i, count in enumerate([1, 3, 2, 1, 2])]
    tasks = [batcher.submit(version, "double", request) for request in requests]
    assert batcher.run_ready_batch() == pytest.approx(0.001)  # not yet: the time left
    assert version.calls == []
    clock.now = 0.001
    assert batcher.run_ready_batch() is None
    assert version.calls == [("double", {"x": (9, 2)})]
    for request, task in zip(requests, tasks):
        assert task.done.is_set() and task.error is None
        np.testing.assert_array_equal(task.outputs["y"], request["x"] * 2)
        np.testing.assert_array_equal(task.outputs["size"], [9] * len(request["x"]))


def test_a_full_batch_does_not_wait_for_the_timeout(make_batcher):
    batcher = make_batcher(max_batch_size=4, batch_timeout_micros=30_000_000)
    version = FakeVersion()
    first, second = (batcher.submit(version, "double", rows(2, start=s)) for s in (0, 4))
    batcher.run_ready_batch()
    assert version.calls == [("double", {"x": (4, 2)})]
    np.testing.assert_array_equal(second.outputs["y"], rows(2, start=4)["x"] * 2)


def test_batches_are_padded_to_allowed_sizes(make_batcher):
    batcher = make_batcher(max_batch_size=8, allowed_batch_sizes=(4, 8))
    version = FakeVersion()
    task = batcher.submit(version, "double", rows(3))
    batcher.run_ready_batch()
    assert version.calls == [("double", {"x": (4, 2)})]
    np.testing.assert_array_equal(task.outputs["y"], rows(3)["x"] * 2)
    np.testing.assert_array_equal(task.outputs["size"], [4, 4, 4])


def test_requests_of_other_shapes_run_in_their_own_batch(make_batcher):
    batcher = make_batcher(max_batch_size=16)
    version = FakeVersion()
    wide = {"x": np.ones((2, 3), np.float32)}
    tasks = [batcher.submit(version, "double", request) for request in (rows(1), wide, rows(2))]
    batcher.run_ready_batch()
    batcher.run_ready_batch()
    assert version.calls == [("double", {"x": (3, 2)}), ("double", {"x": (2, 3)})]
    np.testing.assert_array_equal(tasks[1].outputs["y"], wide["x"] * 2)
    assert batcher.run_ready_batch() is None  # nothing left


@pytest.mark.parametrize("inputs, message", [
    (rows(5), "Task size 5 is larger than maximum input batch size 4"),
    ({"x": np.float32(1)}, "Batching Run() input tensors must have at least one dimension"),
    ({"x": np.ones((2, 2)), "n": np.ones(3)},
     "Batching Run() input tensors must have equal 0th-dimension size"),
])
def test_refused_requests(make_batcher, inputs, message):
    # Scalar inputs (tfgan's `sample` signature) are refused as the stock batching session does.
    batcher = make_batcher(max_batch_size=4)
    with pytest.raises(ServingError) as caught:
        batcher.submit(FakeVersion(), "double", inputs)
    assert (caught.value.code, caught.value.message) == (codes.INVALID_ARGUMENT, message)


def test_an_error_reaches_every_request_of_the_batch(make_batcher):
    batcher = make_batcher(max_batch_size=16)
    version = FakeVersion(fail=True)
    tasks = [batcher.submit(version, "double", rows(n)) for n in (1, 2)]
    batcher.run_ready_batch()
    assert len(version.calls) == 1
    assert [task.error.message for task in tasks] == ["the graph failed"] * 2


def test_a_full_queue_refuses_with_unavailable(make_batcher):
    batcher = make_batcher(max_batch_size=2, max_enqueued_batches=1)
    version = FakeVersion()
    batcher.submit(version, "double", rows(2))
    with pytest.raises(ServingError) as caught:
        batcher.submit(version, "double", rows(1))
    assert caught.value.code == codes.UNAVAILABLE
    assert caught.value.message == (
        "The batch scheduling queue to which this task was submitted is full")


def test_work_past_its_deadline_is_not_run(make_batcher):
    clock = Clock()
    clock.now = 10.0
    batcher = make_batcher(clock, max_batch_size=4)
    with pytest.raises(ServingError) as caught:
        batcher.submit(FakeVersion(), "double", rows(1), deadline=9.0)
    assert caught.value.code == codes.DEADLINE_EXCEEDED


def test_a_queued_request_whose_caller_gave_up_is_dropped(make_batcher):
    clock = Clock()
    batcher = make_batcher(clock, max_batch_size=4, batch_timeout_micros=30_000_000)
    version = FakeVersion()
    task = batcher.submit(version, "double", rows(1), deadline=5.0)
    clock.now = 5.0
    batcher.run_ready_batch()
    assert task.error.code == codes.DEADLINE_EXCEEDED
    assert version.calls == []  # the dropped request never ran


def test_a_caller_whose_deadline_passes_while_queued_gets_deadline_exceeded(make_batcher):
    batcher = make_batcher(Clock(step=10.0), max_batch_size=4)  # 10 s pass per reading
    version = FakeVersion()
    with pytest.raises(ServingError) as caught:
        batcher.run(version, "double", rows(1), deadline=15.0)  # queued at 10, waits at 20
    assert caught.value.code == codes.DEADLINE_EXCEEDED
    assert batcher.run_ready_batch() is None and version.calls == []  # no longer queued


# ---- through the registry, on a real model -----------------------------------------------------


def test_batched_predictions_match_unbatched_ones(tmp_path, tmp_path_factory, monkeypatch):
    base = tmp_path / MODEL_NAME
    install_version(exported_model(tmp_path_factory, 1), base, 1)
    calls = []
    real_run = versions.LoadedVersion.run

    def counting_run(self, signature_name, inputs):
        calls.append((signature_name, {name: value.shape for name, value in inputs.items()}))
        return real_run(self, signature_name, inputs)

    monkeypatch.setattr(versions.LoadedVersion, "run", counting_run)
    # The batch runs once all 13 rows are queued (full), whenever the threads arrive: the
    # timeout (an hour) never decides it.
    batcher = Batcher(BatchingOptions(max_batch_size=13, batch_timeout_micros=3_600_000_000,
                                      num_batch_threads=1))
    registry = core.ModelRegistry(model_config(base), file_system_poll_wait_seconds=-1,
                                  batcher=batcher)
    registry.start()
    calls.clear()  # the warm-up's calls, one per signature
    rng = np.random.default_rng(0)
    requests = [rng.normal(size=(n, 3)).astype(np.float32) for n in (1, 2, 3, 1, 2, 4)]
    results = [None] * len(requests)
    barrier = threading.Barrier(len(requests))

    def call(index):
        barrier.wait()
        spec = model_pb2.ModelSpec(name=MODEL_NAME)
        results[index] = registry.predict(spec, {"z": requests[index]}).outputs["samples"]

    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    scalar_spec = model_pb2.ModelSpec(name=MODEL_NAME, signature_name="sample")
    with pytest.raises(ServingError) as caught:  # as the stock server's batching session
        registry.predict(scalar_spec, {"num_samples": np.int32(2), "seed": np.int64(1)})
    assert caught.value.message == "Batching Run() input tensors must have at least one dimension"
    batcher.close()
    assert calls == [("serving_default", {"z": (13, 3)})]
    generator, _ = build_networks(1)
    for request, result in zip(requests, results):
        np.testing.assert_allclose(result, generator(request).numpy(), rtol=1e-5, atol=1e-6)
