"""The REST API on aiohttp, as TF Serving's `http_rest_api_handler.cc` and `http_server.cc`.

Paths under `/v1/` go to `RestApiHandler`, which matches them with the stock server's regular
expressions and calls one function per API; each builds the request the gRPC API uses, calls
the shared `ModelRegistry` and converts the answer. Other paths answer 404, except the
Prometheus page when a monitoring config enables it.

| method, path | answer |
|---|---|
| `GET /v1/models/{name}[/versions/{n}\\|/labels/{l}]` | `GetModelStatusResponse` as JSON |
| `GET /v1/models/{name}[/versions/{n}\\|/labels/{l}]/metadata` | signature defs |
| `POST /v1/models/{name}[/versions/{n}\\|/labels/{l}]:predict` | `predictions` / `outputs` |
| `POST ...:classify`, `...:regress` | `{"result": ...}` of a tf.Example signature |

Errors answer `{"error": "<message>"}` with the HTTP status of their canonical code; a path
under `/v1/` that matches no API is `400 Malformed request: <method> <path>`, as in the stock
server.
"""

import asyncio
import dataclasses
import re
import time
import urllib.parse

import aiohttp
import aiohttp.http_exceptions
from aiohttp import web, web_protocol, web_server
from google.protobuf import json_format
from tensorflow.core.protobuf import error_codes_pb2 as codes
from tensorflow_serving.apis import get_model_metadata_pb2, model_pb2

from tfgan.serving import codec, json_writer
from tfgan.serving.core import SIGNATURE_DEF_FIELD, MonitoringConfig, monotonic_us, read_text_proto
from tfgan.serving.errors import HTTP_STATUS, ServingError  # noqa: F401 - HTTP_STATUS re-exported
from tfgan.serving.json_text import make_error_json

DEFAULT_PROMETHEUS_PATH = "/monitoring/prometheus/metrics"
DEFAULT_MAX_REQUEST_BYTES = 64 * 1024 * 1024
DEFAULT_BODY_TIMEOUT_SECONDS = 30.0
CORS_HEADERS = {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "POST, GET",
                "Access-Control-Allow-Headers": "Content-Type"}  # http_rest_api_util.cc
# Answers larger than this go out in writes of this size (`send_answer`).
SEND_CHUNK_BYTES = 1 << 20

_API_PATH = re.compile(r"/v1/.*", re.IGNORECASE | re.DOTALL)
_PREDICTION_PATH = re.compile(
    r"/v1/models/([^/:]+)(?:(?:/versions/([0-9]+))|(?:/labels/([^/:]+)))?"
    r":(classify|regress|predict)",
    re.IGNORECASE,
)
_STATUS_PATH = re.compile(
    r"/v1/models(?:/([^/:]+))?(?:(?:/versions/([0-9]+))|(?:/labels/([^/:]+)))?(?:/(metadata))?",
    re.IGNORECASE,
)
_JSON_OPTIONS = {"always_print_fields_with_no_presence": True, "indent": 1}


@dataclasses.dataclass(frozen=True)
class Route:
    """What a request path names (`ParseModelInfo`).

    Attributes:
        matched: bool, whether the path is one of the model APIs for its HTTP method.
        model_name: str, URL-decoded ("" when absent).
        version: int or None.
        label: str or None, URL-decoded.
        api: str, `predict` / `classify` / `regress` for POST (as written), `metadata` or ""
            for GET.
    """

    matched: bool
    model_name: str = ""
    version: int = None
    label: str = None
    api: str = ""


def _url_decode(text):
    # A name that is not UTF-8 cannot name a model: U+FFFD keeps it printable, and unknown.
    return urllib.parse.unquote_to_bytes(text).decode("utf-8", "replace")


