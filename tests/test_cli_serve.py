"""tfgan.cli.serve: tensorflow_model_server's flags, one-line errors, a ready line, clean stops,
and a served process whose memory stays flat under bad requests."""

import functools
import gzip
import http.client as http_client
import json
import os
import select
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
import tfgan
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
    assert defaults.num_request_iterations_for_warmup == 0
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
    for flag in ("--rest_api_port", "--port=0", "--host", "--max_samples_per_request",
                 "--max_request_bytes", "--allow_reload_config_requests",
                 "--allowed_model_roots", "--ssl_config_file", "--rest_api_processes"):
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
    (["--model_base_path=/x", "--rest_api_processes=2", "--monitoring_config_file=/m"],
     "error: --rest_api_processes=2 cannot be set with --monitoring_config_file: metrics and "
     "reloads would each reach one process only"),
    (["--model_base_path=/x", "--rest_api_processes=2", "--rest_api_port=0"],
     "error: --rest_api_processes=2 needs REST on; --rest_api_port is 0"),
    (["--model_base_path=/x", "--rest_api_processes=0"],
     "error: --rest_api_processes=0: 0 is not a positive integer"),
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


def connections_held(pids, port, count):
    """Opens `count` keep-alive connections to `port`, each answered once, and returns how
    many of them each process of `pids` holds (from /proc: the sockets of its descriptors
    that are established connections to the port)."""
    connections = [http_client.HTTPConnection("127.0.0.1", port, timeout=60)
                   for _ in range(count)]
    try:
        for connection in connections:
            connection.request("GET", f"/v1/models/{MODEL_NAME}")
            assert connection.getresponse().read()
        rows = [line.split() for line in Path("/proc/net/tcp").read_text().splitlines()[1:]]
        established = {f"socket:[{row[9]}]" for row in rows  # local port, state ESTABLISHED
                       if row[1].endswith(f":{port:04X}") and row[3] == "01"}
        return [sum(os.readlink(fd) in established for fd in Path(f"/proc/{pid}/fd").iterdir())
                for pid in pids]
    finally:
        for connection in connections:
            connection.close()


def ends(pid):
    """Whether process `pid` (not necessarily a child) ends within a minute (it may stay a
    zombie: nothing here reaps it)."""
    with os.fdopen(os.pidfd_open(pid)) as pidfd:
        return bool(select.select([pidfd], [], [], 60)[0])


def test_rest_processes_share_the_port_come_back_and_end_with_the_server(base):
    rest_port, grpc_port = free_port(), free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tfgan.cli.serve", "--rest_api_processes=2",
         f"--model_base_path={base}", f"--model_name={MODEL_NAME}", f"--port={grpc_port}",
         f"--rest_api_port={rest_port}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    try:
        assert process.stdout.readline().strip() == (
            f"Serving {MODEL_NAME} on REST http://127.0.0.1:{rest_port} (2 processes) and "
            f"gRPC grpc://127.0.0.1:{grpc_port}")
        [other] = [int(pid) for children in Path(f"/proc/{process.pid}/task").glob("*/children")
                   for pid in children.read_text().split()]
        # The kernel spreads connections over both (all 40 on one: a chance of 2 in 2**40).
        first_holds, other_holds = connections_held([process.pid, other], rest_port, 40)
        assert first_holds + other_holds == 40 and first_holds and other_holds
        os.kill(other, signal.SIGKILL)
        # The first process logs the end and, once it serves, the process in its place.
        while f"REST process {other} ended with status -9" not in (
                line := process.stderr.readline()):
            assert line, "the server's log ended"
        replacement = int(line.split("REST process ")[-1].split()[0])
        assert all(connections_held([process.pid, replacement], rest_port, 40))
        process.send_signal(signal.SIGKILL)  # no cleanup: the other process ends with it
        assert ends(replacement)
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", rest_port), timeout=5)
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


@functools.lru_cache(maxsize=None)
def _gzip_bomb():
    """An 80 kB gzip body that inflates to 80 MiB, past the server's 64 MiB limit."""
    return gzip.compress(b" " * (80 << 20))


