"""tfgan.serving.rest on a real port: every route, every error path, and a live version swap."""

import asyncio
import base64
import concurrent.futures
import dataclasses
import gc
import gzip
import json
import logging
import socket
import threading
import tracemalloc

import aiohttp
import numpy as np
import pytest
import tensorflow as tf
from aiohttp import web
from google.protobuf import json_format
from tensorflow_serving.apis import get_model_metadata_pb2, get_model_status_pb2

from serving_fixtures import (
    MODEL_NAME,
    build_networks,
    exported_model,
    http,
    install_version,
    latent,
    model_config,
    raw_exchange,
)
from tfgan.serving import BackgroundServer, ServerOptions, rest
from tfgan.serving.versions import read_signature_defs

METRICS_PATH = "/monitoring/prometheus/metrics"


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    return exported_model(tmp_path_factory, 1)


@pytest.fixture(scope="module")
def server(tmp_path_factory, export):
    base = tmp_path_factory.mktemp("rest") / MODEL_NAME
    install_version(export, base, 1)
    options = ServerOptions(
        model_config(base, labels={"stable": 1}), grpc_port=None, rest_port=0,
        file_system_poll_wait_seconds=-1, prometheus_path=METRICS_PATH,
        max_request_bytes=200_000, max_samples_per_request=64,
    )
    with BackgroundServer(options) as running:
        yield running


def post(server, path, body):
    status, content_type, text = http("POST", server.rest_url + path, body)
    assert content_type == "application/json"
    return status, json.loads(text)


def predict(server, body, path=f"/v1/models/{MODEL_NAME}:predict"):
    return post(server, path, json.dumps(body) if isinstance(body, dict) else body)


# ---- status and metadata ----------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", "/versions/1", "/labels/stable"])
def test_status_is_the_proto_as_json(server, suffix):
    status, content_type, text = http("GET", f"{server.rest_url}/v1/models/{MODEL_NAME}{suffix}")
    assert (status, content_type) == (200, "application/json")
    expected = get_model_status_pb2.GetModelStatusResponse()
    entry = expected.model_version_status.add(version=1, state=30)
    entry.status.error_code = 0
    assert text == json_format.MessageToJson(
        expected, always_print_fields_with_no_presence=True, indent=1) + "\n"
    assert json.loads(text)["model_version_status"][0]["version"] == "1"


def test_metadata_is_the_signature_def_map(server, export):
    status, content_type, text = http("GET", f"{server.rest_url}/v1/models/{MODEL_NAME}/metadata")
    assert (status, content_type) == (200, "application/json")
    answer = json.loads(text)
    assert answer["model_spec"] == {"name": MODEL_NAME, "signature_name": "", "version": "1"}
    signature_map = get_model_metadata_pb2.SignatureDefMap()
    for name, signature in read_signature_defs(str(export)).items():
        signature_map.signature_def[name].CopyFrom(signature)
    assert answer["metadata"]["signature_def"] == json.loads(json_format.MessageToJson(
        signature_map, preserving_proto_field_name=True, always_print_fields_with_no_presence=True))
    assert "@type" not in text
    z_input = answer["metadata"]["signature_def"]["signature_def"]["serving_default"]["inputs"]["z"]
    assert z_input["tensor_shape"]["dim"] == [{"size": "-1", "name": ""}, {"size": "3", "name": ""}]


# ---- predict --------------------------------------------------------------------------------


def test_row_predict_matches_the_generator(server):
    z = np.array([[0.1, -0.2, 0.3], [1.0, 0.5, -1.5]], np.float32)
    status, answer = predict(server, {"instances": z.tolist()})
    assert status == 200
    generator, _ = build_networks(1)
    np.testing.assert_allclose(answer["predictions"], generator(z).numpy(), rtol=1e-5)


def test_columnar_predict_is_seed_deterministic(server):
    body = {"signature_name": "sample", "inputs": {"num_samples": 3, "seed": 7}}
    status, first = predict(server, body)
    assert status == 200 and set(first["outputs"]) == {"samples", "z"}
    np.testing.assert_allclose(first["outputs"]["z"], latent(3, 7).numpy(), rtol=1e-6)
    assert predict(server, body)[1] == first
    other = predict(server, {"signature_name": "sample", "inputs": {"num_samples": 3, "seed": 8}})
    assert not np.allclose(other[1]["outputs"]["z"], first["outputs"]["z"])


