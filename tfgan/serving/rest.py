"""The REST API on aiohttp, as TF Serving's `http_rest_api_handler.cc` and `http_server.cc`.

Paths under `/v1/` go to `RestApiHandler`, which matches them with the stock server's regular
expressions and calls one function per API over the shared `ModelRegistry`. `/` and `/page/`
are the sample page (`tfgan.serving.page`), the Prometheus page is served when a monitoring
config enables it, and other paths answer 404.

| method, path | answer |
|---|---|
| `GET /v1/models/{name}[/versions/{n}\\|/labels/{l}]` | `GetModelStatusResponse` as JSON |
| `GET /v1/models/{name}[/versions/{n}\\|/labels/{l}]/metadata` | signature defs |
| `POST /v1/models/{name}[/versions/{n}\\|/labels/{l}]:predict` | `predictions` / `outputs` |
| `POST ...:classify`, `...:regress` | `{"results": ...}` of a tf.Example signature |

Errors answer `{"error": "<message>"}` with the HTTP status of their canonical code (a `/v1/`
path that matches no API: `400 Malformed request: <method> <path>`, as the stock server).
`create_server` puts this on aiohttp's public low-level server (`web.Server`: one handler for
every path) with the edge's limits: sizes checked before a byte is read (and before `100
Continue`), bounded inflating, body and answer deadlines, a connection cap, and malformed HTTP
answered in TF Serving's JSON shape, logged in one line.
"""

import asyncio
import dataclasses
import json
import logging
import re
import time
import urllib.parse
import zlib

from aiohttp import web
from google.protobuf import json_format
from tensorflow.core.protobuf import error_codes_pb2 as codes
from tensorflow_serving.apis import get_model_metadata_pb2, model_pb2

from tfgan.serving import json_request, json_response
from tfgan.serving.errors import HTTP_STATUS, ServingError
from tfgan.serving.json_response import make_error_json
from tfgan.serving.metrics import monotonic_us
from tfgan.serving.page import page_answer
from tfgan.serving.protocol import DEFAULT_SIGNATURE, SIGNATURE_DEF_FIELD

_log = logging.getLogger("tfgan.serving")

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


def _url_decode(text):
    # A name that is not UTF-8 cannot name a model: U+FFFD keeps it printable, and unknown.
    return urllib.parse.unquote_to_bytes(text).decode("utf-8", "replace")


def parse_route(http_method, path):
    """`ParseModelInfo`: the `ModelSpec` a raw (not URL-decoded) path names and its API
    (`predict`, `classify`, `regress` as written for POST; `metadata` or "" for GET), matched
    as the stock server does (case-insensitive, full match; only GET and POST match).

    Raises:
        ServingError: INVALID_ARGUMENT for a path that matches no API (`Malformed request`)
            or a version past int64.
    """
    pattern = {"POST": _PREDICTION_PATH, "GET": _STATUS_PATH}.get(http_method)
    match = pattern.fullmatch(path) if pattern else None
    if match is None:
        raise ServingError.invalid_argument(f"Malformed request: {http_method} {path}")
    name, version, label, api = match.groups()
    spec = model_pb2.ModelSpec(name=_url_decode(name) if name else "")
    if version is not None:
        digits = version.lstrip("0") or "0"  # past 19 digits, no int64 (nor int() past 4,300)
        if len(digits) > 19 or int(digits) >= 2**63:
            raise ServingError.invalid_argument(
                f"Failed to convert version: {version} to numeric.")
        spec.version.value = int(digits)
    if label is not None:
        spec.version_label = _url_decode(label)
    return spec, api or ""


@dataclasses.dataclass(frozen=True)
class RestAnswer:
    """One REST answer: HTTP status, JSON text, and what the metrics record."""

    status: int
    body: object  # str, bytes, or a `json_response.PredictResponse` over SEND_CHUNK_BYTES
    code: int
    model_name: str
    api: str


