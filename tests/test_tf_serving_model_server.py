"""TF Serving's model-server tests, run against `tfgan-serve` with the stock command lines.

The cases of `tensorflow_serving/model_servers/tensorflow_model_server_test.py` (their logic,
re-expressed in pytest) on the test models that `tf_serving_models` makes as TF Serving's
`testdata/*.py` scripts do. Each server is started as the stock test base starts
`tensorflow_model_server`: `--port`, `--rest_api_port`, `--rest_api_timeout_in_ms=5000`,
`--grpc_socket_path`, the model flags, and `--grpc_channel_arguments=...grpc.so_reuseaddr=1`.
Not here: the TFLite cases, the profiler service, the Keras-2 SavedModel naming cases and
`test_tf_text` (a checked-in tensorflow-text model). A server is ready when it prints its
"Serving" line; a config change is applied when it prints it again.
"""

import asyncio
import json
import os
import queue
import subprocess
import sys
import urllib.request

import grpc
import pytest
from tensorflow.core.framework import types_pb2
from tensorflow_serving.apis import (
    classification_pb2,
    get_model_metadata_pb2,
    get_model_status_pb2,
    inference_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
    regression_pb2,
)

import tf_serving_models as models
from serving_fixtures import free_port
from tfgan.serving import BackgroundServer, ServerOptions

RPC_TIMEOUT = 5.0
VERSION = 123


@pytest.fixture(scope="module")
def testdata(tmp_path_factory):
    root = tmp_path_factory.mktemp("testdata")
    return {
        "half_plus_two": models.half_plus(str(root / "saved_model_half_plus_two_cpu")),
        "half_plus_three": models.half_plus(str(root / "saved_model_half_plus_three"), b=3.0,
                                            tf1_era=True),
        "half_plus_two_tf2": models.half_plus_two_tf2(
            str(root / "saved_model_half_plus_two_tf2_cpu")),
        "counter": models.counter(str(root / "saved_model_counter")),
        "tf_saved_model_save": models.saved_model_save(str(root / "tf_saved_model_save")),
        "multiple_signatures": models.saved_model_save_multiple_signatures(
            str(root / "tf_saved_model_save_multiple")),
        "root": root,
    }


class StockServer:
    """`tfgan-serve` started with the stock test base's command line (`RunServer`)."""

    def __init__(self, root, model_name=None, model_path=None, model_config_file=None,
                 monitoring_config_file=None, grpc_channel_arguments="",
                 model_config_file_poll_period=None):
        self.port, self.rest_api_port = free_port(), free_port()
        self.socket_path = str(root / f"tf-serving-{self.port}.sock")
        command = [sys.executable, "-m", "tfgan.cli.serve", f"--port={self.port}",
                   f"--rest_api_port={self.rest_api_port}", "--rest_api_timeout_in_ms=5000",
                   f"--grpc_socket_path={self.socket_path}"]
        if model_config_file:
            command.append(f"--model_config_file={model_config_file}")
        else:
            command += [f"--model_name={model_name}", f"--model_base_path={model_path}"]
        if monitoring_config_file:
            command.append(f"--monitoring_config_file={monitoring_config_file}")
        if model_config_file_poll_period is not None:
            command.append(f"--model_config_file_poll_wait_seconds="
                           f"{model_config_file_poll_period}")
        channel_arguments = ",".join(a for a in (grpc_channel_arguments, "grpc.so_reuseaddr=1")
                                     if a)
        command.append(f"--grpc_channel_arguments={channel_arguments}")
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True)
        self.address = f"localhost:{self.port}"
        self.rest = f"http://localhost:{self.rest_api_port}"

    def next_serving_line(self):
        """Waits for the next "Serving ..." line; fails with stderr if the server exits."""
        line = self.process.stdout.readline()
        if not line.startswith("Serving"):
            self.process.kill()
            pytest.fail(f"tfgan-serve exited: {self.process.stderr.read()[-2000:]}")
        return line

    def stop(self):
        self.process.kill()
        self.process.wait()
        self.process.stdout.close()
        self.process.stderr.close()


@pytest.fixture(scope="module")
def run_server(testdata):
    """Starts (once per argument set, as `RunServer`) a ready server."""
    started = {}

    def run(model_name="default", model_path=None, **kwargs):
        key = (model_name, model_path, *sorted(kwargs.items()))
        if key not in started:
            started[key] = StockServer(testdata["root"], model_name, model_path, **kwargs)
            started[key].next_serving_line()
        return started[key]

    yield run
    for server in started.values():
        server.stop()