def parse_route(http_method, path):
    """Matches a path as the stock server does (case-insensitive, full match).

    Args:
        http_method: str, `GET` or `POST` (other methods match nothing).
        path: str, the raw (not URL-decoded) path.

    Returns:
        `Route`.

    Raises:
        ServingError: INVALID_ARGUMENT if the version does not fit an int64.
    """
    pattern = {"POST": _PREDICTION_PATH, "GET": _STATUS_PATH}.get(http_method)
    match = pattern.fullmatch(path) if pattern else None
    if match is None:
        return Route(matched=False)
    name, version, label, api = match.groups()
    if version is not None and int(version) >= 2**63:
        raise ServingError.invalid_argument(f"Failed to convert version: {version} to numeric.")
    return Route(
        matched=True,
        model_name=_url_decode(name) if name else "",
        version=int(version) if version is not None else None,
        label=_url_decode(label) if label is not None else None,
        api=api or "",
    )


def model_spec_of(route):
    """`FillModelSpecWithNameVersionAndLabel`: the `ModelSpec` a route names."""
    spec = model_pb2.ModelSpec(name=route.model_name)
    if route.version is not None:
        spec.version.value = route.version
    if route.label is not None:
        spec.version_label = route.label
    return spec


@dataclasses.dataclass(frozen=True)
class RestAnswer:
    """One REST answer: HTTP status, JSON text, and what the metrics record."""

    status: int
    body: object  # str, bytes, or a `json_writer.PredictResponse` over SEND_CHUNK_BYTES
    code: int
    model_name: str
    api: str


class RestApiHandler:
    """Answers REST requests under `/v1/` from a `ModelRegistry` (blocking; run it in a thread).

    Args:
        registry: `ModelRegistry`.
    """

    def __init__(self, registry):
        self._registry = registry

    def process(self, http_method, path, body, deadline=None):
        """Answers one request.

        Args:
            http_method: str.
            path: str, the raw path (no query string).
            body: bytes.
            deadline: float or None, `time.monotonic()` time past which a prediction not yet
                started is not run. Defaults to None.

        Returns:
            `RestAnswer`; errors are answered, never raised.
        """
        route = Route(matched=False)
        try:
            route = parse_route(http_method, path)
            text = self._dispatch(http_method, path, route, body, deadline)
            return RestAnswer(200, text, codes.OK, route.model_name, route.api)
        except ServingError as error:
            return RestAnswer(
                HTTP_STATUS.get(error.code, 500), make_error_json(error.message),
                error.code, route.model_name, route.api,
            )

    def _dispatch(self, http_method, path, route, body, deadline):
        if route.matched and http_method == "POST":
            if route.api == "predict":
                return self._predict(route, body, deadline)
            if route.api in ("classify", "regress"):
                return self._classify_or_regress(route, body, deadline)
        elif route.matched and http_method == "GET":
            if route.api == "metadata":
                return self._metadata(route)
            return self._status(route)
        raise ServingError.invalid_argument(f"Malformed request: {http_method} {path}")

    def _predict(self, route, body, deadline):
        spec = model_spec_of(route)
        request = codec.parse_predict_request(
            body, lambda signature: self._registry.signature_input_dtypes(spec, signature)
        )
        spec.signature_name = request.signature_name
        result = self._registry.predict(spec, request.inputs, deadline=deadline)
        response = json_writer.predict_response(result.outputs, request.request_format)
        if response.length <= SEND_CHUNK_BYTES:
            return b"".join(response)
        return response  # expanded as it is sent (`send_answer`)

    def _classify_or_regress(self, route, body, deadline):
        spec = model_spec_of(route)
        request = codec.parse_classify_regress_request(body)
        spec.signature_name = request.signature_name
        _, result = self._registry.classify_or_regress(
            spec, route.api, request.examples, request.context, deadline=deadline)
        if route.api == "classify":
            return json_writer.classification_json(result)
        return json_writer.regression_json(result)

    def _status(self, route):
        if not route.model_name:
            raise ServingError.invalid_argument("Missing model name in request.")
        response = self._registry.model_status(model_spec_of(route))
        return json_format.MessageToJson(response, **_JSON_OPTIONS) + "\n"

    def _metadata(self, route):
        if not route.model_name:
            raise ServingError.invalid_argument("Missing model name in request.")
        request = get_model_metadata_pb2.GetModelMetadataRequest(
            model_spec=model_spec_of(route), metadata_field=[SIGNATURE_DEF_FIELD]
        )
        response = self._registry.model_metadata(request)
        signature_map = get_model_metadata_pb2.SignatureDefMap()
        response.metadata[SIGNATURE_DEF_FIELD].Unpack(signature_map)
        # As the stock server: each message printed on its own, joined without an `@type`.
        spec_json = json_format.MessageToJson(
            response.model_spec, preserving_proto_field_name=True, **_JSON_OPTIONS
        )
        map_json = json_format.MessageToJson(
            signature_map, preserving_proto_field_name=True, **_JSON_OPTIONS
        )
        return (
            '{\n"model_spec":' + spec_json + ',\n"metadata": {"signature_def": ' + map_json
            + "}\n}\n"
        )


