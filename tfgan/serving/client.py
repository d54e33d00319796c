"""One client for TF Serving's REST and gRPC APIs (the stock server or the embedded one).

```python
with connect("http://127.0.0.1:8501") as client:          # or "grpc://127.0.0.1:8500"
    out = client.predict("mnist", {"num_samples": 16, "seed": 7}, signature_name="sample")
    out["samples"].shape   # (16, 28, 28, 1)
```

Both transports read the model's metadata once per (model, version) to know each signature's
input dtypes (inputs are cast to them, so `4` reaches an int32 input as a JSON integer) and,
over REST, output names and dtypes (a single output comes back unnamed; `_bytes` outputs come
back as base64). REST requests use the columnar `inputs` form, which also carries scalars.
Errors raise `ServingError` with the server's code and message; a server that cannot be
reached raises `ServingError` with code UNAVAILABLE.
"""

import base64
import json
import urllib.error
import urllib.parse
import urllib.request

import grpc
import numpy as np
import tensorflow as tf
from google.protobuf import json_format
from tensorflow.core.framework import types_pb2
from tensorflow.core.protobuf import error_codes_pb2 as codes
from tensorflow_serving.apis import (
    get_model_metadata_pb2,
    get_model_status_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
)

from tfgan.serving.errors import CODES_BY_HTTP_STATUS, ServingError
from tfgan.serving.protocol import CHANNEL_OPTIONS, DEFAULT_SIGNATURE, SIGNATURE_DEF_FIELD


class ServingClient:
    """What both transports offer; make one with `connect(url)`. Every call raises
    `ServingError` as the server answers."""

    def __init__(self, url, timeout=30.0):
        self.url = url
        self.timeout = timeout
        self._signatures = {}

    def status(self, model_name, version=None):
        """`GetModelStatusResponse` of all versions of a model, or of one `version`."""
        raise NotImplementedError

    def metadata(self, model_name, version=None):
        """`GetModelMetadataResponse` (its `metadata["signature_def"]` packs a
        `SignatureDefMap`) of a version; None means the latest."""
        raise NotImplementedError

    def predict(self, model_name, inputs, signature_name=DEFAULT_SIGNATURE, version=None):
        """Runs a signature on `inputs` (name -> array-like, cast to the signature's dtypes)
        of a version (None: the latest).

        Returns:
            dict of output name -> numpy array (`object` arrays of `bytes` for strings).

        Raises:
            ServingError: as the server answers; FAILED_PRECONDITION for a signature the
                model does not have.
        """
        signature = self._signature(model_name, signature_name, version)
        dtypes = {name: tf.as_dtype(info.dtype).as_numpy_dtype
                  for name, info in signature.inputs.items()}
        arrays = {name: np.asarray(value, dtypes.get(name)) for name, value in inputs.items()}
        return self._predict(model_name, arrays, signature_name, version, signature)

    def _signature(self, model_name, signature_name, version):
        key = (model_name, version)
        if key not in self._signatures:
            signature_map = get_model_metadata_pb2.SignatureDefMap()
            self.metadata(model_name, version).metadata[SIGNATURE_DEF_FIELD].Unpack(signature_map)
            self._signatures[key] = dict(signature_map.signature_def)
        signatures = self._signatures[key]
        if signature_name not in signatures:
            raise ServingError.failed_precondition(
                f'Serving signature key "{signature_name}" not found.'
            )
        return signatures[signature_name]

    def _predict(self, model_name, arrays, signature_name, version, signature):
        raise NotImplementedError

    def close(self):
        """Releases the connection."""

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def _json_value(array):
    """A numpy array as JSON-ready nested lists; strings as `{"b64": ...}`."""
    if array.dtype == object or array.dtype.kind in "SU":
        encode = np.vectorize(
            lambda v: {"b64": base64.b64encode(
                v if isinstance(v, bytes) else str(v).encode("utf-8")
            ).decode("ascii")},
            otypes=[object],
        )
        return encode(array).tolist() if array.size else array.tolist()
    return array.tolist()


def _decode_b64(value):
    if isinstance(value, list):
        return [_decode_b64(item) for item in value]
    return base64.b64decode(value["b64"]) if isinstance(value, dict) else value.encode("utf-8")


def _output_array(value, info):
    if info.dtype == types_pb2.DT_STRING:
        return np.array(_decode_b64(value), dtype=object)
    return np.asarray(value, dtype=tf.as_dtype(info.dtype).as_numpy_dtype)


