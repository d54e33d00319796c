"""Any SavedModel the stock server serves: a TF1-era export in a zero-padded version directory.

Built with `tf.compat.v1.saved_model.Builder` (assets, a main_op, string and int64 inputs,
classification and regression signatures, a second `train` MetaGraph, no `serving_default`),
published as `<base>/00000007`, and asked TF Serving's documented REST and gRPC requests:
status, metadata, predict, classify, regress and multi-inference.
"""

import base64
import json

import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import (
    classification_pb2,
    inference_pb2,
    predict_pb2,
    prediction_service_pb2_grpc,
    regression_pb2,
)

from serving_fixtures import export_tf1_model, http, install_version, model_config
from tfgan.serving import BackgroundServer, ServerOptions


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("tf1")
    source = export_tf1_model(root / "source")
    install_version(source, root / "toy", "00000007")
    options = ServerOptions(model_config(root / "toy"), grpc_port=0, rest_port=0,
                            file_system_poll_wait_seconds=-1)
    with BackgroundServer(options) as running:
        yield running


@pytest.fixture(scope="module")
def predictions(server):
    with grpc.insecure_channel(server.grpc_url[len("grpc://"):]) as channel:
        yield prediction_service_pb2_grpc.PredictionServiceStub(channel)


def rest(server, method, path, body=None):
    status, content_type, text = http(method, f"{server.rest_url}/v1/models/toy{path}", body)
    assert content_type == "application/json"
    return status, json.loads(text)


def test_status_and_metadata_name_version_7(server):
    status, answer = rest(server, "GET", "")
    assert status == 200 and answer["model_version_status"][0]["version"] == "7"
    assert answer["model_version_status"][0]["state"] == "AVAILABLE"
    status, answer = rest(server, "GET", "/versions/7/metadata")
    signatures = answer["metadata"]["signature_def"]["signature_def"]
    assert set(signatures) == {"predict_y", "lookup", "classify", "regress"}
    assert signatures["classify"]["method_name"] == "tensorflow/serving/classify"


def test_rest_row_and_columnar_requests_with_string_and_int_inputs(server):
    status, answer = rest(server, "POST", ":predict", json.dumps(
        {"signature_name": "lookup", "instances": [{"words": "b", "k": 10},
                                                   {"words": "zz", "k": 20}]}))
    assert (status, answer) == (200, {"predictions": [11, 19]})  # b is 1 in the asset
    status, answer = rest(server, "POST", "/versions/7:predict", json.dumps(
        {"signature_name": "predict_y", "inputs": {"x": [[1.0, 1.0], [0.5, 0.0]]}}))
    assert (status, answer) == (200, {"outputs": [[3.0], [0.5]]})


def test_no_serving_default_answers_as_the_stock_server(server):
    status, answer = rest(server, "POST", ":predict", '{"instances": [[1.0, 2.0]]}')
    assert (status, answer) == (
        400, {"error": 'Serving signature name: "serving_default" not found in signature def'})


def example(*values):
    return tf.train.Example(features=tf.train.Features(feature={
        "x": tf.train.Feature(float_list=tf.train.FloatList(value=values))}))


def test_classify_and_regress_signatures_also_run_through_predict(server):
    body = json.dumps({"signature_name": "classify", "instances": [
        {"b64": base64.b64encode(example(1.0, 2.0).SerializeToString()).decode()}]})
    status, answer = rest(server, "POST", ":predict", body)
    assert (status, answer) == (200, {"predictions": [{"classes": ["pos"], "scores": [5.0]}]})


def test_rest_classify_and_regress_answer_results(server):
    status, text = http("POST", f"{server.rest_url}/v1/models/toy:classify", json.dumps(
        {"signature_name": "classify", "examples": [{"x": [1.0, 2.0]}, {"x": [0.5, 0.25]}]}))[::2]
    assert status == 200
    assert text == '{\n    "results": [[["pos", 5.0]], [["pos", 1.0]]\n    ]\n}'  # stock layout
    # The context goes under every example; an example's own features win.
    status, answer = rest(server, "POST", ":regress",
                          json.dumps({"signature_name": "regress", "context": {"x": [9.0, 9.0]},
                                      "examples": [{"x": [1.0, 1.0]}]}))
    assert (status, answer) == (200, {"results": [3.0]})
    status, answer = rest(server, "POST", ":regress", json.dumps(
        {"signature_name": "regress", "context": {"x": [2.0, 0.0]}, "examples": [{}]}))
    assert (status, answer) == (200, {"results": [2.0]})
    status, answer = rest(server, "POST", ":classify", json.dumps(
        {"signature_name": "predict_y", "examples": [{"x": [1.0, 2.0]}]}))
    assert status == 400 and answer["error"].startswith("No classification inputs found")


def grpc_request(request_class, signature_name):
    request = request_class()
    request.model_spec.name = "toy"
    request.model_spec.signature_name = signature_name
    return request


