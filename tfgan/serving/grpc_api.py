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
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2,
    prediction_service_pb2_grpc,
    regression_pb2,
)

from tfgan.serving import inference
from tfgan.serving.metrics import monotonic_us
from tfgan.serving.errors import ServingError
from tfgan.serving.protocol import CHANNEL_OPTIONS, MAX_MESSAGE_BYTES

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


class _Servicer:
    """Runs registry calls in the executor and turns `ServingError`s into gRPC statuses."""

    def __init__(self, registry, executor):
        self._registry = registry
        self._executor = executor

    async def _answer(self, context, api, model_name, work):
        start = monotonic_us()
        code = codes.OK
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, work)
        except ServingError as error:
            code = error.code
            await context.abort(GRPC_CODES[error.code], error.message)
        finally:
            self._registry.metrics.record(
                model_name, api, "GRPC", code, monotonic_us() - start
            )


def _deadline(context):
    """The `time.monotonic()` time at which the caller's gRPC deadline passes, or None."""
    remaining = context.time_remaining()
    return None if remaining is None else time.monotonic() + remaining


def _require_model_spec(request):
    if not request.HasField("model_spec"):
        raise ServingError.invalid_argument("Missing ModelSpec")


class PredictionServicer(_Servicer, prediction_service_pb2_grpc.PredictionServiceServicer):
    """`tensorflow.serving.PredictionService` over a `ModelRegistry`; `executor` runs the
    blocking work; `tensor_content`: see `output_proto`."""

    def __init__(self, registry, executor, tensor_content=False):
        super().__init__(registry, executor)
        self._tensor_content = tensor_content

    async def Predict(self, request, context):  # noqa: N802 - gRPC method name
        deadline = _deadline(context)

        def work():
            _require_model_spec(request)
            result = self._registry.predict(
                request.model_spec, dict(request.inputs), list(request.output_filter),
                deadline=deadline,
            )
            response = predict_pb2.PredictResponse()
            response.model_spec.CopyFrom(result.model_spec)
            for alias, value in result.outputs.items():
                response.outputs[alias].CopyFrom(
                    output_proto(value, self._tensor_content))
            return response

        return await self._answer(context, "Predict", request.model_spec.name, work)

    async def GetModelMetadata(self, request, context):  # noqa: N802
        return await self._answer(
            context, "GetModelMetadata", request.model_spec.name,
            lambda: self._registry.model_metadata(request),
        )

    async def Classify(self, request, context):  # noqa: N802
        return await self._answer(
            context, "Classify", request.model_spec.name,
            lambda: self._examples_call(request, "classify"),
        )

    async def Regress(self, request, context):  # noqa: N802
        return await self._answer(
            context, "Regress", request.model_spec.name,
            lambda: self._examples_call(request, "regress"),
        )

    def _examples_call(self, request, method):
        _require_model_spec(request)
        examples, example_context = inference.examples_of(request.input)
        spec, result = self._registry.classify_or_regress(
            request.model_spec, method, examples, example_context)
        response = (classification_pb2.ClassificationResponse() if method == "classify"
                    else regression_pb2.RegressionResponse())
        response.model_spec.CopyFrom(spec)
        response.result.CopyFrom(result)
        return response

    async def MultiInference(self, request, context):  # noqa: N802
        deadline = _deadline(context)
        return await self._answer(
            context, "MultiInference", request.tasks[0].model_spec.name if request.tasks else "",
            lambda: self._registry.multi_inference(request, deadline=deadline),
        )


class ModelServicer(_Servicer, model_service_pb2_grpc.ModelServiceServicer):
    """`tensorflow.serving.ModelService` over a `ModelRegistry`; `HandleReloadConfigRequest`
    answers PERMISSION_DENIED unless `allow_reload`."""

    def __init__(self, registry, executor, allow_reload=False):
        super().__init__(registry, executor)
        self._allow_reload = allow_reload

    async def GetModelStatus(self, request, context):  # noqa: N802
        def work():
            _require_model_spec(request)
            return self._registry.model_status(request.model_spec)

        return await self._answer(context, "GetModelStatus", request.model_spec.name, work)

    async def HandleReloadConfigRequest(self, request, context):  # noqa: N802
        def work():
            if not self._allow_reload:
                raise ServingError(codes.PERMISSION_DENIED, (
                    "this server refuses HandleReloadConfigRequest; start it with "
                    "--allow_reload_config_requests to load and unload models over gRPC"))
            try:
                self._registry.reload_config(request.config)
            except ValueError as error:
                raise ServingError.invalid_argument(str(error)) from None
            return model_management_pb2.ReloadConfigResponse()

        return await self._answer(context, "HandleReloadConfigRequest", "", work)


def _service_handler(service, servicer):
    """A generic handler for every method of `service` that parses requests itself.

    grpcio's generated handlers turn a request that does not parse into UNKNOWN ("Unexpected
    DecodeError"); here it is INVALID_ARGUMENT, as for any other malformed request.
    """
    handlers = {}
    for method in service.methods:
        request_class = message_factory.GetMessageClass(method.input_type)
        response_class = message_factory.GetMessageClass(method.output_type)

        def make(implementation, request_class):
            async def handle(raw, context):
                try:
                    request = request_class.FromString(raw)
                except DecodeError as error:
                    await context.abort(
                        grpc.StatusCode.INVALID_ARGUMENT,
                        f"Could not parse the request as {request_class.DESCRIPTOR.full_name}:"
                        f" {error}",
                    )
                return await implementation(request, context)

            return handle

        handlers[method.name] = grpc.unary_unary_rpc_method_handler(
            make(getattr(servicer, method.name), request_class),
            request_deserializer=None,
            response_serializer=response_class.SerializeToString,
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


def create_server(registry, executor, *, max_concurrent_rpcs=None, idle_timeout_seconds=0,
                  max_request_bytes=MAX_MESSAGE_BYTES, channel_arguments=(),
                  tensor_content=False, allow_reload=False):
    """A `grpc.aio` server with both services, not started (the caller adds the ports).
    `executor` runs the blocking work; the other arguments are the `tfgan-serve` flags
    `--grpc_max_concurrent_rpcs` (None: no limit), `--grpc_idle_timeout_seconds` (0: never),
    `--max_request_bytes`, `--grpc_channel_arguments`,
    `--enable_serialization_as_tensor_content` and `--allow_reload_config_requests`."""
    options = channel_options(channel_arguments, max_request_bytes)
    if idle_timeout_seconds > 0:
        options.append(("grpc.max_connection_idle_ms", int(idle_timeout_seconds * 1000)))
    server = grpc.aio.server(options=options, maximum_concurrent_rpcs=max_concurrent_rpcs)
    server.add_generic_rpc_handlers((
        _service_handler(prediction_service_pb2.DESCRIPTOR.services_by_name["PredictionService"],
                         PredictionServicer(registry, executor, tensor_content=tensor_content)),
        _service_handler(model_service_pb2.DESCRIPTOR.services_by_name["ModelService"],
                         ModelServicer(registry, executor, allow_reload=allow_reload)),
    ))
    return server
