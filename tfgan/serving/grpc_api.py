"""The gRPC API: TF Serving's `PredictionService` and `ModelService` on `grpc.aio`.

The servicers implement the stubs of the tensorflow-serving-api package over the same
`ModelRegistry` as the REST API; only the edge differs: requests arrive as protos, answers
leave as protos, and a `ServingError` becomes the gRPC status with the same canonical code and
message. As the stock server, messages of up to 2^31-1 bytes are accepted both ways.
"""

import asyncio
import time

import grpc
import tensorflow as tf
from google.protobuf import message_factory
from google.protobuf.message import DecodeError
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
    """

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
                response.outputs[alias].CopyFrom(tf.make_tensor_proto(value))
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
    """

    async def GetModelStatus(self, request, context):  # noqa: N802
        def work():
            _require_model_spec(request)
            return self._registry.model_status(request.model_spec)

        return await self._answer(context, "GetModelStatus", request.model_spec.name, work)

    async def HandleReloadConfigRequest(self, request, context):  # noqa: N802
        def work():
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


def create_server(registry, executor, *, max_concurrent_rpcs=None, idle_timeout_seconds=0):
    """A `grpc.aio` server with both services (ports are added by the caller).

    Args:
        registry: `ModelRegistry`.
        executor: `concurrent.futures.Executor` for the blocking work.
        max_concurrent_rpcs: int or None, calls in progress past which new ones are refused
            with RESOURCE_EXHAUSTED. Defaults to None: no limit.
        idle_timeout_seconds: float, a connection with no call for this long is closed; 0
            keeps it. Defaults to `0`.

    Returns:
        `grpc.aio.Server`, not started.
    """
    options = list(CHANNEL_OPTIONS)
    if idle_timeout_seconds > 0:
        options.append(("grpc.max_connection_idle_ms", int(idle_timeout_seconds * 1000)))
    server = grpc.aio.server(options=options, maximum_concurrent_rpcs=max_concurrent_rpcs)
    server.add_generic_rpc_handlers((
        _service_handler(prediction_service_pb2.DESCRIPTOR.services_by_name["PredictionService"],
                         PredictionServicer(registry, executor)),
        _service_handler(model_service_pb2.DESCRIPTOR.services_by_name["ModelService"],
                         ModelServicer(registry, executor)),
    ))
    return server