def read_monitoring_config(path):
    """Reads a `MonitoringConfig` text proto (`--monitoring_config_file`).

    Returns:
        str or None: the Prometheus path when `prometheus_config { enable: true }`, else None.

    Raises:
        ValueError: if the file cannot be read or parsed, or the path is not absolute.
    """
    config = read_text_proto(path, MonitoringConfig()).prometheus_config
    if not config.enable:
        return None
    metrics_path = config.path or DEFAULT_PROMETHEUS_PATH
    if not metrics_path.startswith("/"):
        raise ValueError(f"the Prometheus path must start with '/'. Received: path={metrics_path}")
    return metrics_path


def _label(value):
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def prometheus_text(metrics):
    """The stock server's request metrics in the Prometheus text format.

    Args:
        metrics: `tfgan.serving.core.Metrics`.

    Returns:
        str: `:tensorflow:serving:request_count` (by model and status) and
        `:tensorflow:serving:request_latency` (a histogram in microseconds, by model, API and
        entry point).
    """
    counts, latencies = metrics.snapshot()
    lines = ["# TYPE :tensorflow:serving:request_count counter"]
    for (model, status), count in sorted(counts.items()):
        lines.append(
            f":tensorflow:serving:request_count{{model_name={_label(model)},"
            f"status={_label(status)}}} {count}"
        )
    lines.append("# TYPE :tensorflow:serving:request_latency histogram")
    for (model, api, entrypoint), (count, total, buckets) in sorted(latencies.items()):
        labels = f"API={_label(api)},entrypoint={_label(entrypoint)},model_name={_label(model)}"
        for bound, below in zip(metrics.LATENCY_BUCKETS_US, buckets):
            lines.append(
                f':tensorflow:serving:request_latency_bucket{{{labels},le="{bound:g}"}} {below}'
            )
        lines.append(f':tensorflow:serving:request_latency_bucket{{{labels},le="+Inf"}} {count}')
        lines.append(f":tensorflow:serving:request_latency_sum{{{labels}}} {total:g}")
        lines.append(f":tensorflow:serving:request_latency_count{{{labels}}} {count}")
    return "\n".join(lines) + "\n"


def _json_response(status, text, close=False):
    body = text if isinstance(text, bytes) else text.encode("utf-8", "surrogateescape")
    response = web.Response(status=status, body=body, content_type="application/json")
    if close:
        response.force_close()
    return response


async def send_answer(request, status, body, executor=None):
    """Sends a JSON answer: `str`, `bytes` or a `json_writer.PredictResponse`.

    A `PredictResponse` goes out as a `StreamResponse` with its Content-Length, in writes of at
    most `SEND_CHUNK_BYTES`, each awaited, while `executor` makes its next chunk: the text is
    never whole in memory. (Given 69 MB at once, aiohttp copies what the socket does not take
    into its buffer and took ~110 ms to send it here; in 1 MiB writes, ~16 ms.)

    Args:
        request: `aiohttp.web.Request`.
        status: int, the HTTP status.
        body: str, bytes or `json_writer.PredictResponse`.
        executor: `concurrent.futures.Executor` that makes a `PredictResponse`'s chunks, or
            None for the loop's default executor.

    Returns:
        the `web.StreamResponse` sent.
    """
    if not isinstance(body, json_writer.PredictResponse):
        return _json_response(status, body)
    response = web.StreamResponse(status=status)
    response.content_type = "application/json"
    response.content_length = body.length
    await response.prepare(request)
    loop = asyncio.get_running_loop()
    chunks = iter(body)
    pending = loop.run_in_executor(executor, next, chunks, None)
    while (chunk := await pending) is not None:
        pending = loop.run_in_executor(executor, next, chunks, None)
        view = memoryview(chunk)
        for start in range(0, len(view), SEND_CHUNK_BYTES):
            await response.write(view[start:start + SEND_CHUNK_BYTES])
    await response.write_eof()
    return response


