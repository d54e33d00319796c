"""The gRPC API: TF Serving's `PredictionService` and `ModelService` on `grpc.aio`, over the
same `ModelRegistry` as REST; a `ServingError` becomes the gRPC status of the same code.
Answers may be up to 2^31-1 bytes, as the stock server's; requests are capped by
`--max_request_bytes`.
"""

import asyncio
import time

import grpc
import numpy as np
import tensorflow as tf
from google.protobuf import message_factory
from google.protobuf.message import DecodeError
from tensorflow.core.framework import types_pb2
from tensorflow.core.protobuf import error_codes_pb2 as codes
from tensorflow_serving.apis import (
    classification_pb2,
    model_management_pb2,
    model_service_pb2,
    predict_pb2,
    prediction_service_pb2,
    regression_pb2,
)

from tfgan.serving import inference
from tfgan.serving.errors import ServingError
from tfgan.serving.metrics import monotonic_us
from tfgan.serving.protocol import CHANNEL_OPTIONS

GRPC_CODES = {status.value[0]: status for status in grpc.StatusCode}


# The typed field of a TensorProto for each dtype whose values tensor_content can carry.
_TYPED_FIELDS = {
    types_pb2.DT_FLOAT: "float_val", types_pb2.DT_DOUBLE: "double_val",
    types_pb2.DT_INT32: "int_val", types_pb2.DT_INT16: "int_val", types_pb2.DT_INT8: "int_val",
    types_pb2.DT_UINT8: "int_val", types_pb2.DT_UINT16: "int_val",
    types_pb2.DT_INT64: "int64_val", types_pb2.DT_UINT32: "uint32_val",
    types_pb2.DT_UINT64: "uint64_val", types_pb2.DT_BOOL: "bool_val",
    types_pb2.DT_HALF: "half_val", types_pb2.DT_BFLOAT16: "half_val",
    types_pb2.DT_COMPLEX64: "scomplex_val", types_pb2.DT_COMPLEX128: "dcomplex_val",
}


def output_proto(value, tensor_content=False):
    """A `TensorProto` of an output as the stock server writes it: the typed fields
    (`Tensor::AsProtoField`), or `tensor_content` (`AsProtoTensorContent`) with
    `--enable_serialization_as_tensor_content`."""
    proto = tf.make_tensor_proto(value)
    field = _TYPED_FIELDS.get(proto.dtype)
    if field is None:  # strings: string_val either way
        return proto
    array = np.asarray(value)
    if tensor_content:
        if not proto.tensor_content:  # bool and complex arrive typed
            proto.ClearField(field)
            proto.tensor_content = array.tobytes()
        return proto
    if proto.tensor_content:
        if array.dtype.itemsize == 2 and array.dtype.kind not in "iu":  # half, bfloat16: bits
            array = array.view(np.uint16)
        proto.tensor_content = b""
        getattr(proto, field).extend(array.ravel().tolist())
    return proto


class _Services:
    """Every method of `PredictionService` and `ModelService` over a `ModelRegistry`, named as
    the RPCs: each takes the request and the caller's deadline (`time.monotonic()` time, or
    None) and blocks; `_service_handler` runs it in the executor.

    Args:
        tensor_content: see `output_proto`.
        allow_reload: bool; without it `HandleReloadConfigRequest` is PERMISSION_DENIED.
    """

    def __init__(self, registry, tensor_content=False, allow_reload=False):
        self._registry = registry
        self._tensor_content = tensor_content
        self._allow_reload = allow_reload

    def Predict(self, request, deadline):  # noqa: N802 - gRPC method names
        _require_model_spec(request)
        result = self._registry.predict(request.model_spec, dict(request.inputs),
                                        list(request.output_filter), deadline=deadline)
        response = predict_pb2.PredictResponse()
        response.model_spec.CopyFrom(result.model_spec)
        for alias, value in result.outputs.items():
            response.outputs[alias].CopyFrom(output_proto(value, self._tensor_content))
        return response

    def GetModelMetadata(self, request, deadline):  # noqa: N802
        return self._registry.model_metadata(request)

    def Classify(self, request, deadline):  # noqa: N802
        return self._examples_call(request, "classify", classification_pb2.ClassificationResponse)

    def Regress(self, request, deadline):  # noqa: N802
        return self._examples_call(request, "regress", regression_pb2.RegressionResponse)

    def _examples_call(self, request, method, response_class):
        _require_model_spec(request)
        examples, example_context = inference.examples_of(request.input)
        spec, result = self._registry.classify_or_regress(
            request.model_spec, method, examples, example_context)
        return response_class(model_spec=spec, result=result)

    def MultiInference(self, request, deadline):  # noqa: N802
        return self._registry.multi_inference(request, deadline=deadline)

    def GetModelStatus(self, request, deadline):  # noqa: N802
        _require_model_spec(request)
        return self._registry.model_status(request.model_spec)

    def HandleReloadConfigRequest(self, request, deadline):  # noqa: N802
        if not self._allow_reload:
            raise ServingError(codes.PERMISSION_DENIED, (
                "this server refuses HandleReloadConfigRequest; start it with "
                "--allow_reload_config_requests to load and unload models over gRPC"))
        try:
            self._registry.reload_config(request.config)
        except ValueError as error:
            raise ServingError.invalid_argument(str(error)) from None
        return model_management_pb2.ReloadConfigResponse()


