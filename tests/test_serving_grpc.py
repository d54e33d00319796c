"""tfgan.serving.grpc_api through the official tensorflow-serving-api stubs."""

import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow.core.protobuf import error_codes_pb2 as codes
from tensorflow_serving.apis import (
    classification_pb2,
    get_model_metadata_pb2,
    get_model_status_pb2,
    model_management_pb2,
    model_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
)

from serving_fixtures import (
    MODEL_NAME,
    build_networks,
    declared_rows_request,
    exported_model,
    install_version,
    latent,
    model_config,
)
from tfgan.serving import BackgroundServer, ServerOptions, grpc_api, single_model_config
from tfgan.serving.versions import read_signature_defs

BIG = 2**31 - 1


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    return exported_model(tmp_path_factory, 1)


@pytest.fixture(scope="module")
def base(tmp_path_factory, export):
    path = tmp_path_factory.mktemp("grpc") / MODEL_NAME
    install_version(export, path, 1)
    return path


@pytest.fixture(scope="module")
def channel(base, tmp_path_factory):
    options = ServerOptions(model_config(base), grpc_port=0, rest_port=None,
                            file_system_poll_wait_seconds=-1, max_samples_per_request=0,
                            allow_reload_config_requests=True,
                            allowed_model_roots=(str(tmp_path_factory.getbasetemp()),))
    with BackgroundServer(options) as running:
        target = running.grpc_url[len("grpc://"):]
        with grpc.insecure_channel(target, options=[
                ("grpc.max_send_message_length", BIG),
                ("grpc.max_receive_message_length", BIG)]) as opened:
            yield opened


@pytest.fixture(scope="module")
def predictions(channel):
    return prediction_service_pb2_grpc.PredictionServiceStub(channel)


@pytest.fixture(scope="module")
def models(channel):
    return model_service_pb2_grpc.ModelServiceStub(channel)


def predict_request(signature_name="sample", version=None, **inputs):
    request = predict_pb2.PredictRequest()
    request.model_spec.name = MODEL_NAME
    request.model_spec.signature_name = signature_name
    if version is not None:
        request.model_spec.version.value = version
    for name, value in inputs.items():
        request.inputs[name].CopyFrom(tf.make_tensor_proto(value))
    return request


def test_predict_runs_the_signature(predictions):
    request = predict_request(num_samples=np.int32(3), seed=np.int64(7))
    response = predictions.Predict(request, timeout=30)
    assert response.model_spec.name == MODEL_NAME
    assert response.model_spec.version.value == 1
    assert response.model_spec.signature_name == "sample"
    z = tf.make_ndarray(response.outputs["z"])
    np.testing.assert_allclose(z, latent(3, 7).numpy(), rtol=1e-6)
    generator, _ = build_networks(1)
    np.testing.assert_allclose(tf.make_ndarray(response.outputs["samples"]), generator(z).numpy(),
                               rtol=1e-5)
    request.output_filter.append("z")
    assert list(predictions.Predict(request, timeout=30).outputs) == ["z"]


def test_bytes_outputs_are_strings(predictions):
    response = predictions.Predict(
        predict_request("sample_png", num_samples=np.int32(2), seed=np.int64(1)), timeout=30)
    png = tf.make_ndarray(response.outputs["png_bytes"])
    assert png.shape == (2,) and png[0].startswith(b"\x89PNG")


def test_messages_over_4_mib_both_ways(predictions):
    z = np.random.default_rng(0).normal(size=(100_000, 3)).astype(np.float32)  # 1.2 MB in
    response = predictions.Predict(predict_request("serving_default", z=z), timeout=60)
    samples = tf.make_ndarray(response.outputs["samples"])  # 6.4 MB out
    assert samples.shape == (100_000, 4, 4, 1)
    images = np.zeros((70_000, 4, 4, 1), np.float32)  # 4.5 MB in
    response = predictions.Predict(predict_request("discriminate", samples=images), timeout=60)
    assert tf.make_ndarray(response.outputs["logits"]).shape == (70_000, 1)


def test_metadata_packs_the_signature_map(predictions, export):
    request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
    request.model_spec.name = MODEL_NAME
    response = predictions.GetModelMetadata(request, timeout=30)
    assert response.model_spec.name == MODEL_NAME and response.model_spec.version.value == 1
    signature_map = get_model_metadata_pb2.SignatureDefMap()
    assert response.metadata["signature_def"].Unpack(signature_map)
    assert dict(signature_map.signature_def) == read_signature_defs(str(export))


