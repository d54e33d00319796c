"""tfgan.serving.batching: concurrent requests become one call, and results split back."""

import threading
import time

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
from tfgan.serving import core
from tfgan.serving.batching import Batcher, BatchingOptions, is_batchable, read_batching_parameters
from tfgan.serving.core import ServingError


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

    def __init__(self, gate=None, fail=False):
        self.signature_defs = {
            "double": signature({"x": tensor_info(-1, 2)},
                                {"y": tensor_info(-1, 2), "size": tensor_info(-1)}),
            "scalar": signature({"n": tensor_info()}, {"y": tensor_info(-1)}),
        }
        self.calls = []
        self.deadlines = []
        self.gate = gate
        self.fail = fail

    def run(self, signature_name, inputs, deadline=None):
        self.calls.append((signature_name, {k: v.shape for k, v in inputs.items()}))
        self.deadlines.append(deadline)
        if self.gate is not None:
            self.gate.wait()
        if self.fail:
            raise ServingError.invalid_argument("the graph failed")
        if signature_name == "scalar":
            return {"y": np.arange(int(inputs["n"]), dtype=np.float32)}
        rows = len(inputs["x"])
        return {"y": inputs["x"] * 2, "size": np.full(rows, rows)}


def run_together(batcher, version, requests, signature_name="double", deadlines=None):
    """Runs each request in its own thread, all released at once; returns results or errors."""
    barrier = threading.Barrier(len(requests))
    results = [None] * len(requests)
    deadlines = deadlines or [None] * len(requests)

    def call(index):
        barrier.wait()
        try:
            results[index] = batcher.run(version, signature_name, requests[index],
                                         deadline=deadlines[index])
        except ServingError as error:
            results[index] = error

    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def rows(count, start=0.0):
    return {"x": np.arange(start, start + 2 * count, dtype=np.float32).reshape(count, 2)}


@pytest.fixture()
def make_batcher():
    batchers = []

    def make(**options):
        options.setdefault("num_batch_threads", 1)
        batchers.append(Batcher(BatchingOptions(**options)))
        return batchers[-1]

    yield make
    for batcher in batchers:
        batcher.close()


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


def test_batchable_signatures_are_those_with_a_batch_dimension_everywhere(tmp_path_factory):
    signatures = core.read_signature_defs(str(exported_model(tmp_path_factory, 1)))
    assert {name: is_batchable(s) for name, s in signatures.items()
            if not name.startswith("__")} == {
        "serving_default": True, "sample_seeds": True, "discriminate": True,
        "sample": False, "sample_png": False}


# ---- the batcher ------------------------------------------------------------------------------


def test_concurrent_requests_become_one_call(make_batcher):
    batcher = make_batcher(max_batch_size=16, batch_timeout_micros=500_000)
    version = FakeVersion()
    requests = [rows(count, start=10 * i) for i, count in enumerate([1, 3, 2, 1, 2])]
    results = run_together(batcher, version, requests)
    assert version.calls == [("double", {"x": (9, 2)})]
    for request, result in zip(requests, results):
        np.testing.assert_array_equal(result["y"], request["x"] * 2)
        np.testing.assert_array_equal(result["size"], [9] * len(request["x"]))


def test_a_full_batch_does_not_wait_for_the_timeout(make_batcher):
    batcher = make_batcher(max_batch_size=4, batch_timeout_micros=30_000_000)
    version = FakeVersion()
    start = time.monotonic()
    results = run_together(batcher, version, [rows(2), rows(2, start=4)])
    assert time.monotonic() - start < 5
    assert version.calls == [("double", {"x": (4, 2)})]
    np.testing.assert_array_equal(results[1]["y"], rows(2, start=4)["x"] * 2)


def test_batches_are_padded_to_allowed_sizes(make_batcher):
    batcher = make_batcher(max_batch_size=8, allowed_batch_sizes=(4, 8))
    version = FakeVersion()
    result = batcher.run(version, "double", rows(3))
    assert version.calls == [("double", {"x": (4, 2)})]
    np.testing.assert_array_equal(result["y"], rows(3)["x"] * 2)
    np.testing.assert_array_equal(result["size"], [4, 4, 4])


def test_requests_of_other_shapes_run_in_their_own_batch(make_batcher):
    batcher = make_batcher(max_batch_size=16, batch_timeout_micros=300_000)
    version = FakeVersion()
    wide = {"x": np.ones((2, 3), np.float32)}
    results = run_together(batcher, version, [rows(1), wide, rows(2)])
    assert sorted(call[1]["x"] for call in version.calls) == [(2, 3), (3, 2)]
    np.testing.assert_array_equal(results[1]["y"], wide["x"] * 2)