def test_rows_of_several_outputs_are_objects(server):
    status, answer = predict(server, {"signature_name": "sample_seeds", "instances": [3, 9]})
    assert status == 200
    assert [set(row) for row in answer["predictions"]] == [{"samples", "z"}] * 2
    np.testing.assert_allclose(answer["predictions"][1]["z"], latent(1, 9).numpy()[0], rtol=1e-6)


def test_bytes_outputs_come_back_as_base64(server):
    status, answer = predict(server, {"signature_name": "sample_png",
                                      "inputs": {"num_samples": 2, "seed": 1}})
    assert status == 200 and len(answer["outputs"]) == 2
    png = base64.b64decode(answer["outputs"][0]["b64"])
    assert png.startswith(b"\x89PNG") and tf.io.decode_png(png).shape == (4, 4, 1)


def test_large_answers_are_sent_in_chunks_whole_and_with_their_length(server, monkeypatch):
    body = json.dumps({"signature_name": "sample", "inputs": {"num_samples": 64, "seed": 5}})
    path = f"/v1/models/{MODEL_NAME}:predict"
    request = (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n"
               f"{body}").encode()
    whole = raw_exchange(server.rest_url, request)
    monkeypatch.setattr(rest, "SEND_CHUNK_BYTES", 1000)  # this answer: ~30 writes
    status, head, text = raw_exchange(server.rest_url, request)
    assert (status, text) == (whole[0], whole[2]) and status == 200
    assert f"Content-Length: {len(text.encode())}" in head and "Transfer-Encoding" not in head
    assert "Content-Type: application/json" in head
    # A client that hangs up mid-answer costs the server nothing.
    host, port = server.rest_url[len("http://"):].rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=20) as sock:
        sock.sendall(request)
        sock.recv(100)
    assert predict(server, json.loads(body))[0] == 200


def test_version_and_label_paths(server):
    for path in ("/versions/1", "/labels/stable", "/VERSIONS/1"):
        status, answer = predict(server, {"instances": [[0.0, 0.0, 0.0]]},
                                 f"/v1/models/{MODEL_NAME}{path}:predict")
        assert status == 200 and np.shape(answer["predictions"]) == (1, 4, 4, 1)


def good_request_still_works(server):
    status, answer = predict(server, {"instances": [[0.0, 1.0, 2.0]]})
    return status == 200 and np.shape(answer["predictions"]) == (1, 4, 4, 1)