def _require_model_spec(request):
    if not request.HasField("model_spec"):
        raise ServingError.invalid_argument("Missing ModelSpec")


def _model_name(request):
    """The model a request names, for the metrics ("" for none)."""
    if hasattr(request, "tasks"):
        return request.tasks[0].model_spec.name if request.tasks else ""
    return request.model_spec.name if hasattr(request, "model_spec") else ""


def _service_handler(service, services, registry, executor):
    """A generic handler for every method of `service`, run by `services` in `executor`.

    Requests are parsed here: grpcio's generated handlers turn a request that does not parse
    into UNKNOWN ("Unexpected DecodeError"); here it is INVALID_ARGUMENT, as for any other
    malformed request. A `ServingError` becomes the gRPC status of its code; each call is
    counted in the registry's metrics.
    """
    handlers = {}
    for method in service.methods:
        request_class = message_factory.GetMessageClass(method.input_type)

        def make(name, implementation, request_class):
            async def handle(raw, context):
                try:
                    request = request_class.FromString(raw)
                except DecodeError as error:
                    await context.abort(
                        grpc.StatusCode.INVALID_ARGUMENT,
                        f"Could not parse the request as {request_class.DESCRIPTOR.full_name}:"
                        f" {error}",
                    )
                remaining = context.time_remaining()
                deadline = None if remaining is None else time.monotonic() + remaining
                start, code = monotonic_us(), codes.OK
                try:
                    return await asyncio.get_running_loop().run_in_executor(
                        executor, implementation, request, deadline)
                except ServingError as error:
                    code = error.code
                    await context.abort(GRPC_CODES[error.code], error.message)
                finally:
                    registry.metrics.record(_model_name(request), name, "GRPC", code,
                                            monotonic_us() - start)

            return handle

        handlers[method.name] = grpc.unary_unary_rpc_method_handler(
            make(method.name, getattr(services, method.name), request_class),
            response_serializer=message_factory.GetMessageClass(
                method.output_type).SerializeToString,
        )
    return grpc.method_handlers_generic_handler(service.full_name, handlers)


def channel_options(channel_arguments, max_request_bytes):
    """gRPC server options: `--grpc_channel_arguments` (`key=value` items, integer values as
    ints; ValueError without `=`), the size limits, an exclusive port."""
    options = dict(CHANNEL_OPTIONS)
    for argument in channel_arguments:
        key, sep, value = argument.partition("=")
        if not sep:
            raise ValueError(f"--grpc_channel_arguments takes key=value items. "
                             f"Received: {argument!r}")
        options[key.strip()] = int(value) if value.strip().lstrip("-").isdigit() else value
    options["grpc.max_receive_message_length"] = max_request_bytes
    options["grpc.so_reuseport"] = 0  # a second server on the port fails instead of sharing it
    return list(options.items())


def create_server(registry, executor, options):
    """A `grpc.aio` server with both services, not started (the caller adds the ports);
    `executor` runs the blocking work, `options` (`ServerOptions`) sets its limits."""
    grpc_options = channel_options(options.grpc_channel_arguments, options.max_request_bytes)
    if options.grpc_idle_timeout_seconds > 0:
        grpc_options.append(
            ("grpc.max_connection_idle_ms", int(options.grpc_idle_timeout_seconds * 1000)))
    server = grpc.aio.server(options=grpc_options,
                             maximum_concurrent_rpcs=options.grpc_max_concurrent_rpcs or None)
    services = _Services(registry, options.enable_serialization_as_tensor_content,
                         options.allow_reload_config_requests)
    server.add_generic_rpc_handlers(tuple(
        _service_handler(module.DESCRIPTOR.services_by_name[name], services, registry, executor)
        for module, name in ((prediction_service_pb2, "PredictionService"),
                             (model_service_pb2, "ModelService"))))
    return server