def test_signatures_with_scalar_inputs_are_refused_as_the_stock_server_does(make_batcher):
    batcher = make_batcher(max_batch_size=16, batch_timeout_micros=300_000)
    version = FakeVersion()
    results = run_together(batcher, version, [{"n": np.int32(2)}, {"n": np.int32(3)}], "scalar")
    assert version.calls == []
    assert [result.message for result in results] == [
        "Batching Run() input tensors must have at least one dimension"] * 2


@pytest.mark.parametrize("inputs, message", [
    (rows(5), "Task size 5 is larger than maximum input batch size 4"),
    ({"x": np.float32(1)}, "Batching Run() input tensors must have at least one dimension"),
])
def test_refused_requests(make_batcher, inputs, message):
    batcher = make_batcher(max_batch_size=4)
    with pytest.raises(ServingError) as caught:
        batcher.run(FakeVersion(), "double", inputs)
    assert (caught.value.code, caught.value.message) == (codes.INVALID_ARGUMENT, message)


def test_an_error_reaches_every_request_of_the_batch(make_batcher):
    batcher = make_batcher(max_batch_size=16, batch_timeout_micros=300_000)
    version = FakeVersion(fail=True)
    results = run_together(batcher, version, [rows(1), rows(2)])
    assert len(version.calls) == 1
    assert [result.message for result in results] == ["the graph failed"] * 2


def hold_the_batch_thread(batcher, version):
    """Starts a first batch that holds the only batch thread until `version.gate` is set."""
    running = threading.Thread(target=batcher.run, args=(version, "double", rows(2)))
    running.start()
    while not version.calls:  # polls for the event; nothing is timed
        time.sleep(0.01)
    return running


def test_a_full_queue_refuses_with_unavailable(make_batcher):
    gate = threading.Event()
    batcher = make_batcher(max_batch_size=2, max_enqueued_batches=1, num_batch_threads=1)
    version = FakeVersion(gate=gate)
    running = hold_the_batch_thread(batcher, version)
    queued = threading.Thread(target=batcher.run, args=(version, "double", rows(2)))
    queued.start()
    while not any(queue.tasks for queue in batcher._queues.values()):  # it is queued
        time.sleep(0.01)
    with pytest.raises(ServingError) as caught:
        batcher.run(version, "double", rows(1))
    gate.set()
    running.join()
    queued.join()
    assert caught.value.code == codes.UNAVAILABLE
    assert caught.value.message == (
        "The batch scheduling queue to which this task was submitted is full")


def test_work_past_its_deadline_is_not_run(make_batcher):
    batcher = make_batcher(max_batch_size=4, num_batch_threads=1)
    version = FakeVersion()
    with pytest.raises(ServingError) as caught:
        batcher.run(version, "double", rows(1), deadline=time.monotonic() - 1)
    assert caught.value.code == codes.DEADLINE_EXCEEDED and version.calls == []


@pytest.mark.parametrize("deadlines, cancelled_at", [
    ([1e9, 2e9], 2e9),  # every caller gives up: at the last deadline
    ([1e9, None], None),  # one waits as long as it takes: never
])
def test_a_batch_is_cancelled_when_its_last_caller_gives_up(make_batcher, deadlines,
                                                            cancelled_at):
    batcher = make_batcher(max_batch_size=2, batch_timeout_micros=30_000_000)
    version = FakeVersion()
    run_together(batcher, version, [rows(1), rows(1, start=2)], deadlines=deadlines)
    assert version.calls == [("double", {"x": (2, 2)})]
    assert version.deadlines == [cancelled_at]


def test_a_queued_request_whose_caller_gave_up_is_dropped(make_batcher):
    gate = threading.Event()
    batcher = make_batcher(max_batch_size=2, num_batch_threads=1)
    version = FakeVersion(gate=gate)
    running = hold_the_batch_thread(batcher, version)
    with pytest.raises(ServingError) as caught:  # queued behind it; its caller waits 50 ms
        batcher.run(version, "double", rows(1), deadline=time.monotonic() + 0.05)
    gate.set()
    running.join()
    batcher.close()
    assert caught.value.code == codes.DEADLINE_EXCEEDED
    assert version.calls == [("double", {"x": (2, 2)})]  # the dropped request never ran


# ---- through the registry, on a real model -----------------------------------------------------


def test_batched_predictions_match_unbatched_ones(tmp_path, tmp_path_factory, monkeypatch):
    base = tmp_path / MODEL_NAME
    install_version(exported_model(tmp_path_factory, 1), base, 1)
    calls = []
    real_run = core.LoadedVersion.run

    def counting_run(self, signature_name, inputs, deadline=None):
        calls.append((signature_name, {name: value.shape for name, value in inputs.items()}))
        return real_run(self, signature_name, inputs, deadline)

    monkeypatch.setattr(core.LoadedVersion, "run", counting_run)
    batcher = Batcher(BatchingOptions(max_batch_size=32, batch_timeout_micros=500_000,
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