class RestClient(ServingClient):
    """`ServingClient` over the REST API (`http://host:port`)."""

    def _call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(
            self.url.rstrip("/") + path, data=data, method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                return json.loads(answer.read().decode("utf-8"))
        except urllib.error.HTTPError as error:
            text = error.read().decode("utf-8", "replace")
            try:
                message = json.loads(text)["error"]
            except (ValueError, KeyError, TypeError):
                message = text or error.reason
            raise ServingError(
                CODES_BY_HTTP_STATUS.get(error.code, codes.UNKNOWN), message
            ) from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise ServingError.unavailable(f"cannot reach {self.url}: {reason}") from None

    @staticmethod
    def _model_path(model_name, version):
        path = "/v1/models/" + urllib.parse.quote(model_name, safe="")
        return path if version is None else f"{path}/versions/{int(version)}"

    def status(self, model_name, version=None):
        answer = self._call("GET", self._model_path(model_name, version))
        return json_format.ParseDict(answer, get_model_status_pb2.GetModelStatusResponse())

    def metadata(self, model_name, version=None):
        answer = self._call("GET", self._model_path(model_name, version) + "/metadata")
        response = get_model_metadata_pb2.GetModelMetadataResponse()
        json_format.ParseDict(answer["model_spec"], response.model_spec)
        signature_map = json_format.ParseDict(
            answer["metadata"][SIGNATURE_DEF_FIELD], get_model_metadata_pb2.SignatureDefMap()
        )
        response.metadata[SIGNATURE_DEF_FIELD].Pack(signature_map)
        return response

    def _predict(self, model_name, arrays, signature_name, version, signature):
        body = {
            "signature_name": signature_name,
            "inputs": {name: _json_value(array) for name, array in arrays.items()},
        }
        outputs = self._call("POST", self._model_path(model_name, version) + ":predict", body)
        outputs = outputs["outputs"]
        names = sorted(signature.outputs)
        if len(names) == 1:
            outputs = {names[0]: outputs}
        return {name: _output_array(value, signature.outputs[name])
                for name, value in outputs.items()}


class GrpcClient(ServingClient):
    """`ServingClient` over the gRPC API (`grpc://host:port`), with 2 GiB message limits."""

    def __init__(self, url, timeout=30.0):
        super().__init__(url, timeout)
        self._channel = grpc.insecure_channel(url[len("grpc://"):], options=CHANNEL_OPTIONS)
        self._predictions = prediction_service_pb2_grpc.PredictionServiceStub(self._channel)
        self._models = model_service_pb2_grpc.ModelServiceStub(self._channel)

    def _call(self, method, request):
        try:
            return method(request, timeout=self.timeout)
        except grpc.RpcError as error:
            status = error.code()
            details = error.details() or ""
            if status == grpc.StatusCode.UNAVAILABLE:
                details = f"cannot reach {self.url}: {details}"
            raise ServingError(status.value[0], details) from None

    @staticmethod
    def _spec(spec, model_name, version):
        spec.name = model_name
        if version is not None:
            spec.version.value = int(version)

    def status(self, model_name, version=None):
        request = get_model_status_pb2.GetModelStatusRequest()
        self._spec(request.model_spec, model_name, version)
        return self._call(self._models.GetModelStatus, request)

    def metadata(self, model_name, version=None):
        request = get_model_metadata_pb2.GetModelMetadataRequest(
            metadata_field=[SIGNATURE_DEF_FIELD]
        )
        self._spec(request.model_spec, model_name, version)
        return self._call(self._predictions.GetModelMetadata, request)

    def _predict(self, model_name, arrays, signature_name, version, signature):
        request = predict_pb2.PredictRequest()
        self._spec(request.model_spec, model_name, version)
        request.model_spec.signature_name = signature_name
        for name, array in arrays.items():
            request.inputs[name].CopyFrom(tf.make_tensor_proto(array))
        response = self._call(self._predictions.Predict, request)
        return {name: tf.make_ndarray(proto) for name, proto in response.outputs.items()}

    def close(self):
        self._channel.close()


def connect(url, timeout=30.0):
    """A `RestClient` for `http://host:port`, a `GrpcClient` for `grpc://host:port`, with
    `timeout` seconds per call; ValueError for another scheme."""
    scheme = urllib.parse.urlsplit(url).scheme
    if scheme in ("http", "https"):
        return RestClient(url, timeout)
    if scheme == "grpc":
        return GrpcClient(url, timeout)
    raise ValueError(
        f"the server URL must start with http://, https:// or grpc://. Received: url={url}"
    )