def verify_predict(address, expected_output, expected_version=VERSION, model_name="default",
                   specify_output=True, batch_input=False, signature_name="serving_default"):
    """The stock `VerifyPredictRequest`: reads `float_val`, as TF Serving's clients do."""
    request = predict_pb2.PredictRequest()
    request.model_spec.name = model_name
    request.model_spec.signature_name = signature_name
    request.inputs["x"].dtype = types_pb2.DT_FLOAT
    request.inputs["x"].float_val.append(2.0)
    request.inputs["x"].tensor_shape.dim.add().size = 1
    if batch_input:
        request.inputs["x"].tensor_shape.dim.add().size = 1
    if specify_output:
        request.output_filter.append("y")
    with grpc.insecure_channel(address) as channel:
        result = prediction_service_pb2_grpc.PredictionServiceStub(channel).Predict(
            request, RPC_TIMEOUT)
    assert "y" in result.outputs
    assert result.outputs["y"].dtype == types_pb2.DT_FLOAT
    assert len(result.outputs["y"].float_val) == 1
    assert result.outputs["y"].float_val[0] == expected_output
    assert (result.model_spec.name, result.model_spec.signature_name,
            result.model_spec.version.value) == (model_name, signature_name, expected_version)


def call_rest(url, request=None):
    data = None if request is None else json.dumps(request).encode()
    with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=30) as answer:
        return json.loads(answer.read())


def stub(address, service=prediction_service_pb2_grpc.PredictionServiceStub):
    return service(grpc.insecure_channel(address))


def test_get_model_status(run_server, testdata):
    server = run_server("default", testdata["half_plus_two"])
    request = get_model_status_pb2.GetModelStatusRequest()
    request.model_spec.name = "default"
    result = stub(server.address, model_service_pb2_grpc.ModelServiceStub).GetModelStatus(
        request, RPC_TIMEOUT)
    assert len(result.model_version_status) == 1
    assert result.model_version_status[0].version == VERSION
    assert result.model_version_status[0].status.error_code == 0


def test_get_model_metadata(run_server, testdata):
    server = run_server("default", testdata["half_plus_two"])
    request = get_model_metadata_pb2.GetModelMetadataRequest()
    request.model_spec.name = "default"
    request.metadata_field.append("signature_def")
    result = stub(server.address).GetModelMetadata(request, RPC_TIMEOUT)
    assert result.model_spec.name == "default" and result.model_spec.version.value == VERSION
    assert list(result.metadata) == ["signature_def"]


def example_request(request, signature_name):
    request.model_spec.name = "default"
    request.model_spec.signature_name = signature_name
    request.input.example_list.examples.add().features.feature["x"].float_list.value.append(2.0)
    return request


@pytest.mark.parametrize("model", ["half_plus_two", "half_plus_two_tf2"])
def test_classify(run_server, testdata, model):
    server = run_server("default", testdata[model])
    request = example_request(classification_pb2.ClassificationRequest(), "classify_x_to_y")
    result = stub(server.address).Classify(request, RPC_TIMEOUT)
    assert len(result.result.classifications) == 1
    assert len(result.result.classifications[0].classes) == 1
    assert result.result.classifications[0].classes[0].score == 3.0
    assert (result.model_spec.signature_name, result.model_spec.version.value) == (
        "classify_x_to_y", VERSION)


@pytest.mark.parametrize("model", ["half_plus_two", "half_plus_two_tf2"])
def test_regress(run_server, testdata, model):
    server = run_server("default", testdata[model])
    request = example_request(regression_pb2.RegressionRequest(), "regress_x_to_y")
    result = stub(server.address).Regress(request, RPC_TIMEOUT)
    assert [r.value for r in result.result.regressions] == [3.0]
    assert (result.model_spec.signature_name, result.model_spec.version.value) == (
        "regress_x_to_y", VERSION)


@pytest.mark.parametrize("model", ["half_plus_two", "half_plus_two_tf2"])
def test_multi_inference(run_server, testdata, model):
    server = run_server("default", testdata[model])
    request = inference_pb2.MultiInferenceRequest()
    for signature, method in (("regress_x_to_y", "regress"), ("classify_x_to_y", "classify")):
        task = request.tasks.add(method_name=f"tensorflow/serving/{method}")
        task.model_spec.name = "default"
        task.model_spec.signature_name = signature
    request.input.example_list.examples.add().features.feature["x"].float_list.value.append(2.0)
    result = stub(server.address).MultiInference(request, RPC_TIMEOUT)
    assert len(result.results) == 2
    assert result.results[0].regression_result.regressions[0].value == 3.0
    assert result.results[1].classification_result.classifications[0].classes[0].score == 3.0
    for task, answer in zip(request.tasks, result.results):
        assert answer.model_spec.signature_name == task.model_spec.signature_name
        assert answer.model_spec.version.value == VERSION


