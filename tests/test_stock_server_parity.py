"""The embedded server against the stock `tensorflow_model_server`, on one export.

Runs only where the binary is on PATH (the tensorflow-model-server apt package, or inside the
tensorflow/serving image); elsewhere it is skipped with that reason. Every request goes to both
servers: REST answers must agree in status and body (numbers to float tolerance, error bodies
by status code, since the stock server's in-graph error texts name its own kernels), and gRPC
Predict / GetModelMetadata / GetModelStatus answers must match.
"""

import json
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from export_fixtures import TinyDiscriminator, TinyGenerator
from tfgan import export
from tfgan.serving import BackgroundServer, ServerOptions, client, single_model_config

SERVING_DIR = Path(__file__).resolve().parent.parent / "serving"
MODEL = "tiny"

pytestmark = pytest.mark.skipif(
    shutil.which("tensorflow_model_server") is None,
    reason="tensorflow_model_server is not on PATH (tensorflow-model-server apt package)",
)


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _rest(url, body=None):
    """Returns (HTTP status, parsed JSON body) for a GET, or a POST of `body`."""
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    try:
        with urllib.request.urlopen(url, data=data, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    base = tmp_path_factory.mktemp("export")
    generator = TinyGenerator(4, (8, 8, 1), "tanh")
    export.export_generator(generator, export_base=str(base), model_name=MODEL,
                            prior="normal", value_range=(-1, 1),
                            discriminator=TinyDiscriminator((8, 8, 1)))
    model_path = str(base / MODEL)
    stock_rest, stock_grpc = _free_port(), _free_port()
    stock = subprocess.Popen(
        ["tensorflow_model_server", f"--port={stock_grpc}", f"--rest_api_port={stock_rest}",
         f"--model_name={MODEL}", f"--model_base_path={model_path}",
         f"--monitoring_config_file={SERVING_DIR / 'monitoring.config'}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    embedded = BackgroundServer(ServerOptions(
        single_model_config(MODEL, model_path), grpc_port=0, rest_port=0)).start()
    stock_url = f"http://127.0.0.1:{stock_rest}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status = _rest(f"{stock_url}/v1/models/{MODEL}")[1]
                if status["model_version_status"][0]["state"] == "AVAILABLE":
                    break
            except (urllib.error.URLError, ConnectionError, KeyError):
                pass
            assert time.monotonic() < deadline and stock.poll() is None, "stock server down"
            time.sleep(0.5)
        yield {
            "stock": (stock_url, f"grpc://127.0.0.1:{stock_grpc}"),
            "embedded": (embedded.rest_url, embedded.grpc_url),
        }
    finally:
        embedded.stop()
        stock.terminate()
        stock.wait(timeout=10)


ZS = [[0.5, -1.0, 0.25, 2.0], [0.0, 0.0, 0.0, 0.0]]
REST_CASES = [
    ("GET", "", None),
    ("GET", "/versions/1", None),
    ("GET", "/versions/9", None),
    ("GET", "/metadata", None),
    ("POST", ":predict", {"instances": ZS}),
    ("POST", ":predict", {"inputs": ZS}),
    ("POST", ":predict", {"inputs": {"z": ZS}}),
    ("POST", ":predict", {"signature_name": "sample", "inputs": {"num_samples": 3, "seed": 7}}),
    ("POST", ":predict", {"signature_name": "sample",
                          "inputs": {"num_samples": 3, "seed": 7, "truncation": 0.7}}),
    ("POST", ":predict", {"signature_name": "sample_seeds", "instances": [1, 2, 3]}),
    ("POST", ":predict", {"signature_name": "sample_seeds",
                          "instances": [{"seeds": s, "truncation": 0.7} for s in (1, 2, 3)]}),
    ("POST", ":predict", {"signature_name": "sample_png",
                          "inputs": {"num_samples": 2, "seed": 7, "truncation": 1.0}}),
    ("POST", ":predict", {"signature_name": "discriminate",
                          "instances": np.full((2, 8, 8, 1), 0.5).tolist()}),
    ("POST", ":predict", {"signature_name": "nope", "instances": ZS}),
    ("POST", ":predict", {"instances": ZS, "inputs": ZS}),
    ("POST", ":predict", {}),
    ("POST", ":predict", {"inputs": {"y": ZS}}),
    ("POST", ":predict", {"instances": [["a", "b", "c", "d"]]}),
    ("POST", ":predict", {"signature_name": "sample", "inputs": {"num_samples": 2.5, "seed": 7}}),
    ("POST", ":predict", b"{not json"),
    ("POST", ":classify", {"examples": [{}]}),
]


def _assert_same_json(stock, embedded):
    if isinstance(stock, dict):
        assert isinstance(embedded, dict) and sorted(stock) == sorted(embedded)
        for key in stock:
            _assert_same_json(stock[key], embedded[key])
    elif isinstance(stock, list):
        assert isinstance(embedded, list) and len(stock) == len(embedded)
        for a, b in zip(stock, embedded):
            _assert_same_json(a, b)
    elif isinstance(stock, float) or isinstance(embedded, float):
        assert embedded == pytest.approx(stock, rel=1e-5, abs=1e-6)
    else:
        assert stock == embedded


@pytest.mark.parametrize("method, suffix, body", REST_CASES)
def test_rest_answers_match(servers, method, suffix, body):
    answers = {}
    for name, (rest_url, _) in servers.items():
        url = f"{rest_url}/v1/models/{MODEL}{suffix}"
        answers[name] = _rest(url, body if method == "POST" else None)
    (stock_status, stock_body), (status, embedded_body) = answers["stock"], answers["embedded"]
    assert status == stock_status, (stock_body, embedded_body)
    if stock_status == 200:
        _assert_same_json(stock_body, embedded_body)
    else:
        assert set(embedded_body) == {"error"}


def test_unknown_model_answers_match(servers):
    answers = [_rest(f"{rest}/v1/models/missing") for rest, _ in servers.values()]
    assert answers[0] == answers[1]


@pytest.mark.parametrize("signature_name, inputs", [
    ("serving_default", {"z": np.array(ZS, np.float32)}),
    ("sample", {"num_samples": 4, "seed": 11}),
    ("sample_seeds", {"seeds": np.array([5, 6], np.int64)}),
])
def test_grpc_predict_matches(servers, signature_name, inputs):
    outputs = [client.connect(grpc_url).predict(MODEL, inputs, signature_name=signature_name)
               for _, grpc_url in servers.values()]
    assert sorted(outputs[0]) == sorted(outputs[1])
    for key in outputs[0]:
        np.testing.assert_allclose(outputs[1][key], outputs[0][key], rtol=1e-5, atol=1e-6)


def test_grpc_status_and_metadata_match(servers):
    stock, embedded = (client.connect(grpc_url) for _, grpc_url in servers.values())
    assert stock.status(MODEL) == embedded.status(MODEL)
    assert stock.metadata(MODEL) == embedded.metadata(MODEL)