def _too_large(limit):
    return _json_response(413, make_error_json(
        f"Request body is larger than this server's limit of {limit} bytes"), close=True)


class GuardedRequestHandler(web_protocol.RequestHandler):
    """aiohttp's connection handler with a connection cap, a header deadline and JSON errors.

    - Past `max_connections` open connections, a new one is answered `503` and closed.
    - A connection must deliver a request's headers within `header_timeout` seconds of
      connecting or of its previous answer, or it is answered `408` and closed (aiohttp's
      keep-alive timeout alone lets a client that sends a byte now and then hold it).
    - Errors aiohttp answers itself (a bad request line, bytes that are not HTTP) come in TF
      Serving's shape, `{"error": ...}`, with aiohttp's status.
    """

    def __init__(self, manager, *, max_connections, header_timeout, **kwargs):
        super().__init__(manager, **kwargs)
        self._max_connections = max_connections
        self._header_timeout = header_timeout
        self._header_deadline = None

    def connection_made(self, transport):
        super().connection_made(transport)
        if self._max_connections and len(self._manager.connections) > self._max_connections:
            self._refuse(503, "Too many connections: this server's limit is"
                              f" {self._max_connections}")
            return
        self.request_finished()

    def request_started(self):
        """The headers of a request have arrived."""
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def request_finished(self):
        """An answer is out: the next request's headers are due within the timeout."""
        self.request_started()
        if self._header_timeout > 0:
            self._header_deadline = self._loop.call_later(
                self._header_timeout, self._refuse, 408,
                f"No complete request within {self._header_timeout} s")

    def _refuse(self, status, message):
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        body = make_error_json(message).encode("utf-8")
        reason = {408: "Request Timeout", 503: "Service Unavailable"}[status]
        transport.write(
            f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode("ascii") + body
        )
        self.force_close()
        transport.close()
        task = getattr(self, "_task_handler", None)  # aiohttp's reader, waiting for a request
        if task is not None and not task.done():
            task.cancel()

    def connection_lost(self, exc):
        self.request_started()
        super().connection_lost(exc)

    def handle_error(self, request, status=500, exc=None, message=None):
        super().handle_error(request, status, exc, message)  # logs; raises if output began
        code = getattr(exc, "code", None)
        if isinstance(exc, aiohttp.http_exceptions.HttpProcessingError) and isinstance(
                code, int) and 400 <= code < 500:
            status = code  # a malformed request (e.g. a broken gzip body), not a server fault
            message = f"Cannot read the request: {exc.message}"
        if status == 500:
            text = f"Internal error: {exc}" if exc is not None else "Internal error"
        else:
            text = message or (exc.message if hasattr(exc, "message") else str(exc)) or "Bad request"
        response = web.Response(status=status, body=make_error_json(text).encode("utf-8"),
                                content_type="application/json")
        response.force_close()
        return response


class _GuardedServer(web_server.Server):
    """`web.Server` whose connections are `GuardedRequestHandler`s (see `GuardedAppRunner`)."""

    def __call__(self):
        return GuardedRequestHandler(self, loop=self._loop, **self.guard, **self._kwargs)


class GuardedAppRunner(web.AppRunner):
    """`web.AppRunner` serving through `GuardedRequestHandler`.

    Args:
        app: `aiohttp.web.Application`.
        max_connections: int, open connections past which new ones are refused; 0 means no
            limit.
        header_timeout: float, seconds a connection has to send a request's headers; 0 means
            no limit.
        **kwargs: `web.AppRunner` arguments (`keepalive_timeout` closes idle connections).
    """

    def __init__(self, app, *, max_connections=0, header_timeout=0.0, **kwargs):
        super().__init__(app, **kwargs)
        self._guard = {"max_connections": max_connections, "header_timeout": header_timeout}

    async def _make_server(self):
        server = await super()._make_server()
        server.__class__ = _GuardedServer  # same layout; only __call__ differs
        server.guard = self._guard
        return server