def _check_scalars(signature_name, signature, request):
    """Refuses a list for a scalar input and a scalar for a list: the graph would refuse them
    too, in words about its nodes. Other shapes are the graph's to judge, as in the stock
    server (a TF1 graph takes `[3]` for an input it declares `[-1, 1]`)."""
    for alias, value in request.inputs.items():
        shape = signature.inputs[alias].tensor_shape if alias in signature.inputs else None
        if shape is None or shape.unknown_rank or (not shape.dim) == (value.ndim == 0):
            continue
        dims = [dim.size for dim in shape.dim]
        wanted = f"shape {dims} (-1: any size)" if dims else "a scalar, not a list"
        row_form = (" (`instances` adds a batch dimension to every input: send scalars in"
                    " `inputs`)" if request.request_format == json_response.RequestFormat.ROW
                    and not dims else "")
        raise ServingError.invalid_argument(
            f"Input {alias} of signature {signature_name} takes {wanted}; the request"
            f" gave shape {list(value.shape)}{row_form}")


class RestApiHandler:
    """Answers REST requests under `/v1/` from a `ModelRegistry` (blocking; run it in a
    thread)."""

    def __init__(self, registry):
        self._registry = registry

    def process(self, http_method, path, body, deadline=None):
        """Answers one request (raw path, no query string) as a `RestAnswer`; errors are
        answered, never raised. A prediction not started by `deadline` (`time.monotonic()`)
        is not run."""
        spec, api = model_pb2.ModelSpec(), ""
        try:
            spec, api = parse_route(http_method, path)
            if http_method == "GET":
                if not spec.name:
                    raise ServingError.invalid_argument("Missing model name in request.")
                text = self._metadata(spec) if api == "metadata" else self._status(spec)
            elif api == "predict":
                text = self._predict(spec, body, deadline)
            elif api in ("classify", "regress"):
                text = self._classify_or_regress(spec, api, body, deadline)
            else:  # the API named in capitals: matched case-insensitively, but not served
                raise ServingError.invalid_argument(f"Malformed request: {http_method} {path}")
            return RestAnswer(200, text, codes.OK, spec.name, api)
        except ServingError as error:
            return RestAnswer(HTTP_STATUS.get(error.code, 500), make_error_json(error.message),
                              error.code, spec.name, api)

    def _predict(self, spec, body, deadline):
        request = json_request.parse_predict_request(
            body, lambda signature: self._registry.signature_input_dtypes(spec, signature)
        )
        spec.signature_name = request.signature_name
        signature_name = request.signature_name or DEFAULT_SIGNATURE
        signature = self._registry.resolve(spec).signature_defs.get(signature_name)
        if signature is not None:
            _check_scalars(signature_name, signature, request)
        result = self._registry.predict(spec, request.inputs, deadline=deadline)
        response = json_response.predict_response(result.outputs, request.request_format)
        if response.length <= SEND_CHUNK_BYTES:
            return b"".join(response)
        return response  # expanded as it is sent (`send_answer`)

    def _classify_or_regress(self, spec, api, body, deadline):
        request = json_request.parse_classify_regress_request(body)
        spec.signature_name = request.signature_name
        _, result = self._registry.classify_or_regress(
            spec, api, request.examples, request.context, deadline=deadline)
        if api == "classify":
            return json_response.classification_json(result)
        return json_response.regression_json(result)

    def _status(self, spec):
        response = self._registry.model_status(spec)
        return json_format.MessageToJson(response, **_JSON_OPTIONS) + "\n"

    def _metadata(self, spec):
        request = get_model_metadata_pb2.GetModelMetadataRequest(
            model_spec=spec, metadata_field=[SIGNATURE_DEF_FIELD])
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
        # A tfgan export of a conditional GAN adds its class names beside the signatures.
        class_names = self._registry.resolve(response.model_spec).class_names  # same version
        extra = "" if class_names is None else ', "class_names": ' + json.dumps(class_names)
        return (
            '{\n"model_spec":' + spec_json + ',\n"metadata": {"signature_def": ' + map_json
            + extra + "}\n}\n"
        )


def _json_response(status, text, close=False, headers=None):
    body = text if isinstance(text, bytes) else text.encode("utf-8")
    response = web.Response(status=status, body=body, content_type="application/json",
                            headers=headers)
    if close:
        response.force_close()
    return response


def _error(status, message, close=False):
    return _json_response(status, make_error_json(message), close=close)