def test_predict_saved_model(run_server, testdata):
    server = run_server("default", testdata["half_plus_two"])
    verify_predict(server.address, 3.0)
    verify_predict(server.address, 3.0, specify_output=False)


def write_config(path, *models_and_paths):
    path.write_text("model_config_list: {\n" + "".join(
        f'  config: {{ name: "{name}", base_path: "{base}", model_platform: "tensorflow" }}\n'
        for name, base in models_and_paths) + "}\n")
    return path


def test_good_model_config(run_server, testdata, tmp_path):
    config = write_config(tmp_path / "good_model_config.conf",
                          ("half_plus_two", testdata["half_plus_two"]),
                          ("half_plus_three", testdata["half_plus_three"]))
    server = run_server(None, None, model_config_file=str(config))
    for specify_output in (True, False):
        verify_predict(server.address, 3.0, model_name="half_plus_two",
                       specify_output=specify_output)
        verify_predict(server.address, 4.0, model_name="half_plus_three",
                       specify_output=specify_output)


def test_bad_model_config(testdata, tmp_path):
    config = tmp_path / "bad_model_config.txt"
    config.write_text("improperly formatted file")
    server = StockServer(testdata["root"], model_config_file=str(config))
    try:
        assert server.process.wait(timeout=120) != 0
        assert "Error parsing text-format tensorflow.serving.ModelServerConfig" in (
            server.process.stderr.read())
    finally:
        server.stop()


def test_model_config_reload(testdata, tmp_path):
    config = write_config(tmp_path / "model_config.txt",
                          ("half_plus_two", testdata["half_plus_two"]))
    server = StockServer(testdata["root"], model_config_file=str(config),
                         model_config_file_poll_period=1)
    try:
        server.next_serving_line()
        verify_predict(server.address, 3.0, model_name="half_plus_two", specify_output=False)
        write_config(config, ("half_plus_three", testdata["half_plus_three"]))
        server.next_serving_line()  # printed once the new config is applied
        verify_predict(server.address, 4.0, model_name="half_plus_three",
                       specify_output=False)
    finally:
        server.stop()


class PollerSleep:
    """The config poller's sleep, driven by the test: each call is announced on `asked` and
    returns once the test calls `wake` (no timing: the test says when a poll happens)."""

    def __init__(self):
        self.asked = queue.Queue()
        self._wake = None

    async def __call__(self, seconds):
        self._wake = asyncio.Event()
        self.asked.put(seconds)
        await self._wake.wait()

    async def wake(self):
        self._wake.set()


@pytest.mark.parametrize("period", [0, 1])
def test_model_config_reload_with_zero_poll_period(testdata, tmp_path, period):
    """`--model_config_file_poll_wait_seconds=0` reads the file once: no poll ever asks to
    sleep, and a changed file is not applied; with 1, one driven poll applies it (the same
    steps, so the 0 case would fail if it polled)."""
    config = write_config(tmp_path / "model_config.txt",
                          ("half_plus_two", testdata["half_plus_two"]))
    options = ServerOptions(model_config_file=str(config), rest_port=None, grpc_port=0,
                            model_config_file_poll_wait_seconds=period)
    sleep = PollerSleep()
    with BackgroundServer(options, sleep=sleep) as running:
        address = running.grpc_url[len("grpc://"):]
        # One turn of the server's loop: a poller made by start() has asked to sleep by now.
        running.run(asyncio.sleep(0))
        verify_predict(address, 3.0, model_name="half_plus_two", specify_output=False)
        write_config(config, ("half_plus_three", testdata["half_plus_three"]))
        if period == 0:
            assert sleep.asked.empty()
            verify_predict(address, 3.0, model_name="half_plus_two", specify_output=False)
            assert running.registry.model_names == ["half_plus_two"]
        else:
            assert sleep.asked.get_nowait() == 1
            running.run(sleep.wake())
            assert sleep.asked.get(timeout=120) == 1  # the poll is done: it sleeps again
            verify_predict(address, 4.0, model_name="half_plus_three", specify_output=False)
            assert running.registry.model_names == ["half_plus_three"]


def test_good_grpc_channel_args(run_server, testdata):
    server = run_server("default", testdata["half_plus_two"], grpc_channel_arguments=(
        "grpc.max_connection_age_ms=2000,grpc.lb_policy_name=grpclb"))
    verify_predict(server.address, 3.0, specify_output=False)


# REST classify/regress answer under "results" (kClassifyRegressResponseKey in json_tensor.cc).