def test_model_status(models):
    request = get_model_status_pb2.GetModelStatusRequest()
    request.model_spec.name = MODEL_NAME
    response = models.GetModelStatus(request, timeout=30)
    [status] = response.model_version_status
    assert (status.version, status.state, status.status.error_code) == (1, 30, codes.OK)


def status_of(call, request):
    with pytest.raises(grpc.RpcError) as caught:
        call(request, timeout=30)
    return caught.value.code(), caught.value.details()


def test_predict_errors_are_grpc_statuses(predictions):
    unknown = predict_request(num_samples=np.int32(1), seed=np.int64(1))
    unknown.model_spec.name = "nope"
    assert status_of(predictions.Predict, unknown) == (
        grpc.StatusCode.NOT_FOUND, "Servable not found for request: Latest(nope)")
    assert status_of(predictions.Predict, predict_request(version=5, seed=np.int64(1))) == (
        grpc.StatusCode.NOT_FOUND, "Servable not found for request: Specific(toy, 5)")
    assert status_of(predictions.Predict, predict_request("nope", seed=np.int64(1))) == (
        grpc.StatusCode.FAILED_PRECONDITION, 'Serving signature key "nope" not found.')
    assert status_of(predictions.Predict, predict_request(seed=np.int64(1))) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "input size does not match signature: 1!=2 len({seed}) != len({num_samples,seed})."
        " Sent extra: {}. Missing but required: {num_samples}.")
    assert status_of(predictions.Predict, predict_request(
        num_samples=np.float32(1), seed=np.int64(1))) == (
        grpc.StatusCode.INVALID_ARGUMENT, "Expects arg[0] to be int32 but float is provided")
    assert status_of(predictions.Predict, predict_pb2.PredictRequest()) == (
        grpc.StatusCode.INVALID_ARGUMENT, "Missing ModelSpec")
    code, details = status_of(predictions.Predict, predict_request(
        "serving_default", z=np.zeros((2, 5), np.float32)))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert details.startswith("Matrix size-incompatible: In[0]: [2,5], In[1]: [3,16]")


def test_other_errors_are_grpc_statuses(predictions, models):
    request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["nope"])
    request.model_spec.name = MODEL_NAME
    assert status_of(predictions.GetModelMetadata, request) == (
        grpc.StatusCode.INVALID_ARGUMENT, "Metadata field nope is not supported")
    request = get_model_status_pb2.GetModelStatusRequest()
    request.model_spec.name = "nope"
    assert status_of(models.GetModelStatus, request) == (
        grpc.StatusCode.NOT_FOUND, "Could not find any versions of model nope")
    request = classification_pb2.ClassificationRequest()
    request.model_spec.name = MODEL_NAME
    request.model_spec.signature_name = "sample"
    assert status_of(predictions.Classify, request) == (
        grpc.StatusCode.INVALID_ARGUMENT, "Expected one input Tensor.")


def test_reload_config_adds_a_model(models, predictions, base, tmp_path, export):
    other_base = tmp_path / "other"
    install_version(export, other_base, 3)
    request = model_management_pb2.ReloadConfigRequest()
    request.config.CopyFrom(model_config(base))
    request.config.model_config_list.config.add(name="other", base_path=str(other_base))
    response = models.HandleReloadConfigRequest(request, timeout=30)
    assert response.status.error_code == codes.OK
    other = predict_request(num_samples=np.int32(1), seed=np.int64(1))
    other.model_spec.name = "other"
    assert predictions.Predict(other, timeout=30).model_spec.version.value == 3
    toy = predict_request(num_samples=np.int32(1), seed=np.int64(1))
    assert predictions.Predict(toy, timeout=30).model_spec.version.value == 1


# ---- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["/tensorflow.serving.PredictionService/Predict",
                                    "/tensorflow.serving.ModelService/GetModelStatus"])
def test_bytes_that_are_not_a_request_are_invalid_argument(channel, method):
    call = channel.unary_unary(method)  # raw bytes in and out
    with pytest.raises(grpc.RpcError) as caught:
        call(b"\xff\xff\xff not a proto", timeout=30)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "Could not parse the request as tensorflow.serving." in caught.value.details()