@pytest.mark.parametrize("path, body, status, message", [
    ("/v1/models/nope:predict", '{"instances": [1]}', 404,
     "Servable not found for request: Latest(nope)"),
    ("/v1/models/toy/versions/9:predict", '{"instances": [1]}', 404,
     "Servable not found for request: Specific(toy, 9)"),
    ("/v1/models/toy/labels/beta:predict", '{"instances": [1]}', 400,
     "Unrecognized servable version label: beta"),
    ("/v1/models/toy:predict", '{"signature_name": "nope", "instances": [1]}', 400,
     'Serving signature name: "nope" not found in signature def'),
    ("/v1/models/toy:predict", '{"signature_name": "sample", "inputs": {"num_samples": 2}}',
     400, "Missing named input: seed in 'inputs' object."),
    ("/v1/models/toy:predict", '{"signature_name": "sample", "instances": [{"num_samples": 2,'
     ' "seed": 1, "extra": 3}]}', 400, "Failed to process element: 0 key: extra of 'instances'"
     " list. Error: INVALID_ARGUMENT: JSON object: does not have named input: extra"),
    ("/v1/models/toy:predict", "instances = [1, 2]", 400,
     "JSON Parse error: Invalid value. at offset: 0"),
    ("/v1/models/toy:predict", "", 400, "JSON Parse error: The document is empty"),
    ("/v1/models/toy:predict", '{"instances": [[1, 2, 3]], "inputs": [[1, 2, 3]]}', 400,
     'JSON Value: {\n    "instances": [[1, 2, 3]],\n    "inputs": [[1, 2, 3]]\n} Not formatted'
     " correctly expecting only one of 'inputs' or 'instances' keys to exist "),
    ("/v1/models/toy:predict", '{"signature_name": "serving_default"}', 400,
     "Missing 'inputs' or 'instances' key"),
    ("/v1/models/toy:predict", '{"signature_name": "sample", "inputs": {"num_samples": 2.0,'
     ' "seed": 1}}', 400, "JSON Value: 2.0 Type: Number is not of expected type: int32"),
    ("/v1/models/toy:predict", '{"instances": [[1, 2]]}', 400,
     "Matrix size-incompatible: In[0]: [1,2], In[1]: [3,16]"),
    ("/v1/models/toy:predict", '{"signature_name": "sample", "inputs": {"num_samples": 65,'
     ' "seed": 1}}', 400, "num_samples=65 is more than this server's max_samples_per_request=64"),
    ("/v1/models/toy:classify", '{"examples": [{"x": 1}]}', 400,
     "No classification inputs found in SignatureDef: inputs {"),
    ("/v1/models/toy:regress", '{"signature_name": "sample", "examples": [{"x": 1}]}', 400,
     "Expected one input Tensor."),
    ("/v1/models/toy:PREDICT", '{"instances": [1]}', 400,
     "Malformed request: POST /v1/models/toy:PREDICT"),
    ("/v1/models/toy/versions/99999999999999999999:predict", '{"instances": [1]}', 400,
     "Failed to convert version: 99999999999999999999 to numeric."),
])
def test_predict_errors_and_the_server_keeps_serving(server, path, body, status, message):
    answer_status, answer = post(server, path, body)
    assert answer_status == status
    assert answer["error"].startswith(message)
    assert good_request_still_works(server)


@pytest.mark.parametrize("method, path, status, message", [
    ("GET", "/v1/models/nope", 404, "Could not find any versions of model nope"),
    ("GET", "/v1/models/toy/versions/4", 404, "Could not find version 4 of model toy"),
    ("GET", "/v1/models/nope/metadata", 404, "Servable not found for request: Latest(nope)"),
    ("GET", "/v1/models", 400, "Missing model name in request."),
    ("GET", "/v1/foo", 400, "Malformed request: GET /v1/foo"),
    ("GET", "/v1/models/toy:predict", 400, "Malformed request: GET /v1/models/toy:predict"),
    ("POST", "/v1/models/toy/metadata", 400, "Malformed request: POST /v1/models/toy/metadata"),
    ("PUT", "/v1/models/toy", 400, "Malformed request: PUT /v1/models/toy"),
    ("GET", "/index.html", 404, "Not found: GET /index.html"),
])
def test_path_errors(server, method, path, status, message):
    answer_status, content_type, text = http(method, server.rest_url + path,
                                             b"" if method != "GET" else None)
    assert (answer_status, content_type) == (status, "application/json")
    assert json.loads(text) == {"error": message}
    assert good_request_still_works(server)


def test_oversized_bodies_are_refused(server):
    body = json.dumps({"instances": [[0.5, 0.5, 0.5]] * 20_000})
    status, answer = post(server, f"/v1/models/{MODEL_NAME}:predict", body)
    assert status == 413
    assert answer == {"error": "Request body is larger than this server's limit of 200000 bytes"}
    assert good_request_still_works(server)


def test_prometheus_metrics_count_requests(server):
    predict(server, {"instances": [[0.0, 0.0, 0.0]]})
    status, content_type, text = http("GET", server.rest_url + METRICS_PATH)
    assert (status, content_type) == (200, "text/plain")
    counts = dict(line.rsplit(" ", 1) for line in text.splitlines() if not line.startswith("#"))
    assert int(counts[':tensorflow:serving:request_count{model_name="toy",status="OK"}']) >= 1
    assert ':tensorflow:serving:request_latency_count{API="predict",entrypoint="REST",' \
           'model_name="toy"}' in counts


