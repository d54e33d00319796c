"""The gRPC API: TF Serving's `PredictionService` and `ModelService` on `grpc.aio`.

The servicers implement the stubs of the tensorflow-serving-api package over the same
`ModelRegistry` as the REST API; only the edge differs: requests arrive as protos, answers
leave as protos, and a `ServingError` becomes the gRPC status with the same canonical code and
message. As the stock server, messages of up to 2^31-1 bytes are accepted both ways.
"""

import asyncio

import grpc
import tensorflow as tf
from tensorflow.core.protobuf import error_codes_pb2 as codes
from tensorflow_serving.apis import (
    model_management_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
)

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
        def work():
            _require_model_spec(request)
            result = self._registry.predict(
                request.model_spec, dict(request.inputs), list(request.output_filter)
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
        def work():
            _require_model_spec(request)
            self._registry.classify_or_regress(request.model_spec, "classify")

        return await self._answer(context, "Classify", request.model_spec.name, work)

    async def Regress(self, request, context):  # noqa: N802
        def work():
            _require_model_spec(request)
            self._registry.classify_or_regress(request.model_spec, "regress")

        return await self._answer(context, "Regress", request.model_spec.name, work)

    async def MultiInference(self, request, context):  # noqa: N802
        await context.abort(
            grpc.StatusCode.UNIMPLEMENTED, "MultiInference is not supported by this server"
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


def create_server(registry, executor):
    """A `grpc.aio` server with both services (ports are added by the caller).

    Args:
        registry: `ModelRegistry`.
        executor: `concurrent.futures.Executor` for the blocking work.

    Returns:
        `grpc.aio.Server`, not started.
    """
    server = grpc.aio.server(options=CHANNEL_OPTIONS)
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(
        PredictionServicer(registry, executor), server
    )
    model_service_pb2_grpc.add_ModelServiceServicer_to_server(
        ModelServicer(registry, executor), server
    )
    return server