@pytest.mark.parametrize("rows, values, message", [
    (2**40, [1.0], "declares shape [1099511627776, 3]"),  # a fill of 13 TB from 4 bytes
    (2**40, [], "declares shape"),
    (300_000_000, [0.0], "this server expands such a tensor to at most"),
])
def test_declared_sizes_are_checked_before_allocating(predictions, rows, values, message):
    request = declared_rows_request(MODEL_NAME, rows, values)
    with pytest.raises(grpc.RpcError) as caught:
        predictions.Predict(request, timeout=30)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert message in caught.value.details()


def test_tensor_content_must_match_the_declared_shape(predictions):
    request = predict_pb2.PredictRequest()
    request.model_spec.name = MODEL_NAME
    request.inputs["z"].CopyFrom(tf.make_tensor_proto(np.zeros((2, 3), np.float32)))
    request.inputs["z"].tensor_shape.dim[0].size = 2**33
    with pytest.raises(grpc.RpcError) as caught:
        predictions.Predict(request, timeout=30)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.details() == "tensor parsing error: z"


def test_a_tiny_request_declaring_a_huge_shape_is_refused(predictions):
    request = predict_pb2.PredictRequest()
    request.model_spec.name = MODEL_NAME
    request.model_spec.signature_name = "serving_default"
    z = request.inputs["z"]
    z.dtype = tf.float32.as_datatype_enum
    z.tensor_shape.dim.add(size=1)
    z.tensor_shape.dim.add(size=67108864)
    z.float_val.append(1.0)
    assert request.ByteSize() < 64
    with pytest.raises(grpc.RpcError) as caught:
        predictions.Predict(request, timeout=30)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "declares shape [1, 67108864] (268435456 bytes) but carries 1 values" in (
        caught.value.details())


# ---- outputs as the stock server writes them ------------------------------------------------


@pytest.mark.parametrize("value, field", [
    (np.array([[0.5, -1.0], [2.0, 3.0]], np.float32), "float_val"),
    (np.array([1.5, 2.5], np.float64), "double_val"),
    (np.array([1, -2, 3], np.int32), "int_val"),
    (np.array([1, 2], np.uint8), "int_val"),
    (np.array([2**40, -1], np.int64), "int64_val"),
    (np.array([True, False]), "bool_val"),
    (np.array([0.5, 2.0], np.float16), "half_val"),
    (np.array([1 + 2j, 3 - 4j], np.complex64), "scomplex_val"),
    (np.array([b"a", b"bc"], object), "string_val"),
])
def test_outputs_fill_the_typed_fields_unless_tensor_content_is_asked_for(value, field):
    typed = grpc_api.output_proto(value)
    assert not typed.tensor_content and len(getattr(typed, field)) > 0
    np.testing.assert_array_equal(tf.make_ndarray(typed), value)
    packed = grpc_api.output_proto(value, tensor_content=True)
    np.testing.assert_array_equal(tf.make_ndarray(packed), value)
    if field != "string_val":  # strings have no tensor_content form
        assert packed.tensor_content and not getattr(packed, field)


class Classifier(tf.Module):
    """Scores for three classes: the softmax of the first three of four features."""

    @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32, name="images")])
    def classify(self, images):
        return {"scores": tf.nn.softmax(images[:, :3])}


@pytest.fixture(scope="module")
def classifier_base(tmp_path_factory):
    base = tmp_path_factory.mktemp("classifier") / "mnist"
    module = Classifier()
    tf.saved_model.save(module, str(base / "1"), signatures={"predict_images": module.classify})
    return base


@pytest.mark.parametrize("tensor_content", [False, True])
def test_tf_serving_example_clients_read_float_val(classifier_base, tensor_content):
    options = ServerOptions(single_model_config("mnist", str(classifier_base)), grpc_port=0,
                            rest_port=None, file_system_poll_wait_seconds=-1,
                            enable_serialization_as_tensor_content=tensor_content)
    with BackgroundServer(options) as running, grpc.insecure_channel(
            running.grpc_url[len("grpc://"):]) as channel:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        # As example/mnist_client.py: a future, then float_val of the "scores" output.
        request = predict_pb2.PredictRequest()
        request.model_spec.name = "mnist"
        request.model_spec.signature_name = "predict_images"
        image = np.array([[0.0, 0.0, 5.0, 1.0]], np.float32)
        request.inputs["images"].CopyFrom(tf.make_tensor_proto(image, shape=[1, image.size]))
        response = stub.Predict.future(request, 5.0).result()
        scores = np.array(response.outputs["scores"].float_val)
        # As resnet_client_grpc.py: a blocking call, argmax of float_val.
        result = stub.Predict(request, 10.0).outputs["scores"]
    if tensor_content:  # the stock server's --enable_serialization_as_tensor_content
        assert scores.size == 0 and tf.make_ndarray(result).argmax() == 2
    else:
        assert scores.shape == (3,) and np.argmax(scores) == 2
        assert np.argmax(result.float_val) == 2


