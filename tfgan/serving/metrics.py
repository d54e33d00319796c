"""The stock server's request metrics (`:tensorflow:serving:request_count`, `..._latency`),
and their Prometheus text."""

import threading
import time

from tensorflow.core.protobuf import error_codes_pb2


def monotonic_us():
    """Microseconds from a monotonic clock, for request latencies."""
    return time.monotonic_ns() // 1000


class Metrics:
    """Request counters and latencies, the stock server's Prometheus metrics.

    `request_count` is keyed by (model_name, status); `request_latency` by
    (model_name, API, entrypoint) and holds (count, sum in microseconds, bucket counts).
    Requests for models the server does not serve count under one `model_name`,
    `UNKNOWN_MODEL`, so that clients cannot grow the metrics without bound.

    Args:
        known_model: callable taking a model name, True for a served model. Defaults to
            accepting every name.
    """

    UNKNOWN_MODEL = "<unknown model>"

    LATENCY_BUCKETS_US = (1e3, 5e3, 1e4, 5e4, 1e5, 5e5, 1e6, 5e6, 3e7)

    def __init__(self, known_model=lambda name: True):
        self._known_model = known_model
        self._lock = threading.Lock()
        self.request_count = {}
        self.request_latency = {}

    def record(self, model_name, api, entrypoint, code, latency_us):
        """Counts one request and, if it succeeded, its latency."""
        status = error_codes_pb2.Code.Name(code)
        if not self._known_model(model_name):
            model_name = self.UNKNOWN_MODEL
        with self._lock:
            key = (model_name, status)
            self.request_count[key] = self.request_count.get(key, 0) + 1
            if code != error_codes_pb2.OK:
                return
            key = (model_name, api, entrypoint)
            count, total, buckets = self.request_latency.get(
                key, (0, 0.0, (0,) * len(self.LATENCY_BUCKETS_US))
            )
            buckets = tuple(
                n + (latency_us <= bound) for n, bound in zip(buckets, self.LATENCY_BUCKETS_US)
            )
            self.request_latency[key] = (count + 1, total + latency_us, buckets)

    def snapshot(self):
        """Copies of (request_count, request_latency)."""
        with self._lock:
            return dict(self.request_count), dict(self.request_latency)

    def prometheus_text(self):
        """The metrics in the Prometheus text format (the REST monitoring page).

        Returns:
            str: `:tensorflow:serving:request_count` (by model and status) and
            `:tensorflow:serving:request_latency` (a histogram in microseconds, by model, API
            and entry point).
        """
        counts, latencies = self.snapshot()
        metric = ":tensorflow:serving:request_"
        lines = [f"# TYPE {metric}count counter"]
        lines += [f"{metric}count{{model_name={_label(model)},status={_label(status)}}} {count}"
                  for (model, status), count in sorted(counts.items())]
        lines.append(f"# TYPE {metric}latency histogram")
        bounds = [f"{bound:g}" for bound in self.LATENCY_BUCKETS_US] + ["+Inf"]
        for (model, api, entrypoint), (count, total, buckets) in sorted(latencies.items()):
            labels = (f"API={_label(api)},entrypoint={_label(entrypoint)},"
                      f"model_name={_label(model)}")
            lines += [f'{metric}latency_bucket{{{labels},le="{bound}"}} {below}'
                      for bound, below in zip(bounds, (*buckets, count))]
            lines += [f"{metric}latency_sum{{{labels}}} {total:g}",
                      f"{metric}latency_count{{{labels}}} {count}"]
        return "\n".join(lines) + "\n"


def _label(value):
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