def test_cors_when_enabled_answers_preflights_and_allows_any_origin(server):
    async def exchange():
        with concurrent.futures.ThreadPoolExecutor(2) as executor:
            options = dataclasses.replace(server.server.options, rest_api_enable_cors_support=True)
            runner = web.ServerRunner(rest.create_server(server.registry, executor, options))
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            url = f"http://127.0.0.1:{runner.addresses[0][1]}/v1/models/{MODEL_NAME}:predict"
            try:
                async with aiohttp.ClientSession() as session:
                    async with session.options(url, headers={"Origin": "http://a.b"}) as answer:
                        preflight = answer.status, dict(answer.headers)
                    async with session.post(url, data=b'{"instances": [[0, 1, 2]]}') as answer:
                        return preflight, (answer.status, dict(answer.headers))
            finally:
                await runner.cleanup()

    (status, headers), (predict_status, predict_headers) = asyncio.run(exchange())
    assert status == 200 and headers["Access-Control-Allow-Origin"] == "*"
    assert headers["Access-Control-Allow-Methods"] == "POST, GET"
    assert predict_status == 200 and predict_headers["Access-Control-Allow-Origin"] == "*"
    _, head, _ = raw_exchange(server.rest_url, b"GET /v1/models/toy HTTP/1.1\r\nHost: x\r\n\r\n")
    assert "Access-Control-Allow-Origin" not in head  # off unless asked for


# ---- bad input at the HTTP level ----------------------------------------------------------------