# ---- limits and security ----------------------------------------------------------------------


def test_requests_over_max_request_bytes_are_refused(base):
    options = ServerOptions(model_config(base), grpc_port=0, rest_port=None,
                            file_system_poll_wait_seconds=-1, max_request_bytes=4096)
    with BackgroundServer(options) as running, grpc.insecure_channel(
            running.grpc_url[len("grpc://"):]) as channel:
        predictions = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        z = np.zeros((1000, 3), np.float32)  # 12 kB
        with pytest.raises(grpc.RpcError) as caught:
            predictions.Predict(predict_request("serving_default", z=z), timeout=30)
        assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        small = predict_request("serving_default", z=z[:2])
        samples = predictions.Predict(small, timeout=30).outputs["samples"]
        assert samples.tensor_shape.dim[0].size == 2


def test_a_second_server_on_the_grpc_port_fails(base):
    options = ServerOptions(model_config(base), grpc_port=0, rest_port=None,
                            file_system_poll_wait_seconds=-1)
    with BackgroundServer(options) as running:
        port = int(running.grpc_url.rsplit(":", 1)[1])
        second = ServerOptions(model_config(base), grpc_port=port, rest_port=None,
                               file_system_poll_wait_seconds=-1, grpc_channel_arguments=(
                                   "grpc.so_reuseaddr=1",))
        with pytest.raises(OSError, match=f"cannot bind gRPC to 127.0.0.1:{port}"):
            BackgroundServer(second).start()


def test_a_100_kb_model_name_is_not_found_and_cut(predictions):
    request = predict_request(num_samples=np.int32(1), seed=np.int64(1))
    request.model_spec.name = "m" * 100_000
    with pytest.raises(grpc.RpcError) as caught:
        predictions.Predict(request, timeout=30)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert caught.value.details() == (
        f"Servable not found for request: Latest({'m' * 256}... (100000 characters))")


def reload_request(*models, labels=None):
    request = model_management_pb2.ReloadConfigRequest()
    for name, base_path in models:
        config = request.config.model_config_list.config.add(name=name, base_path=str(base_path))
        config.version_labels.update(labels or {})
    return request


def test_reload_is_refused_unless_enabled(base):
    options = ServerOptions(model_config(base), grpc_port=0, rest_port=None,
                            file_system_poll_wait_seconds=-1)
    with BackgroundServer(options) as running, grpc.insecure_channel(
            running.grpc_url[len("grpc://"):]) as channel:
        models = model_service_pb2_grpc.ModelServiceStub(channel)
        with pytest.raises(grpc.RpcError) as caught:
            models.HandleReloadConfigRequest(reload_request(), timeout=30)  # unload everything
        assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert "--allow_reload_config_requests" in caught.value.details()
        assert running.registry.model_names == [MODEL_NAME]


def test_a_failed_reload_changes_nothing(models, predictions, base, tmp_path, export):
    other_base = tmp_path / "another"
    install_version(export, other_base, 3)
    before = models.GetModelStatus(get_model_status_pb2.GetModelStatusRequest(
        model_spec=model_pb2.ModelSpec(name=MODEL_NAME)), timeout=30)
    bad_label = reload_request(("another", other_base), labels={"next": 9})
    with pytest.raises(grpc.RpcError) as caught:
        models.HandleReloadConfigRequest(bad_label, timeout=30)
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    outside = reload_request((MODEL_NAME, base), ("etc", "/etc"))
    with pytest.raises(grpc.RpcError) as caught:
        models.HandleReloadConfigRequest(outside, timeout=30)
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "outside the directories this server may serve from" in caught.value.details()
    toy = predict_request(num_samples=np.int32(1), seed=np.int64(1))
    assert predictions.Predict(toy, timeout=30).model_spec.version.value == 1
    assert models.GetModelStatus(get_model_status_pb2.GetModelStatusRequest(
        model_spec=model_pb2.ModelSpec(name=MODEL_NAME)), timeout=30) == before
    other = predict_request(num_samples=np.int32(1), seed=np.int64(1))
    other.model_spec.name = "another"
    with pytest.raises(grpc.RpcError) as caught:
        predictions.Predict(other, timeout=30)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
