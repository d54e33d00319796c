"""Property tests (hypothesis) of request decoding, REST and gRPC: never a 5xx, UNKNOWN or crash.

Requests go straight to the REST handler and to the registry (no sockets), against the toy
export: random bytes, random JSON documents shaped like predict requests, and random
`TensorProto`s with any dtype, shape (negative and huge dims included) and content.
"""

import json

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tensorflow.core.framework import tensor_pb2, types_pb2
from tensorflow.core.protobuf import error_codes_pb2 as codes
from tensorflow_serving.apis import model_pb2, predict_pb2

from serving_fixtures import MODEL_NAME, exported_model, install_version, model_config
from tfgan.serving.core import ModelRegistry
from tfgan.serving.errors import ServingError
from tfgan.serving.rest import RestApiHandler

SIGNATURES = ["", "serving_default", "sample", "sample_seeds", "sample_png", "discriminate",
              "nope"]
INPUT_NAMES = ["z", "num_samples", "seed", "seeds", "samples", "x"]
SERVER_FAULTS = {codes.UNKNOWN, codes.INTERNAL, codes.DATA_LOSS}
SETTINGS = settings(max_examples=300, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    base = tmp_path_factory.mktemp("decoding") / MODEL_NAME
    install_version(exported_model(tmp_path_factory, 1), base, 1)
    registry = ModelRegistry(model_config(base), file_system_poll_wait_seconds=-1,
                             max_samples_per_request=64)
    registry.start()
    return registry


def json_values():
    scalars = st.one_of(
        st.none(), st.booleans(), st.integers(-(2**70), 2**70),
        st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=5),
        st.fixed_dictionaries({"b64": st.text(max_size=8)}),
    )
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
            st.sampled_from(INPUT_NAMES + ["b64"]), inner, max_size=3),
        max_leaves=30,
    )


def predict_documents():
    body = st.fixed_dictionaries({}, optional={
        "signature_name": st.sampled_from(SIGNATURES) | json_values(),
        "instances": json_values(),
        "inputs": json_values() | st.dictionaries(st.sampled_from(INPUT_NAMES), json_values(),
                                                  max_size=3),
    })
    return body.map(lambda doc: json.dumps(doc, allow_nan=True).encode())


def check_rest(registry, method, path, body):
    answer = RestApiHandler(registry).process(method, path, body)
    assert answer.status < 500 and answer.code not in SERVER_FAULTS, (path, body, answer)
    body = answer.body
    if not isinstance(body, (str, bytes)):
        body = b"".join(body)  # a json_response.PredictResponse: chunks
    assert isinstance(json.loads(body), dict)  # TF Serving's shape, errors included


@SETTINGS
@given(body=predict_documents() | st.binary(max_size=64))
def test_rest_predict_bodies_never_fail_the_server(registry, body):
    check_rest(registry, "POST", f"/v1/models/{MODEL_NAME}:predict", body)


@SETTINGS
@given(method=st.sampled_from(["GET", "POST", "PUT"]),
       path=st.text(alphabet=st.characters(codec="latin-1"), max_size=40).map(
           lambda tail: "/v1/" + tail))
def test_rest_paths_never_fail_the_server(registry, method, path):
    check_rest(registry, method, path, b'{"instances": [[0, 0, 0]]}')


DTYPES = [types_pb2.DT_FLOAT, types_pb2.DT_DOUBLE, types_pb2.DT_INT32, types_pb2.DT_INT64,
          types_pb2.DT_STRING, types_pb2.DT_BOOL, types_pb2.DT_HALF, types_pb2.DT_UINT8,
          types_pb2.DT_COMPLEX64, types_pb2.DT_RESOURCE, types_pb2.DT_INVALID, 999]


@st.composite
def tensor_protos(draw):
    proto = tensor_pb2.TensorProto()
    proto.dtype = draw(st.sampled_from(DTYPES))
    for size in draw(st.lists(st.integers(-2, 2**40) | st.integers(0, 5), max_size=4)):
        proto.tensor_shape.dim.add(size=size)
    proto.tensor_shape.unknown_rank = draw(st.booleans())
    content = draw(st.sampled_from(["none", "content", "float", "int", "int64", "string"]))
    if content == "content":
        proto.tensor_content = draw(st.binary(max_size=64))
    elif content == "float":
        proto.float_val.extend(draw(st.lists(st.floats(width=32), max_size=8)))
    elif content == "int":
        proto.int_val.extend(draw(st.lists(st.integers(-(2**31), 2**31 - 1), max_size=8)))
    elif content == "int64":
        proto.int64_val.extend(draw(st.lists(st.integers(-(2**63), 2**63 - 1), max_size=8)))
    elif content == "string":
        proto.string_val.extend(draw(st.lists(st.binary(max_size=8), max_size=4)))
    return proto


def check_grpc(registry, request):
    try:
        registry.predict(request.model_spec, dict(request.inputs), list(request.output_filter))
    except ServingError as error:
        assert error.code not in SERVER_FAULTS, (request, error)


@SETTINGS
@given(signature=st.sampled_from(SIGNATURES),
       inputs=st.dictionaries(st.sampled_from(INPUT_NAMES), tensor_protos(), max_size=3),
       output_filter=st.lists(st.sampled_from(["samples", "z", "png_bytes", "nope"]),
                              max_size=2))
def test_grpc_predict_tensors_never_fail_the_server(registry, signature, inputs, output_filter):
    request = predict_pb2.PredictRequest(
        model_spec=model_pb2.ModelSpec(name=MODEL_NAME, signature_name=signature),
        output_filter=output_filter)
    for name, proto in inputs.items():
        request.inputs[name].CopyFrom(proto)
    check_grpc(registry, request)


@SETTINGS
@given(seeds=st.lists(st.integers(-(2**63), 2**63 - 1), min_size=1, max_size=8),
       num_samples=st.integers(-(2**31), 2**31 - 1))
def test_grpc_well_formed_values_never_fail_the_server(registry, seeds, num_samples):
    for signature, inputs in (
            ("sample_seeds", {"seeds": np.array(seeds, np.int64)}),
            ("sample", {"num_samples": np.int32(num_samples), "seed": np.int64(seeds[0])})):
        request = predict_pb2.PredictRequest(
            model_spec=model_pb2.ModelSpec(name=MODEL_NAME, signature_name=signature))
        for name, value in inputs.items():
            request.inputs[name].CopyFrom(tf.make_tensor_proto(value))
        check_grpc(registry, request)