def test_grpc_classify_and_regress(server):
    target = server.grpc_url[len("grpc://"):]
    with grpc.insecure_channel(target) as channel:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        request = grpc_request(classification_pb2.ClassificationRequest, "classify")
        request.input.example_list.examples.extend([example(1.0, 2.0), example(2.0, 2.0)])
        response = stub.Classify(request, timeout=30)
        assert response.model_spec.version.value == 7
        assert [[(c.label, c.score) for c in row.classes]
                for row in response.result.classifications] == [[("pos", 5.0)], [("pos", 6.0)]]
        request = grpc_request(regression_pb2.RegressionRequest, "regress")
        context = request.input.example_list_with_context
        context.context.CopyFrom(example(0.0, 1.0))
        context.examples.add()
        response = stub.Regress(request, timeout=30)
        assert [r.value for r in response.result.regressions] == [2.0]
        request.input.example_list_with_context.ClearField("examples")
        with pytest.raises(grpc.RpcError) as caught:
            stub.Regress(request, timeout=30)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert caught.value.details() == "Input is empty."


def test_grpc_predict_with_strings(server):
    target = server.grpc_url[len("grpc://"):]
    with grpc.insecure_channel(target) as channel:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        request = grpc_request(predict_pb2.PredictRequest, "lookup")
        request.inputs["words"].CopyFrom(tf.make_tensor_proto([b"a", b"c"]))
        request.inputs["k"].CopyFrom(tf.make_tensor_proto(np.array([0, 5], np.int64)))
        response = stub.Predict(request, timeout=30)
    assert response.model_spec.version.value == 7
    assert tf.make_ndarray(response.outputs["ids"]).tolist() == [0, 7]


CLASSIFY, REGRESS = "tensorflow/serving/classify", "tensorflow/serving/regress"


def multi_inference_request(*tasks):
    """A `MultiInferenceRequest` of `(model, signature, method_name)` tasks on two examples."""
    request = inference_pb2.MultiInferenceRequest()
    for model, signature_name, method_name in tasks:
        task = request.tasks.add(method_name=method_name)
        task.model_spec.name = model
        task.model_spec.signature_name = signature_name
    request.input.example_list.examples.extend([example(1.0, 2.0), example(0.5, 0.25)])
    return request


def test_grpc_multi_inference_answers_each_task_as_classify_and_regress(predictions):
    request = multi_inference_request(("toy", "regress", REGRESS), ("toy", "classify", CLASSIFY))
    regress, classify = predictions.MultiInference(request, timeout=30).results

    alone = grpc_request(regression_pb2.RegressionRequest, "regress")
    alone.input.CopyFrom(request.input)
    expected = predictions.Regress(alone, timeout=30)
    assert (regress.model_spec, regress.regression_result) == (expected.model_spec,
                                                              expected.result)
    alone = grpc_request(classification_pb2.ClassificationRequest, "classify")
    alone.input.CopyFrom(request.input)
    expected = predictions.Classify(alone, timeout=30)
    assert (classify.model_spec, classify.classification_result) == (expected.model_spec,
                                                                     expected.result)
    assert (classify.model_spec.signature_name, classify.model_spec.version.value) == (
        "classify", 7)
    assert [r.value for r in regress.regression_result.regressions] == [5.0, 1.0]


@pytest.mark.parametrize("tasks, code, message", [
    ((), grpc.StatusCode.INVALID_ARGUMENT, "ModelSpec has no name specified."),
    ((("toy", "regress", REGRESS), ("other", "classify", CLASSIFY)),
     grpc.StatusCode.INVALID_ARGUMENT,
     "All ModelSpecs in a MultiInferenceRequest must access the same model name."),
    ((("toy", "regress", REGRESS), ("", "classify", CLASSIFY)),
     grpc.StatusCode.INVALID_ARGUMENT, "Found ModelSpec with an empty model name."),
    ((("toy", "regress", REGRESS), ("toy", "regress", REGRESS)),
     grpc.StatusCode.INVALID_ARGUMENT, "Duplicate evaluation of signature: regress"),
    ((("toy", "regress", REGRESS), ("toy", "nope", CLASSIFY)),
     grpc.StatusCode.INVALID_ARGUMENT, "Requested signature not found in model graph: nope"),
    # The stock server answers UNIMPLEMENTED here (multi_inference.cc), not INVALID_ARGUMENT.
    ((("toy", "predict_y", "tensorflow/serving/predict"),),
     grpc.StatusCode.UNIMPLEMENTED,
     "Unsupported signature method_name: tensorflow/serving/predict"),
    ((("toy", "predict_y", REGRESS),),
     grpc.StatusCode.INVALID_ARGUMENT, "No regression inputs found in SignatureDef: "),
])
def test_grpc_multi_inference_refuses_bad_tasks_and_keeps_serving(predictions, tasks, code,
                                                                  message):
    with pytest.raises(grpc.RpcError) as caught:
        predictions.MultiInference(multi_inference_request(*tasks), timeout=30)
    assert caught.value.code() == code
    assert caught.value.details().startswith(message)
    good = multi_inference_request(("toy", "regress", REGRESS), ("toy", "classify", CLASSIFY))
    assert len(predictions.MultiInference(good, timeout=30).results) == 2


def test_grpc_multi_inference_without_examples_is_input_is_empty(predictions):
    request = multi_inference_request(("toy", "regress", REGRESS))
    request.input.example_list.ClearField("examples")
    with pytest.raises(grpc.RpcError) as caught:
        predictions.MultiInference(request, timeout=30)
    assert (caught.value.code(), caught.value.details()) == (
        grpc.StatusCode.INVALID_ARGUMENT, "Input is empty.")
