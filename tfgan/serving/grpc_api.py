"""The gRPC API: TF Serving's `PredictionService` and `ModelService` on `grpc.aio`.

The servicers implement the stubs of the tensorflow-serving-api package over the same
`ModelRegistry` as the REST API; only the edge differs: requests arrive as protos, answers
leave as protos, and a `ServingError` becomes the gRPC status with the same canonical code and
message. Answers may be up to 2^31-1 bytes, as the stock server's; requests are capped by
`--max_request_bytes`. Predict outputs fill the typed fields (`float_val`, ...) as the stock
server fills them, or `tensor_content` with `--enable_serialization_as_tensor_content`.
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
from tfgan.serving.core import monotonic_us
from tfgan.serving.errors import ServingError
from tfgan.serving.protocol import CHANNEL_OPTIONS, MAX_MESSAGE_BYTES  # noqa: F401
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
    """A `TensorProto` of an output as the stock server writes it (`Tensor::AsProtoField`).

    Args:
        value: numpy array.
        tensor_content: bool, keep numbers in `tensor_content` (`AsProtoTensorContent`, the
            stock `--enable_serialization_as_tensor_content`). Defaults to `False`.
    """
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
    """`tensorflow.serving.PredictionService` over a `ModelRegistry`.

    Args:
        registry: `ModelRegistry`.
        executor: `concurrent.futures.Executor` for the blocking work.
        tensor_content: bool, Predict outputs in `tensor_content` (see `output_proto`).
            Defaults to `False`.
    """

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
    """`tensorflow.serving.ModelService` over a `ModelRegistry`.

    Args:
        registry: `ModelRegistry`.
        executor: `concurrent.futures.Executor` for the blocking work.
        allow_reload: bool, answer `HandleReloadConfigRequest`; else PERMISSION_DENIED.
            Defaults to `False`.
    """

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
    """gRPC server options: `--grpc_channel_arguments`, the size limits, an exclusive port.

    Args:
        channel_arguments: sequence of `key=value` str; integer values become ints.
        max_request_bytes: int, the largest request accepted.

    Raises:
        ValueError: for an argument without `=`.
    """
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
    """A `grpc.aio` server with both services (ports are added by the caller).

    Args:
        registry: `ModelRegistry`.
        executor: `concurrent.futures.Executor` for the blocking work.
        max_concurrent_rpcs: int or None, calls in progress past which new ones are refused
            with RESOURCE_EXHAUSTED. Defaults to None: no limit.
        idle_timeout_seconds: float, a connection with no call for this long is closed; 0
            keeps it. Defaults to `0`.
        max_request_bytes: int, larger requests get RESOURCE_EXHAUSTED. Defaults to 2^31-1.
        channel_arguments: sequence of `key=value` str (`--grpc_channel_arguments`).
            Defaults to `()`.
        tensor_content: bool, Predict outputs in `tensor_content`. Defaults to `False`.
        allow_reload: bool, answer `HandleReloadConfigRequest` (else PERMISSION_DENIED).
            Defaults to `False`.

    Returns:
        `grpc.aio.Server`, not started.
    """
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