@pytest.mark.parametrize("request_bytes, expected_status, message", [
    (b"GET /v1/models/%FF%FE HTTP/1.1\r\nHost: x\r\n\r\n", 404,
     "Could not find any versions of model \ufffd\ufffd"),
    (b"POST /v1/models/%FF:predict HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}", 404,
     "Servable not found for request: Latest(\ufffd)"),
    (b"GET /v1/models/\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n", 400, "Invalid char in url path"),
    (b"POST /v1/models/toy:predict HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\n"
     b"Content-Length: 10\r\n\r\n0123456789", 400, "Cannot read the request body"),
    (b"POST /v1/models/toy:predict HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"5\r\n{\"ins\r\nzz\r\n", 400, "Invalid character in chunk size"),
    (b"GET /v1/models/../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", 400,
     "Malformed request: GET /v1/models/../../etc/passwd"),
    (b"POST /v1/models/toy:predict HTTP/1.1\r\nHost: x\r\nContent-Length: 300000\r\n\r\n", 413,
     "Request body is larger than this server's limit of 200000 bytes"),
    (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http\r\n\r\n", 400, ""),
    (b"GET /v1/models/to\ny HTTP/1.1\r\nHost: x\r\n\r\n", 400, "Invalid header token"),
    (b"GET /v1/models/toy%0a HTTP/1.1\r\nHost: x\r\n\r\n", 404,
     "Could not find any versions of model toy\n"),
    (b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 404,
     "Not found: CONNECT example.com:443"),
    (b"FOO / HTTP/1.1\r\nHost: x\r\n\r\n", 400, "Invalid method encountered"),
    (b"POST /v1/models/toy:predict HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\n"
     b"Content-Length: 2\r\n\r\n{}", 417, "Unknown Expect header: '200-ok' (only 100-continue)"),
    (b"POST /v1/models/toy:predict HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
     b"Content-Length: 300000\r\n\r\n", 413,  # refused before `100 Continue` is sent
     "Request body is larger than this server's limit of 200000 bytes"),
    (b"GET /v1/models/toy/versions/" + b"1" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 400,
     "Failed to convert version: 111"),
    (b"POST /v1/models/toy:predict HTTP/1.1\r\nHost: x\r\nContent-Length: 20001\r\n\r\n"
     + b"[" * 20001, 400, "JSON Parse error: arrays and objects nested too deeply."),
])
def test_malformed_http_gets_a_json_4xx(server, request_bytes, expected_status, message,
                                        caplog):
    with caplog.at_level(logging.INFO, logger="tfgan.serving"):
        status, head, body = raw_exchange(server.rest_url, request_bytes)
    assert status == expected_status
    assert "application/json" in head and "100 Continue" not in head
    assert message in json.loads(body)["error"]
    # Logged, if at all, in one line without a traceback: a client's fault, not the server's.
    assert all("\n" not in r.getMessage() and not r.exc_info for r in caplog.records)
    assert good_request_still_works(server)


@pytest.mark.parametrize("body, message", [
    ('{"signature_name": "sample", "inputs": {"num_samples": 1, "seed": 1' + "1" * 4999 + "}}",
     "JSON Parse error: Number too big to be stored in double. at offset: 66"),
    ('{"signature_name": "sample", "inputs": {"num_samples": [2], "seed": 1}}',
     "Input num_samples of signature sample takes a scalar, not a list; the request gave"
     " shape [1]"),
    ('{"signature_name": "sample", "instances": [{"num_samples": 2, "seed": 1}]}',
     "Input num_samples of signature sample takes a scalar, not a list; the request gave"
     " shape [1] (`instances` adds a batch dimension to every input: send scalars in"
     " `inputs`)"),
    ('{"signature_name": "sample_seeds", "inputs": {"seeds": 3}}',
     "Input seeds of signature sample_seeds takes shape [-1] (-1: any size); the request gave"
     " shape []"),
])
def test_inputs_the_graph_cannot_take_get_a_400_that_says_why(server, body, message):
    status, answer = predict(server, body)
    assert (status, answer) == (400, {"error": message})
    assert good_request_still_works(server)


def test_a_huge_number_in_an_example_is_a_400(server):
    status, answer = post(server, f"/v1/models/{MODEL_NAME}:classify",
                          '{"examples": [{"x": ' + "1" * 5000 + "}]}")
    assert (status, answer) == (400, {"error": "JSON Parse error: Number too big to be stored in"
                                               " double. at offset: 20"})


def test_gzip_bodies_are_read_and_a_gzip_bomb_is_refused_without_keeping_memory(server):
    path = f"/v1/models/{MODEL_NAME}:predict"
    good = gzip.compress(json.dumps({"instances": [[0.0, 1.0, 2.0]]}).encode())
    request = (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\n"
               f"Content-Length: {len(good)}\r\n\r\n").encode()
    status, _, text = raw_exchange(server.rest_url, request + good)
    assert status == 200 and np.shape(json.loads(text)["predictions"]) == (1, 4, 4, 1)
    bomb = gzip.compress(b" " * 50_000_000)  # 49 kB inflating to 50 MB; the limit is 200 kB
    request = (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\n"
               f"Content-Length: {len(bomb)}\r\n\r\n").encode()
    raw_exchange(server.rest_url, request + bomb)  # once, so that lazy imports are done
    tracemalloc.start()
    try:
        status, _, text = raw_exchange(server.rest_url, request + bomb)
        gc.collect()
        held, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert status == 413 and "once decompressed" in json.loads(text)["error"]
    assert peak < 5_000_000  # inflated no further than the limit
    assert held < 1_000_000  # and nothing of it kept
    assert good_request_still_works(server)


def test_expect_100_continue_gets_it_once_the_declared_size_is_checked(server):
    body = json.dumps({"instances": [[0.0, 1.0, 2.0]]}).encode()
    host, port = server.rest_url[len("http://"):].rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=20) as sock:
        sock.sendall(f"POST /v1/models/{MODEL_NAME}:predict HTTP/1.1\r\nHost: x\r\n"
                     f"Expect: 100-continue\r\nContent-Length: {len(body)}\r\n\r\n".encode())
        assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(body)
        assert sock.recv(100).startswith(b"HTTP/1.1 200 OK")


@pytest.fixture(scope="module")
def guarded(tmp_path_factory, export):
    base = tmp_path_factory.mktemp("guarded") / MODEL_NAME
    install_version(export, base, 1)
    options = ServerOptions(
        model_config(base), grpc_port=None, rest_port=0, file_system_poll_wait_seconds=-1,
        rest_max_connections=3, rest_header_timeout_seconds=0.5, rest_body_timeout_seconds=0.5,
        rest_api_timeout_in_ms=500,
    )
    with BackgroundServer(options) as running:
        yield running


def test_slow_headers_close_the_connection_and_slow_bodies_get_408(guarded):
    # The server acts once the timeouts pass; the client only waits for it. Headers that do
    # not arrive are not a request, so there is nothing to answer: the connection closes.
    assert raw_exchange(guarded.rest_url, b"GET /v1/models/toy HTTP/1.1\r\nHo") == (0, "", "")
    status, head, body = raw_exchange(
        guarded.rest_url, b"POST /v1/models/toy:predict HTTP/1.1\r\nHost: x\r\n"
                          b"Content-Length: 50\r\n\r\n{\"instances\"")
    assert status == 408 and "did not arrive" in json.loads(body)["error"]
    assert good_request_still_works(guarded)


def test_connections_past_the_limit_get_503(guarded):
    host, port = guarded.rest_url[len("http://"):].rsplit(":", 1)
    held = [socket.create_connection((host, int(port)), timeout=20) for _ in range(3)]
    try:
        status, head, body = raw_exchange(guarded.rest_url,
                                          b"GET /v1/models/toy HTTP/1.1\r\nHost: x\r\n\r\n")
        assert status == 503 and "Too many connections" in json.loads(body)["error"]
    finally:
        for sock in held:
            sock.close()


def test_a_call_past_its_deadline_is_answered_504_and_finishes_on_its_own(guarded, monkeypatch):
    release, finished = threading.Event(), threading.Event()
    predict_now = guarded.registry.predict

    def held_predict(*args, **kwargs):  # runs until the test has its answer
        release.wait()
        try:
            return predict_now(*args, **kwargs)
        finally:
            finished.set()

    monkeypatch.setattr(guarded.registry, "predict", held_predict)
    status, answer = predict(guarded, {"instances": [[0.0, 1.0, 2.0]]})
    assert (status, answer) == (504, {"error": "Timed out waiting for notification"})
    release.set()
    assert finished.wait(60)  # the call was not abandoned: it ran to its end
    monkeypatch.undo()
    assert good_request_still_works(guarded)


# ---- a new version while the server runs ------------------------------------------------------


def test_64_clients_see_no_failure_while_a_new_version_is_picked_up(tmp_path, tmp_path_factory):
    """Issue 16: load during a version swap; every answer is whole and from one version."""
    base = tmp_path / MODEL_NAME
    install_version(exported_model(tmp_path_factory, 1), base, 1)
    version_2 = exported_model(tmp_path_factory, 2)
    options = ServerOptions(model_config(base), grpc_port=None, rest_port=0,
                            file_system_poll_wait_seconds=-1)  # the test polls, at its moment
    z = np.array([[0.3, -0.1, 0.7]], np.float32)
    expected = {version: build_networks(version)[0](z).numpy() for version in (1, 2)}
    body = json.dumps({"instances": z.tolist()}).encode()
    answers = []

    async def clients(running, url):
        swapped = asyncio.Event()
        enough_before = asyncio.Event()
        async with aiohttp.ClientSession() as session:

            async def client():
                # Bounded: stops once 64 answers came after the swap, or at 60 requests.
                for _ in range(60):
                    sent_after_swap = swapped.is_set()
                    async with session.post(url, data=body) as response:
                        answers.append((sent_after_swap, response.status, await response.text()))
                    if len(answers) >= 64:
                        enough_before.set()
                    if swapped.is_set() and sum(after for after, _, _ in answers) >= 64:
                        return

            async def swap():
                await enough_before.wait()
                install_version(version_2, base, 2)
                await asyncio.get_running_loop().run_in_executor(None, running.registry.poll_once)
                swapped.set()

            await asyncio.gather(swap(), *(client() for _ in range(64)))

    with BackgroundServer(options) as running:
        asyncio.run(clients(running, f"{running.rest_url}/v1/models/{MODEL_NAME}:predict"))
        status = json.loads(http("GET", f"{running.rest_url}/v1/models/{MODEL_NAME}")[2])
    assert [(s["version"], s["state"]) for s in status["model_version_status"]] == [
        ("2", "AVAILABLE"), ("1", "END")]
    assert [code for _, code, _ in answers if code != 200] == []
    served = [(after, np.asarray(json.loads(text)["predictions"])) for after, _, text in answers]
    versions = [1 if np.allclose(s, expected[1], rtol=1e-5) else
                2 if np.allclose(s, expected[2], rtol=1e-5) else None for _, s in served]
    assert None not in versions  # every answer whole, from a complete version
    assert versions[0] == 1
    assert all(v == 2 for (after, _), v in zip(served, versions) if after)
