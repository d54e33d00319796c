"""tfgan.loadgen: the closed loop stops by itself and counts what it saw."""

import asyncio

import numpy as np
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2

from tfgan import loadgen


class FakeClock:
    """A clock that advances only when the fake server answers."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def fake_sender(clock, answers, step=0.001):
    """Answers from `answers` in turn (cycling), each taking `step` fake seconds."""
    state = {"calls": 0}

    async def send():
        answer = answers[state["calls"] % len(answers)]
        state["calls"] += 1
        await asyncio.sleep(0)  # let the other workers run, as a real answer would
        clock.now += step
        return answer

    return send, state


def test_stops_at_max_requests_and_counts_failures():
    clock = FakeClock()
    send, state = fake_sender(clock, [(True, "OK"), (True, "OK"), (False, "503")])
    result = asyncio.run(loadgen.run_closed_loop(
        send, concurrency=4, max_requests=30, max_seconds=1e9, clock=clock))
    assert state["calls"] == 30
    assert result.successes == 20 and dict(result.failures) == {"503": 10}
    assert result.seconds > 0 and result.requests_per_second == 20 / result.seconds
    assert 0 < result.latency_ms(50) <= result.latency_ms(99)


def test_stops_at_max_seconds():
    clock = FakeClock()
    send, state = fake_sender(clock, [(True, "OK")], step=0.5)
    result = asyncio.run(loadgen.run_closed_loop(
        send, concurrency=1, max_requests=10**6, max_seconds=2.0, clock=clock))
    assert state["calls"] == 4  # sent at 0, 0.5, 1.0, 1.5; none at 2.0
    assert result.seconds == 2.0


def test_no_answers_give_nan_latency_and_zero_rate():
    result = loadgen.LoadResult(concurrency=1)
    assert np.isnan(result.latency_ms(99)) and result.requests_per_second == 0.0


def test_requests_are_encoded_once_in_both_forms():
    body = loadgen.predict_body("sample_seeds", {"seeds": np.arange(3)}, row_format=True)
    assert body == b'{"signature_name": "sample_seeds", "instances": [0, 1, 2]}'
    columnar = loadgen.predict_body("sample", {"num_samples": 2, "seed": 7})
    assert columnar == (b'{"signature_name": "sample", "inputs": {"num_samples": 2,'
                        b' "seed": 7}}')
    request = predict_pb2.PredictRequest.FromString(
        loadgen.predict_request_bytes("m", "sample_seeds", {"seeds": np.arange(2)}))
    assert request.model_spec.name == "m"
    assert tf.make_ndarray(request.inputs["seeds"]).tolist() == [0, 1]
