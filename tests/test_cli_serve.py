"""tfgan.cli.serve: tensorflow_model_server's flags, one-line errors, a ready line, clean stops,
and a served process whose memory stays flat under bad requests."""

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

from serving_fixtures import (
    MODEL_NAME,
    declared_rows_request,
    exported_model,
    free_port,
    http,
    install_version,
    raw_exchange,
)
from tfgan.cli import serve
from tfgan.cli.flags import flags_parser
from tfgan.serving import BatchingOptions

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli_serve") / MODEL_NAME
    install_version(exported_model(tmp_path_factory, 1), path, 1)
    return path


def options_for(*args):
    flags_parser(serve.FLAGS, serve.__doc__)(["tfgan-serve", *args])
    return serve.options_from_flags()


def run_serve(*args):
    with pytest.raises(SystemExit) as caught:
        serve.run(["tfgan-serve", *args])
    return caught.value.code


def test_flags_map_to_server_options(base, tmp_path):
    batching = tmp_path / "batching.config"
    batching.write_text("max_batch_size { value: 16 } batch_timeout_micros { value: 500 }")
    monitoring = tmp_path / "monitoring.config"
    monitoring.write_text("prometheus_config { enable: true }")
    options = options_for(f"--model_base_path={base}", "--model_name=toy", "--port=0",
                          "--rest_api_port=9000", "--enable_batching",
                          f"--batching_parameters_file={batching}",
                          f"--monitoring_config_file={monitoring}", "--host=0.0.0.0")
    assert options.grpc_port is None and options.rest_port == 9000
    assert options.host == "0.0.0.0" and options.max_samples_per_request == 1024
    assert options.batching_options().max_batch_size == 16
    assert options.batching_options().batch_timeout_micros == 500
    assert options.metrics_path() == "/monitoring/prometheus/metrics"
    [model] = options.models().model_config_list.config
    assert (model.name, model.base_path) == ("toy", str(base))
    defaults = options_for(f"--model_base_path={base}", "--enable_batching")
    assert defaults.batching_options() == BatchingOptions()
    # The stock server's defaults for the flags it shares.
    assert (defaults.max_num_load_retries, defaults.load_retry_interval_micros) == (5, 60_000_000)
    assert defaults.enable_model_warmup and not defaults.allow_version_labels_for_unavailable_models
    assert defaults.model_config_file_poll_wait_seconds == 0
    assert (defaults.grpc_port, defaults.rest_port, defaults.host) == (8500, 8501, "127.0.0.1")
    assert defaults.models().model_config_list.config[0].name == "default"


def test_stock_flags_the_project_passes_are_taken(tmp_path, base):
    config = tmp_path / "models.config"
    config.write_text(f'model_config_list {{ config {{ name: "toy" base_path: "{base}" }} }}')
    options = options_for(f"--model_config_file={config}",
                          "--model_config_file_poll_wait_seconds=30",
                          "--allow_version_labels_for_unavailable_models=true",
                          "--max_num_load_retries=2", "--load_retry_interval_micros=1000",
                          "--enable_model_warmup=false", "--rest_max_connections=10",
                          "--grpc_idle_timeout_seconds=5")
    assert options.model_config_file == str(config)
    assert options.model_config_file_poll_wait_seconds == 30
    assert options.allow_version_labels_for_unavailable_models
    assert (options.max_num_load_retries, options.load_retry_interval_micros) == (2, 1000)
    assert not options.enable_model_warmup
    assert (options.rest_max_connections, options.grpc_idle_timeout_seconds) == (10, 5)


def test_help_names_each_difference_from_the_stock_flags():
    for flag in ("--rest_api_port", "--port=0", "--host", "--max_samples_per_request"):
        assert flag in serve.__doc__


