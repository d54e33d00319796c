"""A bounded closed-loop load generator for TF Serving's gRPC predict API (REST: `wrk`): a
benchmark client (`scripts/bench_serve.py`), not part of the server.

`concurrency` workers each send a request, wait for its answer and send the next, until
`max_requests` answers have come back or `max_seconds` have passed (whichever is first), so a
run always stops by itself. Requests are encoded once (`predict_request_bytes`; REST bodies
for `wrk`: `predict_body`); answers are read whole but not decoded (a client's decoding is not
the server's cost), and each is counted as a success or by its gRPC code. Meant for servers on
this machine (loopback), as in `scripts/bench_serve.py`.

```python
sender = grpc_sender("127.0.0.1:8500", predict_request_bytes("mnist", "sample_seeds", inputs))
result = asyncio.run(run_closed_loop(sender, concurrency=8, max_requests=500, max_seconds=5))
result.requests_per_second, result.latency_ms(99)
```
"""

import asyncio
import collections
import dataclasses
import json
import time

import grpc
import numpy as np
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2

from tfgan.serving.protocol import CHANNEL_OPTIONS

PREDICT_METHOD = "/tensorflow.serving.PredictionService/Predict"


@dataclasses.dataclass
class LoadResult:
    """What a closed-loop run measured.

    Attributes:
        concurrency: int, workers.
        seconds: float, from the first request sent to the last answer.
        latencies_s: list of float, one per successful request, in seconds.
        failures: `collections.Counter` of failure kind (HTTP status or gRPC code name).
    """

    concurrency: int
    seconds: float = 0.0
    latencies_s: list = dataclasses.field(default_factory=list)
    failures: collections.Counter = dataclasses.field(default_factory=collections.Counter)

    @property
    def successes(self):
        return len(self.latencies_s)

    @property
    def requests_per_second(self):
        return self.successes / self.seconds if self.seconds > 0 else 0.0

    def latency_ms(self, percentile):
        """The latency percentile of the successful requests, in ms (NaN if none)."""
        if not self.latencies_s:
            return float("nan")
        return float(np.percentile(self.latencies_s, percentile)) * 1e3


async def run_closed_loop(send, *, concurrency, max_requests, max_seconds,
                          clock=time.perf_counter):
    """Runs `concurrency` workers that call `send()` back to back.

    Args:
        send: async callable returning `(ok, kind)`: bool, and a failure kind for counting.
        concurrency: int >= 1.
        max_requests: int, the run stops once this many requests have been sent.
        max_seconds: float, no request is sent after this many seconds.
        clock: callable returning seconds. Defaults to `time.perf_counter`.

    Returns:
        `LoadResult`.
    """
    result = LoadResult(concurrency)
    sent = 0
    start = clock()
    deadline = start + max_seconds

    async def worker():
        nonlocal sent
        while sent < max_requests and clock() < deadline:
            sent += 1
            began = clock()
            ok, kind = await send()
            if ok:
                result.latencies_s.append(clock() - began)
            else:
                result.failures[kind] += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.seconds = clock() - start
    return result


def predict_body(signature_name, inputs, row_format=False):
    """A REST `:predict` body: columnar `inputs` (or row `instances` with one input)."""
    values = {name: np.asarray(value).tolist() for name, value in inputs.items()}
    if row_format:
        (value,) = values.values()
        document = {"signature_name": signature_name, "instances": value}
    else:
        document = {"signature_name": signature_name, "inputs": values}
    return json.dumps(document).encode("utf-8")


def predict_request_bytes(model_name, signature_name, inputs):
    """A serialized gRPC `PredictRequest`."""
    request = predict_pb2.PredictRequest()
    request.model_spec.name = model_name
    request.model_spec.signature_name = signature_name
    for name, value in inputs.items():
        request.inputs[name].CopyFrom(tf.make_tensor_proto(value))
    return request.SerializeToString()


class grpc_sender:  # noqa: N801 - used like a function returning a callable
    """An async callable that sends one serialized `PredictRequest` to `host:port`.

    Call `close()` (a coroutine) when done, inside the loop that used it.
    """

    def __init__(self, target, request_bytes, timeout=60.0):
        self._target = target
        self._request = request_bytes
        self._timeout = timeout
        self._channel = None
        self._call = None

    async def __call__(self):
        if self._channel is None:
            self._channel = grpc.aio.insecure_channel(self._target, options=CHANNEL_OPTIONS)
            self._call = self._channel.unary_unary(PREDICT_METHOD)  # bytes in, bytes out
        try:
            await self._call(self._request, timeout=self._timeout)
            return True, "OK"
        except grpc.aio.AioRpcError as error:
            return False, error.code().name

    async def close(self):
        if self._channel is not None:
            await self._channel.close()
            self._channel = None