async def send_answer(request, status, body, executor=None, headers=None):
    """Sends a JSON answer: `str`, `bytes` or a `json_response.PredictResponse`.

    A `PredictResponse` goes out as a `StreamResponse` with its Content-Length, in awaited
    writes of at most `SEND_CHUNK_BYTES` while `executor` makes its next chunk: the text is
    never whole in memory. (Given 69 MB at once, aiohttp copies what the socket does not take
    into its buffer and took ~110 ms to send it here; in 1 MiB writes, ~16 ms.)
    """
    if not isinstance(body, json_response.PredictResponse):
        return _json_response(status, body, headers=headers)
    response = web.StreamResponse(status=status, headers=headers)
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


class _BodyError(Exception):
    """A request body that cannot be read: the answer's status and message."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


# Content-Encoding -> zlib's `wbits` (gzip header; zlib header; as aiohttp reads them).
_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


def inflate(body, encoding, limit):
    """A request body decoded per its `Content-Encoding` (not identity): zlib inflates at
    most `limit + 1` bytes, so a body that would inflate to gigabytes costs `limit` and is
    refused (413); 400 for data that does not inflate or an unknown encoding."""
    if encoding not in _WBITS:
        raise _BodyError(400, f"Cannot read the request body: Content-Encoding {encoding!r}"
                              " is not supported (send gzip, deflate or none)")
    inflater = zlib.decompressobj(_WBITS[encoding])
    try:
        data = inflater.decompress(body, limit + 1)
    except zlib.error as error:
        raise _BodyError(400, f"Cannot read the request body: {error}") from None
    if len(data) > limit:
        del data  # the error's traceback keeps this frame: not the inflated bytes
        raise _BodyError(413, f"Request body is larger than this server's limit of {limit}"
                              " bytes once decompressed")
    if not inflater.eof:
        raise _BodyError(400, f"Cannot read the request body: truncated {encoding} data")
    return data


class _Connection(web.RequestHandler):
    """aiohttp's handler of one HTTP connection, answering its errors in TF Serving's shape.

    Errors aiohttp answers itself (a bad request line, a bad header, bytes that are not HTTP)
    come as `{"error": ...}` with aiohttp's status, logged in one line (a traceback only for
    a fault of this server, a 500). `over_limit` is set on a connection opened while
    `max_connections` others were open: its request is answered 503.
    """

    def __init__(self, server, *, max_connections, **kwargs):
        super().__init__(server, **kwargs)
        self.server = server
        self.max_connections = max_connections
        self.over_limit = False

    def connection_made(self, transport):
        super().connection_made(transport)  # counted in `server.connections` from here
        if self.max_connections:
            open_now = sum(connection.connected for connection in self.server.connections)
            self.over_limit = open_now > self.max_connections

    def handle_error(self, request, status=500, exc=None, message=None):
        if request.writer.output_size > 0:  # an answer has begun: only closing is left
            raise ConnectionError("The answer was being sent when it failed")
        if status == 500:
            _log.error("REST request from %s failed", request.remote, exc_info=exc)
            text = f"Internal error: {exc}" if exc is not None else "Internal error"
        else:
            text = message or getattr(exc, "message", None) or str(exc) or "Bad request"
            _log.info("malformed HTTP request from %s: %d %s", request.remote, status,
                      text.partition("\n")[0])
        return _json_response(status, make_error_json(text), close=True)


class _Server(web.Server):
    """`web.Server` whose connections are `_Connection`s."""

    def __init__(self, handler, **connection_args):
        super().__init__(handler, **connection_args)
        self.connection_args = connection_args

    def __call__(self):
        return _Connection(self, loop=asyncio.get_running_loop(), **self.connection_args)


# The stock server's CORS headers, on every answer and preflight (http_rest_api_util.cc).
_CORS_HEADERS = {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "POST, GET",
                 "Access-Control-Allow-Headers": "Content-Type"}


def create_server(registry, executor, options, prometheus_path=None):
    """The REST API as an aiohttp low-level `web.Server` (serve it with `web.ServerRunner`;
    call this in the loop that serves it). `executor` runs the blocking handler; `options`,
    a `ServerOptions`, sets the limits: `rest_api_timeout_in_ms` (504; the call finishes in
    its thread), `max_request_bytes` (413, before and after inflating),
    `rest_body_timeout_seconds` (408), `rest_max_connections` (503),
    `rest_header_timeout_seconds` and `rest_idle_timeout_seconds` (the connection closed),
    `rest_api_enable_cors_support`; 0 means no limit. `prometheus_path`: where the metrics
    page is, or None.
    """
    handler = RestApiHandler(registry)
    timeout_ms, body_seconds = options.rest_api_timeout_in_ms, options.rest_body_timeout_seconds
    timeout = timeout_ms / 1000 if timeout_ms > 0 else None
    body_timeout = body_seconds if body_seconds > 0 else None
    max_request_bytes = options.max_request_bytes
    max_connections = options.rest_max_connections
    headers = _CORS_HEADERS if options.rest_api_enable_cors_support else None

    async def read_body(request):
        """The body, decoded: at most `max_request_bytes` read, and no more inflated."""
        declared = request.content_length
        if declared is not None and declared > max_request_bytes:
            raise _BodyError(413, "Request body is larger than this server's limit of"
                                  f" {max_request_bytes} bytes")
        expect = request.headers.get("Expect", "")
        if expect.lower() == "100-continue":
            # aiohttp has no call for an interim answer: its own expect handler writes this.
            await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        elif expect:
            raise _BodyError(417, f"Unknown Expect header: {expect!r} (only 100-continue)")
        body = bytearray()
        try:
            async with asyncio.timeout(body_timeout):
                while chunk := await request.content.readany():
                    body += chunk
                    if len(body) > max_request_bytes:
                        raise _BodyError(413, "Request body is larger than this server's"
                                              f" limit of {max_request_bytes} bytes")
        except TimeoutError:
            raise _BodyError(408, "The request body did not arrive within"
                                  f" {body_seconds} s") from None
        except (web.RequestPayloadError, ValueError, OSError) as error:  # a broken chunked body
            raise _BodyError(400, f"Cannot read the request body: {error}") from None
        encoding = request.headers.get("Content-Encoding", "").strip().lower()
        if encoding in ("", "identity"):
            return bytes(body)
        return await asyncio.get_running_loop().run_in_executor(
            executor, inflate, body, encoding, max_request_bytes)

    async def answer(request):
        if request.protocol.over_limit:
            return _error(503, "Too many connections: this server's limit is"
                               f" {max_connections}", close=True)
        path = request.raw_path.partition("?")[0]
        if prometheus_path is not None and path == prometheus_path:
            return web.Response(text=registry.metrics.prometheus_text(),
                                content_type="text/plain")
        page = page_answer(request.method, path, request.query_string, registry.model_names)
        if page is not None:
            return page
        if not _API_PATH.fullmatch(path):
            return _error(404, f"Not found: {request.method} {path}")
        try:
            body = await read_body(request)
        except _BodyError as error:
            return _error(error.status, str(error), close=True)
        if request.method == "OPTIONS":  # CORS preflight
            if not re.search(r"https?://", request.headers.get("Origin", "")):
                return _error(400, "Origin header is missing in CORS preflight")
            return web.Response(status=200, headers=headers)
        start = monotonic_us()
        deadline = None if timeout is None else time.monotonic() + timeout
        work = asyncio.get_running_loop().run_in_executor(
            executor, handler.process, request.method, path, body, deadline)
        try:
            async with asyncio.timeout(timeout):
                result = await work
        except TimeoutError:  # the caller is answered now; the call finishes in its thread
            result = RestAnswer(504, make_error_json("Timed out waiting for notification"),
                                codes.DEADLINE_EXCEEDED, "", "")
        registry.metrics.record(
            result.model_name, result.api, "REST", result.code, monotonic_us() - start)
        return await send_answer(request, result.status, result.body, executor, headers)

    keepalive_timeout = min(options.rest_header_timeout_seconds,
                            options.rest_idle_timeout_seconds)
    return _Server(answer, max_connections=max_connections, access_log=None,
                   keepalive_timeout=keepalive_timeout, auto_decompress=False)