@pytest.mark.parametrize("args, message", [
    ([], "error: set --model_base_path (with --model_name) or --model_config_file"),
    (["--model_base_path=/x", "--model_config_file=/y"],
     "error: --model_config_file and --model_base_path cannot both be set."),
    (["--model_config_file=/nonexistent.config"], "error: cannot read ModelServerConfig"),
    (["--model_base_path=/x", "--port=0", "--rest_api_port=0"],
     "error: at least one of the gRPC and REST ports must be on."),
    (["--model_base_path=/x", "--port=70000"],
     "error: --port=70000: 70000 is not an integer in the range [0, 65535]"),
    (["--model_base_path=/x", "--enable_batching", "--batching_parameters_file=/nope"],
     "error: cannot read BatchingParameters"),
    (["--model_base_path=/no/such/export"],
     "error: --model_base_path=/no/such/export: no such directory; expected the directory "
     "holding the model's version directories"),
])
def test_bad_flags_are_one_line_and_status_2(capsys, args, message):
    assert run_serve(*args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith(message)


def test_a_config_file_naming_a_missing_base_path_is_refused(base, tmp_path, capsys):
    config = tmp_path / "models.config"
    config.write_text(f'model_config_list {{ config {{ name: "{MODEL_NAME}" base_path: "{base}" '
                      'model_platform: "tensorflow" } config { name: "gone" base_path: '
                      '"/no/such/export" model_platform: "tensorflow" } }')
    assert run_serve(f"--model_config_file={config}") == 2
    assert capsys.readouterr().err.strip().startswith(
        f"error: the base_path of model 'gone' in --model_config_file={config}: no such "
        "directory")


def test_a_busy_port_is_one_line_and_status_1(base, capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code = run_serve(f"--model_base_path={base}", "--port=0", f"--rest_api_port={port}")
    err = capsys.readouterr().err.strip()
    assert code == 1
    assert len(err.splitlines()) == 1 and err.startswith("error: ")


def start_serve(command, base, rest_port, grpc_port):
    """`command` (a list) with the model and port flags, its stdout piped, from the repo root."""
    return subprocess.Popen(
        [*command, f"--model_base_path={base}", f"--model_name={MODEL_NAME}",
         f"--port={grpc_port}", f"--rest_api_port={rest_port}"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )


def test_a_server_killed_with_sigkill_serves_again_on_restart(base):
    rest_port, grpc_port = free_port(), free_port()
    command = [sys.executable, "-m", "tfgan.cli.serve"]  # this checkout's tfgan
    for attempt in range(2):
        process = start_serve(command, base, rest_port, grpc_port)
        try:
            assert process.stdout.readline().startswith(f"Serving {MODEL_NAME} on REST")
            body = '{"signature_name": "sample", "inputs": {"num_samples": 1, "seed": 3}}'
            status, _, text = http(
                "POST", f"http://127.0.0.1:{rest_port}/v1/models/{MODEL_NAME}:predict", body)
            assert status == 200 and set(json.loads(text)["outputs"]) == {"samples", "z"}
            if attempt == 0:
                process.send_signal(signal.SIGKILL)  # no cleanup at all
                assert process.wait(timeout=30) == -signal.SIGKILL
        finally:
            process.kill()
            process.wait()


def test_serves_until_sigterm(base):
    rest_port, grpc_port = free_port(), free_port()
    process = start_serve([sys.executable, str(ROOT / "scripts" / "serve.py")], base,
                          rest_port, grpc_port)
    try:
        ready = process.stdout.readline().strip()
        assert ready == (f"Serving {MODEL_NAME} on REST http://127.0.0.1:{rest_port} and gRPC"
                         f" grpc://127.0.0.1:{grpc_port}")
        status, _, text = http("GET", f"http://127.0.0.1:{rest_port}/v1/models/{MODEL_NAME}")
        assert status == 200
        assert json.loads(text)["model_version_status"][0]["state"] == "AVAILABLE"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        process.kill()
        process.wait()


def rss_bytes(pid):
    """The resident set size of process `pid`, from `/proc/<pid>/status`."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS line for process {pid}")


def send_bad_requests(rest_url, predictions, name):
    """One request of each bad kind, `name` as the unknown model; each must be refused."""
    nested = b"[" * 20_000
    for path, head, body, status in (
        (f"{MODEL_NAME}:predict", f"Content-Length: {2**40}", b"", 413),
        (f"{MODEL_NAME}:predict", f"Content-Length: {len(nested)}", nested, 400),
        (f"{name}:predict", "Content-Length: 2", b"{}", 404),
    ):
        data = f"POST /v1/models/{path} HTTP/1.1\r\nHost: x\r\n{head}\r\n\r\n".encode() + body
        assert raw_exchange(rest_url, data)[0] == status
    for model, rows, code in ((MODEL_NAME, 2**40, grpc.StatusCode.INVALID_ARGUMENT),
                              (MODEL_NAME, 300_000_000, grpc.StatusCode.INVALID_ARGUMENT),
                              (name, 1, grpc.StatusCode.NOT_FOUND)):
        # One value declared to fill the whole shape.
        request = declared_rows_request(model, rows, [0.5])
        with pytest.raises(grpc.RpcError) as caught:
            predictions.Predict(request, timeout=30)
        assert caught.value.code() == code


def good_requests_answer(rest_url, predictions):
    body = '{"signature_name": "sample", "inputs": {"num_samples": 2, "seed": 3}}'
    status, _, text = http("POST", f"{rest_url}/v1/models/{MODEL_NAME}:predict", body)
    request = predict_pb2.PredictRequest()
    request.model_spec.name = MODEL_NAME
    request.inputs["z"].CopyFrom(tf.make_tensor_proto(np.zeros((2, 3), np.float32)))
    samples = tf.make_ndarray(predictions.Predict(request, timeout=30).outputs["samples"])
    return status == 200 and len(json.loads(text)["outputs"]["samples"]) == 2 and \
        samples.shape == (2, 4, 4, 1)


def test_memory_stays_flat_under_bad_requests(base):
    rest_port, grpc_port = free_port(), free_port()
    rest_url = f"http://127.0.0.1:{rest_port}"
    process = start_serve([sys.executable, "-m", "tfgan.cli.serve"], base, rest_port, grpc_port)
    try:
        assert process.stdout.readline().startswith(f"Serving {MODEL_NAME} on REST")
        with grpc.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
            predictions = prediction_service_pb2_grpc.PredictionServiceStub(channel)
            # Warm-up: every path these requests take has run once before measuring.
            assert good_requests_answer(rest_url, predictions)
            for round_number in range(5):
                send_bad_requests(rest_url, predictions, f"nope{round_number}")
            before = rss_bytes(process.pid)
            for round_number in range(5, 55):  # 300 bad requests, 50 unknown model names
                send_bad_requests(rest_url, predictions, f"nope{round_number}")
            grown = rss_bytes(process.pid) - before
            assert grown < 50 * 2**20, f"the server grew by {grown / 2**20:.1f} MB"
            assert good_requests_answer(rest_url, predictions)
    finally:
        process.kill()
        process.wait()