def test_classify_rest(run_server, testdata):
    server = run_server("default", testdata["half_plus_two"])
    answer = call_rest(f"{server.rest}/v1/models/default:classify",
                       {"signature_name": "classify_x_to_y", "examples": [{"x": 2.0}]})
    assert answer == {"results": [[["", 3.0]]]}


def test_regress_rest(run_server, testdata):
    server = run_server("default", testdata["half_plus_two"])
    answer = call_rest(f"{server.rest}/v1/models/default:regress",
                       {"signature_name": "regress_x_to_y", "examples": [{"x": 2.0}]})
    assert answer == {"results": [3.0]}


def test_predict_rest(run_server, testdata):
    server = run_server("default", testdata["half_plus_two"])
    assert call_rest(f"{server.rest}/v1/models/default:predict",
                     {"instances": [2.0, 3.0, 4.0]}) == {"predictions": [3.0, 3.5, 4.0]}


def test_predict_columnar_rest(run_server, testdata):
    server = run_server("default", testdata["half_plus_two"])
    assert call_rest(f"{server.rest}/v1/models/default:predict",
                     {"inputs": [2.0, 3.0, 4.0]}) == {"outputs": [3.0, 3.5, 4.0]}


def test_get_status_rest(run_server, testdata):
    server = run_server("default", testdata["half_plus_two"])
    assert call_rest(f"{server.rest}/v1/models/default") == {"model_version_status": [{
        "version": "123", "state": "AVAILABLE",
        "status": {"error_code": "OK", "error_message": ""}}]}


def test_get_model_metadata_rest(run_server, testdata):
    server = run_server("default", testdata["half_plus_two"])
    answer = call_rest(f"{server.rest}/v1/models/default/metadata")
    assert answer["model_spec"] == {"name": "default", "signature_name": "", "version": "123"}
    signatures = answer["metadata"]["signature_def"]["signature_def"]
    assert sorted(signatures) == ["classify_x_to_y", "regress_x2_to_y3", "regress_x_to_y",
                                  "regress_x_to_y2", "serving_default"]
    default = signatures["serving_default"]
    assert default["inputs"]["x"]["name"] == "x:0"
    assert default["inputs"]["x"]["tensor_shape"]["dim"] == [
        {"size": "-1", "name": ""}, {"size": "1", "name": ""}]
    assert default["outputs"]["y"]["dtype"] == "DT_FLOAT"
    assert default["method_name"] == "tensorflow/serving/predict"


def test_prometheus_endpoint(run_server, testdata, tmp_path):
    monitoring = tmp_path / "monitoring_config.txt"
    monitoring.write_text("prometheus_config: { enable: true, path: \"/monitoring/prometheus/"
                          "metrics\" }")
    server = run_server("default", testdata["half_plus_two"],
                        monitoring_config_file=str(monitoring))
    with urllib.request.urlopen(f"{server.rest}/monitoring/prometheus/metrics") as answer:
        assert "# TYPE" in answer.read().decode()


def test_predict_uds(run_server, testdata):
    server = run_server("default", testdata["half_plus_two"])
    verify_predict(f"unix:{server.socket_path}", 3.0, specify_output=False)


def test_tf_saved_model_save(run_server, testdata):
    server = run_server("default", testdata["tf_saved_model_save"])
    verify_predict(server.address, 12.0, specify_output=False)


def test_tf_saved_model_save_multiple_signatures(run_server, testdata):
    server = run_server("default", testdata["multiple_signatures"])
    verify_predict(server.address, 2.0, signature_name="custom_signature_key")
    verify_predict(server.address, 1.0)


def counter_call(address, signature_name, **inputs):
    request = predict_pb2.PredictRequest()
    request.model_spec.name = "default"
    request.model_spec.signature_name = signature_name
    for alias, value in inputs.items():
        request.inputs[alias].dtype = types_pb2.DT_FLOAT
        request.inputs[alias].float_val.append(value)
    return stub(address).Predict(request, RPC_TIMEOUT).outputs["output"].float_val[0]


def test_saved_model_counter_reference_variables(run_server, testdata):
    """`saved_model_counter` (TF1 reference variables) loads through the v1 session loader."""
    server = run_server("default", testdata["counter"])
    assert counter_call(server.address, "reset_counter") == 0.0
    assert counter_call(server.address, "incr_counter") == 1.0
    assert counter_call(server.address, "incr_counter_by", delta=3.0) == 4.0
    assert counter_call(server.address, "get_counter") == 4.0


def test_half_plus_three_predicts_over_rest(run_server, testdata):
    server = run_server("default", testdata["half_plus_three"])
    assert call_rest(f"{server.rest}/v1/models/default:predict",
                     {"instances": [1.0, 2.0, 5.0]}) == {"predictions": [3.5, 4.0, 5.5]}