def create_app(registry, executor, *, rest_api_timeout_in_ms=30000,
               max_request_bytes=DEFAULT_MAX_REQUEST_BYTES, prometheus_path=None,
               body_timeout_seconds=DEFAULT_BODY_TIMEOUT_SECONDS, cors=False):
    """The aiohttp application of the REST API.

    Args:
        registry: `ModelRegistry`.
        executor: `concurrent.futures.Executor` that runs the blocking handler, so the event
            loop keeps accepting requests.
        rest_api_timeout_in_ms: int, how long a request may take before it is answered
            `504 DEADLINE_EXCEEDED`; 0 means no limit. Defaults to `30000`.
        max_request_bytes: int, the largest request body; larger ones answer 413. Defaults to
            64 MiB.
        prometheus_path: str or None, where to serve Prometheus metrics (see
            `read_monitoring_config`). Defaults to None: no metrics page.
        body_timeout_seconds: float, how long a client may take to send its body before it is
            answered `408`; 0 means no limit. Defaults to `30`.
        cors: bool, add the stock server's CORS headers to every answer
            (`--rest_api_enable_cors_support`). Defaults to `False`.

    Returns:
        `aiohttp.web.Application`.
    """
    handler = RestApiHandler(registry)
    timeout = rest_api_timeout_in_ms / 1000 if rest_api_timeout_in_ms > 0 else None
    body_timeout = body_timeout_seconds if body_timeout_seconds > 0 else None

    async def serve(request):
        guard = request.protocol if isinstance(request.protocol, GuardedRequestHandler) else None
        if guard is not None:
            guard.request_started()
        try:
            return await answer_request(request)
        finally:
            if guard is not None:
                guard.request_finished()

    async def answer_request(request):
        path = request.rel_url.raw_path
        if prometheus_path is not None and path == prometheus_path:
            return web.Response(text=prometheus_text(registry.metrics), content_type="text/plain")
        if not _API_PATH.fullmatch(path):
            return _json_response(
                404, make_error_json(f"Not found: {request.method} {path}")
            )
        if request.content_length is not None and request.content_length > max_request_bytes:
            return _too_large(max_request_bytes)  # refused before a byte of it is read
        try:
            body = await asyncio.wait_for(request.read(), body_timeout)
        except web.HTTPRequestEntityTooLarge:
            return _too_large(max_request_bytes)
        except asyncio.TimeoutError:
            return _json_response(408, make_error_json(
                f"The request body did not arrive within {body_timeout_seconds} s"), close=True)
        except (web_protocol.RequestPayloadError, aiohttp.ClientPayloadError,
                aiohttp.http_exceptions.HttpProcessingError, ValueError, OSError) as error:
            return _json_response(400, make_error_json(
                f"Cannot read the request body: {error}"), close=True)
        if request.method == "OPTIONS":  # CORS preflight
            if re.search(r"https?://", request.headers.get("Origin", "")):
                return web.Response(status=200)
            return _json_response(
                400, make_error_json("Origin header is missing in CORS preflight")
            )
        start = monotonic_us()
        deadline = None if timeout is None else time.monotonic() + timeout
        work = asyncio.get_running_loop().run_in_executor(
            executor, handler.process, request.method, path, body, deadline
        )
        try:
            answer = await asyncio.wait_for(work, timeout)
        except asyncio.TimeoutError:
            answer = RestAnswer(
                504, make_error_json("Timed out waiting for notification"),
                codes.DEADLINE_EXCEEDED, "", "",
            )
        registry.metrics.record(
            answer.model_name, answer.api, "REST", answer.code, monotonic_us() - start
        )
        return await send_answer(request, answer.status, answer.body, executor)

    app = web.Application(client_max_size=max_request_bytes)
    app.router.add_route("*", "/{tail:.*}", serve)
    if cors:
        async def add_cors_headers(request, response):
            response.headers.update(CORS_HEADERS)

        app.on_response_prepare.append(add_cors_headers)
    return app