def send_large_bodies(rest_url):
    """Bodies that take memory before they are refused: a gzip body inflating past the
    limit, and JSON bodies of 24 and 60 MB (under the limit) nested too deep."""
    for head, body, status in (("Content-Encoding: gzip\r\n", _gzip_bomb(), 413),
                               ("", b"[" * (24 << 20), 400), ("", b"[" * (60 << 20), 400)):
        data = (f"POST /v1/models/{MODEL_NAME}:predict HTTP/1.1\r\nHost: x\r\n{head}"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        assert raw_exchange(rest_url, data + body)[0] == status


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
            for _ in range(3):
                send_large_bodies(rest_url)
            grown = rss_bytes(process.pid) - before
            assert grown < 50 * 2**20, f"the server grew by {grown / 2**20:.1f} MB"
            assert good_requests_answer(rest_url, predictions)
    finally:
        process.kill()
        process.wait()


def test_version_prints_the_stock_lines_and_exits_0(capsys):
    assert run_serve("--version") in (0, None)
    out = capsys.readouterr().out.splitlines()
    assert out == [f"TensorFlow ModelServer: tfgan-serve {tfgan.__version__}",
                   f"TensorFlow Library: {tf.__version__}"]


def test_every_stock_flag_is_taken():
    stock = ("port grpc_socket_path rest_api_port rest_api_num_threads rest_api_timeout_in_ms "
             "rest_api_enable_cors_support enable_batching "
             "allow_version_labels_for_unavailable_models batching_parameters_file "
             "enable_per_model_batching_parameters model_config_file "
             "model_config_file_poll_wait_seconds model_name model_base_path num_load_threads "
             "num_unload_threads max_num_load_retries load_retry_interval_micros "
             "file_system_poll_wait_seconds flush_filesystem_caches "
             "tensorflow_session_parallelism tensorflow_session_config_file "
             "tensorflow_intra_op_parallelism tensorflow_inter_op_parallelism "
             "use_alts_credentials ssl_config_file platform_config_file "
             "per_process_gpu_memory_fraction saved_model_tags grpc_channel_arguments "
             "grpc_max_threads enable_model_warmup num_request_iterations_for_warmup version "
             "monitoring_config_file remove_unused_fields_from_bundle_metagraph "
             "prefer_tflite_model num_tflite_pools num_tflite_interpreters_per_pool "
             "enable_signature_method_name_check xla_cpu_compilation_enabled "
             "xla_gpu_compilation_enabled enable_profiler thread_pool_factory_config_file "
             "mixed_precision skip_initialize_tpu enable_grpc_healthcheck_service "
             "enable_serialization_as_tensor_content").split()
    assert len(stock) == 48  # main.cc's flag list
    assert [name for name in stock if name not in serve.FLAGS] == []


def test_stock_flags_with_no_effect_log_one_line_each(caplog, capsys):
    code = run_serve("--model_base_path=/no/such/export", "--num_load_threads=4",
                     "--prefer_tflite_model=false", "--enable_profiler")
    assert code == 2
    lines = [r.getMessage() for r in caplog.records if "has no effect" in r.getMessage()]
    assert lines == [
        "--num_load_threads has no effect in tfgan-serve: versions load one at a time on the "
        "polling thread",
        "--prefer_tflite_model has no effect in tfgan-serve: TFLite models are not served",
        "--enable_profiler has no effect in tfgan-serve: there is no profiler service; use "
        "TensorFlow's profiler"]


def test_tls_flags_are_refused_rather_than_serving_plain_text(base, capsys):
    assert run_serve(f"--model_base_path={base}", "--ssl_config_file=/etc/ssl.config") == 2
    assert capsys.readouterr().err.strip() == (
        "error: --ssl_config_file: TLS is not implemented; refused, not served in plain text")


def test_options_come_from_their_flags(base, tmp_path):
    options = options_for(f"--model_base_path={base}", "--grpc_socket_path=/tmp/s.sock",
                          "--grpc_channel_arguments=grpc.max_connection_age_ms=2000,"
                          "grpc.so_reuseaddr=1", "--saved_model_tags=serve,gpu",
                          "--rest_api_enable_cors_support=true", "--grpc_max_threads=8",
                          "--rest_api_num_threads=6", "--tensorflow_session_parallelism=4",
                          "--tensorflow_intra_op_parallelism=2",
                          "--tensorflow_inter_op_parallelism=3",
                          "--enable_serialization_as_tensor_content=true",
                          f"--allowed_model_roots={tmp_path}")
    assert options.grpc_socket_path == "/tmp/s.sock"
    assert options.grpc_channel_arguments == ("grpc.max_connection_age_ms=2000",
                                              "grpc.so_reuseaddr=1")
    assert options.saved_model_tags == ("serve", "gpu")
    assert options.rest_api_enable_cors_support and options.grpc_max_threads == 8
    assert options.rest_api_num_threads == 6 and (
        options.tensorflow_session_parallelism, options.tensorflow_intra_op_parallelism,
        options.tensorflow_inter_op_parallelism) == (4, 2, 3)
    assert options.enable_serialization_as_tensor_content
    assert options.allowed_model_roots == (str(tmp_path),)
    assert not options.allow_reload_config_requests


def test_a_model_whose_versions_all_fail_is_one_line_and_status_1(tmp_path, capsys):
    base = tmp_path / "broken"
    (base / "1").mkdir(parents=True)
    (base / "1" / "saved_model.pb").write_bytes(b"not a proto")
    code = run_serve(f"--model_base_path={base}", "--model_name=broken", "--port=0",
                     f"--rest_api_port={free_port()}", "--max_num_load_retries=0")
    captured = capsys.readouterr()
    assert code == 1 and "Serving" not in captured.out
    assert captured.err.strip() == (
        "error: FAILED_PRECONDITION: no version of these models loads: broken: Can't parse "
        f"{base / '1' / 'saved_model.pb'} as binary proto")
