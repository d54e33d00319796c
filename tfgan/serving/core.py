"""The model registry behind the REST and gRPC APIs, as TF Serving's `ServerCore`.

`ModelRegistry` serves any SavedModel directory tree: for each configured model it polls
`<base_path>/<version>/` every `file_system_poll_wait_seconds`, loads new integer version
directories with `tf.saved_model.load`, then unloads versions the version policy no longer
wants. Requests always see a complete set of versions: the set is a dict replaced in one
assignment, and a version stays loaded until a newer one is available. A version that fails to
load is reported in the model status (state END with its error) and the old one keeps serving.

Errors are `ServingError`s carrying TensorFlow's canonical status codes and the stock server's
messages (`Servable not found for request: Latest(mnist)`, ...); the REST and gRPC edges turn
them into HTTP statuses and gRPC codes.
"""

import dataclasses
import logging
import os
import re
import threading
import time
import typing

import numpy as np
import tensorflow as tf
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, text_format
from google.protobuf import wrappers_pb2
from google.protobuf.message import DecodeError
from tensorflow.core.framework import tensor_pb2, types_pb2
from tensorflow.core.protobuf import error_codes_pb2, saved_model_pb2
from tensorflow_serving.apis import get_model_metadata_pb2, get_model_status_pb2, model_pb2
from tensorflow_serving.config import model_server_config_pb2

from tfgan.serving.errors import ServingError, datatype_of, dtype_name  # noqa: F401
from tfgan.serving.protocol import DEFAULT_SIGNATURE, SIGNATURE_DEF_FIELD  # noqa: F401

State = get_model_status_pb2.ModelVersionStatus.State

_log = logging.getLogger("tfgan.serving")
_VERSION_DIR = re.compile(r"[0-9]+")


# The server's config protos that the tensorflow-serving-api package does not ship, with the
# field names and numbers of tensorflow_serving's session_bundle_config.proto and
# monitoring_config.proto, so their text files parse exactly as the stock server parses them.
_CONFIG_PROTOS = """
name: "tfgan/serving/server_config.proto"
package: "tensorflow.serving"
syntax: "proto3"
dependency: "google/protobuf/wrappers.proto"
message_type {
  name: "BatchingParameters"
  field { name: "max_batch_size" number: 1 label: LABEL_OPTIONAL type: TYPE_MESSAGE
          type_name: ".google.protobuf.Int64Value" }
  field { name: "batch_timeout_micros" number: 2 label: LABEL_OPTIONAL type: TYPE_MESSAGE
          type_name: ".google.protobuf.Int64Value" }
  field { name: "max_enqueued_batches" number: 3 label: LABEL_OPTIONAL type: TYPE_MESSAGE
          type_name: ".google.protobuf.Int64Value" }
  field { name: "num_batch_threads" number: 4 label: LABEL_OPTIONAL type: TYPE_MESSAGE
          type_name: ".google.protobuf.Int64Value" }
  field { name: "thread_pool_name" number: 5 label: LABEL_OPTIONAL type: TYPE_MESSAGE
          type_name: ".google.protobuf.StringValue" }
  field { name: "allowed_batch_sizes" number: 6 label: LABEL_REPEATED type: TYPE_INT64 }
  field { name: "pad_variable_length_inputs" number: 7 label: LABEL_OPTIONAL type: TYPE_BOOL }
  field { name: "enable_large_batch_splitting" number: 8 label: LABEL_OPTIONAL
          type: TYPE_MESSAGE type_name: ".google.protobuf.BoolValue" }
  field { name: "max_execution_batch_size" number: 9 label: LABEL_OPTIONAL type: TYPE_MESSAGE
          type_name: ".google.protobuf.Int64Value" }
}
message_type {
  name: "PrometheusConfig"
  field { name: "enable" number: 1 label: LABEL_OPTIONAL type: TYPE_BOOL }
  field { name: "path" number: 2 label: LABEL_OPTIONAL type: TYPE_STRING }
}
message_type {
  name: "MonitoringConfig"
  field { name: "prometheus_config" number: 1 label: LABEL_OPTIONAL type: TYPE_MESSAGE
          type_name: ".tensorflow.serving.PrometheusConfig" }
}
"""


def _config_message_classes():
    pool = descriptor_pool.DescriptorPool()
    wrappers = descriptor_pb2.FileDescriptorProto()
    wrappers_pb2.DESCRIPTOR.CopyToProto(wrappers)
    pool.Add(wrappers)
    pool.Add(text_format.Parse(_CONFIG_PROTOS, descriptor_pb2.FileDescriptorProto()))
    return tuple(
        message_factory.GetMessageClass(pool.FindMessageTypeByName(f"tensorflow.serving.{name}"))
        for name in ("BatchingParameters", "MonitoringConfig")
    )


BatchingParameters, MonitoringConfig = _config_message_classes()


def read_text_proto(path, message):
    """Parses a text-format proto file into `message` (as the stock server reads its configs).

    Args:
        path: str, the file.
        message: an empty proto message to fill.

    Returns:
        `message`, filled.

    Raises:
        ValueError: if the file cannot be read or parsed.
    """
    try:
        with open(path, encoding="utf-8") as f:
            return text_format.Parse(f.read(), message)
    except (OSError, text_format.ParseError) as error:
        raise ValueError(
            f"cannot read {message.DESCRIPTOR.name} from {path}: {error}. Received: path={path}"
        ) from None


def read_model_config_file(path):
    """Reads a `ModelServerConfig` text proto (`--model_config_file`).

    Args:
        path: str, the file.

    Returns:
        `model_server_config_pb2.ModelServerConfig`, checked by `validate_model_config`.

    Raises:
        ValueError: if the file cannot be read or parsed, or names an invalid model.
    """
    config = read_text_proto(path, model_server_config_pb2.ModelServerConfig())
    validate_model_config(config)
    return config


def single_model_config(model_name, model_base_path):
    """The `ModelServerConfig` of `--model_name` / `--model_base_path` (latest version only)."""
    config = model_server_config_pb2.ModelServerConfig()
    model = config.model_config_list.config.add()
    model.name = model_name
    model.base_path = model_base_path
    model.model_platform = "tensorflow"
    validate_model_config(config)
    return config


def validate_model_config(config):
    """Raises `ValueError` unless `config` lists uniquely named TensorFlow models with paths."""
    if config.WhichOneof("config") != "model_config_list":
        raise ValueError(
            "the model config must be a model_config_list. "
            f"Received: config={config.WhichOneof('config')}"
        )
    names = set()
    for model in config.model_config_list.config:
        if not model.name:
            raise ValueError(f"every model needs a name. Received: name={model.name!r}")
        if model.name in names:
            raise ValueError(f"model names must be unique. Received: name={model.name!r}")
        names.add(model.name)
        if not model.base_path:
            raise ValueError(
                f"model {model.name} needs a base_path. Received: base_path={model.base_path!r}"
            )
        if model.model_platform not in ("", "tensorflow"):
            raise ValueError(
                "only the tensorflow model platform is served. "
                f"Received: model_platform={model.model_platform!r}"
            )


def aspired_versions(policy, on_disk):
    """The versions a `ServableVersionPolicy` wants served among those on disk.

    Args:
        policy: `FileSystemStoragePathSourceConfig.ServableVersionPolicy`; unset means
            `latest { num_versions: 1 }`.
        on_disk: iterable of int, the version directories found.

    Returns:
        set of int.
    """
    on_disk = sorted(set(on_disk))
    choice = policy.WhichOneof("policy_choice")
    if choice == "all":
        return set(on_disk)
    if choice == "specific":
        return set(policy.specific.versions) & set(on_disk)
    count = max(1, policy.latest.num_versions) if choice == "latest" else 1
    return set(on_disk[-count:])


def list_versions(base_path):
    """The integer version directories under `base_path` (an empty list if it is missing)."""
    try:
        names = os.listdir(base_path)
    except OSError:
        return []
    return [
        int(name)
        for name in names
        if _VERSION_DIR.fullmatch(name) and os.path.isdir(os.path.join(base_path, name))
    ]


def read_signature_defs(path):
    """The SignatureDefs of the MetaGraph tagged `serve` in `<path>/saved_model.pb`.

    Args:
        path: str, a version directory.

    Returns:
        dict of signature name -> `SignatureDef`.

    Raises:
        ServingError: NOT_FOUND without a `saved_model.pb` or a `serve` MetaGraph.
    """
    saved_model = saved_model_pb2.SavedModel()
    try:
        with open(os.path.join(path, "saved_model.pb"), "rb") as f:
            saved_model.ParseFromString(f.read())
    except OSError:
        raise ServingError.not_found(
            "Could not find SavedModel .pb or .pbtxt at supplied export directory path: " + path
        ) from None
    except DecodeError:
        raise ServingError(
            error_codes_pb2.DATA_LOSS,
            f"Can't parse {os.path.join(path, 'saved_model.pb')} as binary proto",
        ) from None
    for meta_graph in saved_model.meta_graphs:
        if set(meta_graph.meta_info_def.tags) == {"serve"}:
            return dict(meta_graph.signature_def)
    raise ServingError.not_found(
        "Could not find meta graph def matching supplied tags: { serve }. To inspect available"
        " tag-sets in the SavedModel, please use the SavedModel CLI: `saved_model_cli`"
    )


class LoadedVersion:
    """One loaded version of a SavedModel: its SignatureDefs and its callable signatures.

    Args:
        name: str, the model name.
        version: int, the version number.
        path: str, the version directory.

    Raises:
        ServingError: if the directory is not a loadable SavedModel.
    """

    def __init__(self, name, version, path):
        self.name = name
        self.version = version
        self.path = path
        self.signature_defs = read_signature_defs(path)
        try:
            self._loaded = tf.saved_model.load(path, tags=["serve"])
        except tf.errors.OpError as error:
            raise ServingError.from_tf_error(error) from None
        except (ValueError, OSError) as error:
            raise ServingError.internal(f"Failed to load SavedModel at {path}: {error}") from None
        self._functions = dict(self._loaded.signatures)

    def run(self, signature_name, inputs):
        """Runs one signature.

        Args:
            signature_name: str, a key of `signature_defs`.
            inputs: dict of input alias -> numpy array of the signature's dtype.

        Returns:
            dict of output alias -> numpy array (`object` arrays of `bytes` for strings).

        Raises:
            ServingError: with the code of the TensorFlow error the graph raised.
        """
        function = self._functions.get(signature_name)
        if function is None:
            raise ServingError.failed_precondition(
                f'Serving signature key "{signature_name}" has no function to run.'
            )
        try:
            outputs = function(**{alias: tf.constant(value) for alias, value in inputs.items()})
        except tf.errors.OpError as error:
            raise ServingError.from_tf_error(error) from None
        except (TypeError, ValueError) as error:
            raise ServingError.invalid_argument(str(error)) from None
        return {alias: tensor.numpy() for alias, tensor in outputs.items()}


@dataclasses.dataclass(frozen=True)
class VersionState:
    """Where a version is in its life: a `ModelVersionStatus.State` and its error, if any."""

    state: int
    error_code: int = error_codes_pb2.OK
    error_message: str = ""


@dataclasses.dataclass(frozen=True)
class PredictResult:
    """What `ModelRegistry.predict` returns.

    Attributes:
        model_spec: `ModelSpec` of the version that answered (name, version, signature_name).
        outputs: dict of output alias -> numpy array.
    """

    model_spec: model_pb2.ModelSpec
    outputs: dict


class _ServedModel:
    """The versions of one model. `available` and `states` are replaced, never mutated."""

    def __init__(self, config):
        self.config = config
        self.available = {}
        self.states = {}
        self.failed = set()

    def set_state(self, version, state, error=None):
        code, message = (error.code, error.message) if error else (error_codes_pb2.OK, "")
        self.states = {**self.states, version: VersionState(state, code, message)}


class Metrics:
    """Request counters and latencies, the stock server's Prometheus metrics.

    `request_count` is keyed by (model_name, status); `request_latency` by
    (model_name, API, entrypoint) and holds (count, sum in microseconds, bucket counts).
    """

    LATENCY_BUCKETS_US = (1e3, 5e3, 1e4, 5e4, 1e5, 5e5, 1e6, 5e6, 3e7)

    def __init__(self):
        self._lock = threading.Lock()
        self.request_count = {}
        self.request_latency = {}

    def record(self, model_name, api, entrypoint, code, latency_us):
        """Counts one request and, if it succeeded, its latency."""
        status = error_codes_pb2.Code.Name(code)
        with self._lock:
            key = (model_name, status)
            self.request_count[key] = self.request_count.get(key, 0) + 1
            if code != error_codes_pb2.OK:
                return
            key = (model_name, api, entrypoint)
            count, total, buckets = self.request_latency.get(
                key, (0, 0.0, (0,) * len(self.LATENCY_BUCKETS_US))
            )
            buckets = tuple(
                n + (latency_us <= bound) for n, bound in zip(buckets, self.LATENCY_BUCKETS_US)
            )
            self.request_latency[key] = (count + 1, total + latency_us, buckets)

    def snapshot(self):
        """Copies of (request_count, request_latency)."""
        with self._lock:
            return dict(self.request_count), dict(self.request_latency)


class ModelRegistry:
    """The models a server serves: versions, labels, polling, and running signatures.

    Args:
        config: `ModelServerConfig` with a `model_config_list` (see `single_model_config` and
            `read_model_config_file`).
        file_system_poll_wait_seconds: float, seconds between polls of the base paths; 0
            polls once at `start()`, a negative value never polls. Defaults to `1`.
        batcher: optional object with `run(loaded_version, signature_name, inputs)` that
            gathers concurrent requests (`tfgan.serving.batching.Batcher`). Defaults to None:
            every request runs on its own.
        max_samples_per_request: int, the largest leading dimension of a batched input and the
            largest scalar `num_samples` input a request may ask for; 0 means no cap.
            Defaults to `0`.

    Raises:
        ValueError: if the config is invalid.
    """

    def __init__(self, config, *, file_system_poll_wait_seconds=1.0, batcher=None,
                 max_samples_per_request=0):
        validate_model_config(config)
        if max_samples_per_request < 0:
            raise ValueError(
                "max_samples_per_request must be >= 0. "
                f"Received: max_samples_per_request={max_samples_per_request}"
            )
        self._models = {m.name: _ServedModel(m) for m in config.model_config_list.config}
        self._labels = {
            m.name: dict(m.version_labels) for m in config.model_config_list.config
        }
        self._poll_wait = file_system_poll_wait_seconds
        self._batcher = batcher
        self._max_samples = max_samples_per_request
        self._poll_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = None
        self.metrics = Metrics()

    @property
    def model_names(self):
        """list of str, the configured model names."""
        return list(self._models)

    # ---- lifecycle ---------------------------------------------------------------------------

    def start(self):
        """Loads what is on disk now, checks version labels, then polls in a background thread.

        Raises:
            ServingError: FAILED_PRECONDITION if a version label names a version that is not
                available, as the stock server refuses to start then.
        """
        self.poll_once()
        self._check_labels()
        if self._poll_wait > 0:
            self._thread = threading.Thread(
                target=self._poll_forever, name="tfgan-serving-poll", daemon=True
            )
            self._thread.start()

    def stop(self):
        """Stops polling (loaded versions stay usable until the registry is dropped)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _poll_forever(self):
        while not self._stop.wait(self._poll_wait):
            try:
                self.poll_once()
            except Exception:  # noqa: BLE001 - a failed poll must not end polling
                _log.exception("polling the model base paths failed")

    def poll_once(self):
        """Scans every base path once: loads new aspired versions, then unloads old ones."""
        with self._poll_lock:
            for model in list(self._models.values()):
                self._sync(model)

    def _sync(self, model):
        config = model.config
        on_disk = list_versions(config.base_path)
        if not on_disk and not model.available:
            _log.warning("no versions of servable %s found under base path %s",
                         config.name, config.base_path)
        aspired = aspired_versions(config.model_version_policy, on_disk)
        model.failed &= set(on_disk)  # a version directory that reappears is tried again
        for version in sorted(aspired - set(model.available) - model.failed):
            model.set_state(version, State.LOADING)
            try:
                loaded = LoadedVersion(
                    config.name, version, os.path.join(config.base_path, str(version))
                )
            except Exception as error:  # noqa: BLE001 - report any failure, keep serving
                if not isinstance(error, ServingError):
                    error = ServingError(error_codes_pb2.UNKNOWN, str(error))
                _log.error("loading %s version %d failed: %s", config.name, version, error)
                model.failed.add(version)
                model.set_state(version, State.END, error)
                continue
            model.available = {**model.available, version: loaded}
            model.set_state(version, State.AVAILABLE)
            _log.info("serving %s version %d", config.name, version)
        # Keep old versions until an aspired one serves (or nothing is aspired any more).
        if not aspired or aspired & set(model.available):
            for version in sorted(set(model.available) - aspired):
                model.set_state(version, State.UNLOADING)
                model.available = {
                    v: loaded for v, loaded in model.available.items() if v != version
                }
                model.set_state(version, State.END)
                _log.info("unloaded %s version %d", config.name, version)

    def _check_labels(self):
        for name, labels in self._labels.items():
            for label, version in labels.items():
                if version not in self._models[name].available:
                    raise ServingError.failed_precondition(
                        f"Request to assign label to version {version} of model {name},"
                        " which is not currently available for inference"
                    )

    def reload_config(self, config):
        """Replaces the served models (`HandleReloadConfigRequest`): adds, updates, removes.

        Args:
            config: `ModelServerConfig`.

        Raises:
            ValueError: if the config is invalid.
            ServingError: FAILED_PRECONDITION if a label names an unavailable version.
        """
        validate_model_config(config)
        with self._poll_lock:
            models = {}
            for model_config in config.model_config_list.config:
                model = self._models.get(model_config.name) or _ServedModel(model_config)
                model.config = model_config
                models[model_config.name] = model
            for name, model in self._models.items():
                if name not in models:
                    for version in sorted(model.available):
                        model.set_state(version, State.END)
            self._models = models
            self._labels = {m.name: dict(m.version_labels) for m in config.model_config_list.config}
        self.poll_once()
        self._check_labels()

    # ---- requests ----------------------------------------------------------------------------

    def resolve(self, model_spec):
        """`GetServableHandle`: the loaded version a `ModelSpec` asks for.

        Args:
            model_spec: `ModelSpec`; no version means the latest available one.

        Returns:
            `LoadedVersion`.

        Raises:
            ServingError: INVALID_ARGUMENT without a name or for an unknown label, NOT_FOUND
                (`Servable not found for request: Latest(name)`) if nothing matches.
        """
        name = model_spec.name
        if not name:
            raise ServingError.invalid_argument("ModelSpec has no name specified.")
        model = self._models.get(name)
        available = model.available if model else {}
        choice = model_spec.WhichOneof("version_choice")
        if choice == "version_label":
            label = model_spec.version_label
            labels = self._labels.get(name, {})
            if label not in labels:
                raise ServingError.invalid_argument(
                    f"Unrecognized servable version label: {label}"
                )
            version, request = labels[label], f"Specific({name}, {labels[label]})"
        elif choice == "version":
            version = model_spec.version.value
            request = f"Specific({name}, {version})"
        else:
            version, request = (max(available) if available else None), f"Latest({name})"
        loaded = available.get(version)
        if loaded is None:
            raise ServingError.not_found(f"Servable not found for request: {request}")
        return loaded

    def model_status(self, model_spec):
        """`GetModelStatus`: the states of all versions, or of `model_spec.version`.

        Args:
            model_spec: `ModelSpec` (a version label is ignored, as in the stock server).

        Returns:
            `GetModelStatusResponse`, versions newest first.

        Raises:
            ServingError: NOT_FOUND if the model or version is not known.
        """
        model = self._models.get(model_spec.name)
        states = model.states if model else {}
        if model_spec.WhichOneof("version_choice") == "version":
            version = model_spec.version.value
            if version not in states:
                raise ServingError.not_found(
                    f"Could not find version {version} of model {model_spec.name}"
                )
            versions = [version]
        else:
            if not states:
                raise ServingError.not_found(
                    f"Could not find any versions of model {model_spec.name}"
                )
            versions = sorted(states, reverse=True)
        response = get_model_status_pb2.GetModelStatusResponse()
        for version in versions:
            state = states[version]
            entry = response.model_version_status.add()
            entry.version = version
            entry.state = state.state
            entry.status.error_code = state.error_code
            entry.status.error_message = state.error_message
        return response

    def model_metadata(self, request):
        """`GetModelMetadata`: the SignatureDefs of the version a request asks for.

        Args:
            request: `GetModelMetadataRequest`; `metadata_field` must be `["signature_def"]`.

        Returns:
            `GetModelMetadataResponse` with the `SignatureDefMap` packed in an `Any`.

        Raises:
            ServingError: INVALID_ARGUMENT for a missing spec or an unsupported field, or what
                `resolve` raises.
        """
        if not request.HasField("model_spec"):
            raise ServingError.invalid_argument("Missing ModelSpec")
        if not request.metadata_field:
            raise ServingError.invalid_argument(
                "GetModelMetadataRequest must specify at least one metadata_field"
            )
        for field in request.metadata_field:
            if field != SIGNATURE_DEF_FIELD:
                raise ServingError.invalid_argument(f"Metadata field {field} is not supported")
        loaded = self.resolve(request.model_spec)
        signature_map = get_model_metadata_pb2.SignatureDefMap()
        for name in sorted(loaded.signature_defs):
            signature_map.signature_def[name].CopyFrom(loaded.signature_defs[name])
        response = get_model_metadata_pb2.GetModelMetadataResponse()
        response.model_spec.name = loaded.name
        response.model_spec.version.value = loaded.version
        response.metadata[SIGNATURE_DEF_FIELD].Pack(signature_map)
        return response

    def signature_input_dtypes(self, model_spec, signature_name):
        """The REST handler's `GetInfoMap`: input alias -> `DataType` of a signature.

        Raises:
            ServingError: INVALID_ARGUMENT for an unknown signature, or what `resolve` raises.
        """
        loaded = self.resolve(model_spec)
        name = signature_name or DEFAULT_SIGNATURE
        signature = loaded.signature_defs.get(name)
        if signature is None:
            raise ServingError.invalid_argument(
                f'Serving signature name: "{name}" not found in signature def'
            )
        return {alias: info.dtype for alias, info in signature.inputs.items()}

    def predict(self, model_spec, inputs, output_filter=()):
        """`Predict`: runs a signature of the version `model_spec` asks for.

        Args:
            model_spec: `ModelSpec`; an empty `signature_name` means `serving_default`.
            inputs: dict of input alias -> numpy array (or scalar) or `TensorProto`.
            output_filter: sequence of str, the outputs to return; empty returns all.

        Returns:
            `PredictResult`.

        Raises:
            ServingError: with the stock server's code and message for an unknown model,
                version or signature, missing, extra or mistyped inputs, a bad output filter,
                a request over `max_samples_per_request`, or an error inside the graph.
        """
        loaded = self.resolve(model_spec)
        name = model_spec.signature_name or DEFAULT_SIGNATURE
        signature = loaded.signature_defs.get(name)
        if signature is None:
            raise ServingError.failed_precondition(f'Serving signature key "{name}" not found.')
        feeds = _input_values(signature, inputs)
        aliases = _output_aliases(signature, output_filter)
        self._check_request_size(signature, feeds)
        if self._batcher is not None:
            outputs = self._batcher.run(loaded, name, feeds)
        else:
            outputs = loaded.run(name, feeds)
        spec = model_pb2.ModelSpec(name=model_spec.name, signature_name=name)
        spec.version.value = loaded.version
        return PredictResult(spec, {alias: outputs[alias] for alias in aliases})

    def _check_request_size(self, signature, feeds):
        cap = self._max_samples
        if not cap:
            return
        for alias, value in feeds.items():
            dims = signature.inputs[alias].tensor_shape.dim
            if value.ndim >= 1 and dims and dims[0].size == -1 and value.shape[0] > cap:
                raise ServingError.invalid_argument(
                    f"Input {alias} has {value.shape[0]} rows, more than this server's"
                    f" max_samples_per_request={cap}"
                )
            if alias == "num_samples" and value.ndim == 0 and int(value) > cap:
                raise ServingError.invalid_argument(
                    f"num_samples={int(value)} is more than this server's"
                    f" max_samples_per_request={cap}"
                )

    def classify_or_regress(self, model_spec, method) -> typing.NoReturn:
        """`Classify` / `Regress`: checks the signature as the stock server does, then refuses.

        The stock server runs tf.Example signatures (inputs `inputs`, outputs `classes` /
        `scores` or `outputs`); this server serves Predict only, so a signature that passes
        these checks is answered UNIMPLEMENTED.

        Args:
            model_spec: `ModelSpec`.
            method: str, `"classify"` or `"regress"`.

        Raises:
            ServingError: always: the stock server's INVALID_ARGUMENT for a signature that is
                not a classification / regression one, else UNIMPLEMENTED.
        """
        loaded = self.resolve(model_spec)
        name = model_spec.signature_name or DEFAULT_SIGNATURE
        signature = loaded.signature_defs.get(name)
        if signature is None:
            raise ServingError.invalid_argument(f"No signature was found with the name: {name}")
        if len(signature.inputs) != 1:
            raise ServingError.invalid_argument("Expected one input Tensor.")
        kind = "classification" if method == "classify" else "regression"
        if method == "classify" and len(signature.outputs) not in (1, 2):
            raise ServingError.invalid_argument(
                f"Expected one or two output Tensors, found {len(signature.outputs)}"
            )
        if method == "regress" and len(signature.outputs) != 1:
            raise ServingError.invalid_argument("Expected one output Tensor.")
        if "inputs" not in signature.inputs:
            raise ServingError.invalid_argument(
                f"No {kind} inputs found in SignatureDef: "
                + text_format.MessageToString(signature)
            )
        if method == "classify" and not {"classes", "scores"} & set(signature.outputs):
            raise ServingError.invalid_argument(
                'Expected classification signature outputs to contain at least one of "classes"'
                ' or "scores". Signature was: ' + text_format.MessageToString(signature)
            )
        if method == "regress" and "outputs" not in signature.outputs:
            raise ServingError.invalid_argument(
                "No regression outputs found in SignatureDef: "
                + text_format.MessageToString(signature)
            )
        raise ServingError.unimplemented(
            f"{method.capitalize()} is not supported by this server; call signature {name}"
            " through Predict."
        )


def _as_array(alias, value):
    if not isinstance(value, tensor_pb2.TensorProto):
        return np.asarray(value)
    try:
        return tf.make_ndarray(value)
    except (TypeError, ValueError):
        raise ServingError.invalid_argument(f"tensor parsing error: {alias}") from None


def _input_values(signature, inputs):
    """`VerifyRequestInputsSize` + `GetInputValues`: the feeds, in the stock server's order."""
    request_names, signature_names = sorted(inputs), sorted(signature.inputs)
    if len(inputs) > len(signature.inputs) or (
        len(inputs) < len(signature.inputs) and not signature.defaults
    ):
        extra = sorted(set(request_names) - set(signature_names))
        missing = sorted(set(signature_names) - set(request_names))
        raise ServingError.invalid_argument(
            f"input size does not match signature: {len(inputs)}!={len(signature.inputs)}"
            f" len({{{','.join(request_names)}}}) != len({{{','.join(signature_names)}}})."
            f" Sent extra: {{{','.join(extra)}}}. Missing but required:"
            f" {{{','.join(missing)}}}."
        )
    feeds = {}
    for index, alias in enumerate(signature_names):
        info = signature.inputs[alias]
        if alias in inputs:
            value = _as_array(alias, inputs[alias])
        elif alias in signature.defaults:
            value = _as_array(alias, signature.defaults[alias])
        else:
            raise ServingError.invalid_argument(
                f"Signature input alias: {alias}(feed name: {info.name}) not found in request"
                " and no default value provided. Inputs expected to be in the request"
                f" {{{','.join(request_names)}}}, or default input alias set: "
                + ",".join(sorted(signature.defaults))
            )
        if datatype_of(value) != info.dtype:
            raise ServingError.invalid_argument(
                f"Expects arg[{index}] to be {dtype_name(info.dtype)} but"
                f" {dtype_name(datatype_of(value))} is provided"
            )
        if value.dtype.kind in "SU":
            value = np.vectorize(
                lambda v: v if isinstance(v, bytes) else str(v).encode(), otypes=[object]
            )(value)
        feeds[alias] = value
    used = [name for name in request_names if name in signature.inputs]
    if inputs and len(used) != len(inputs):
        raise ServingError.invalid_argument(
            f"Inputs contains invalid name. Used request inputs: {','.join(used)},"
            f" request input: {','.join(request_names)}"
        )
    return feeds


def _output_aliases(signature, output_filter):
    """`PreProcessPrediction`'s output checks: the aliases to return."""
    aliases = []
    for alias in output_filter:
        if alias not in signature.outputs:
            raise ServingError.invalid_argument(
                f"output tensor alias not found in signature: {alias} Outputs expected to be"
                f" in the set {{{','.join(sorted(signature.outputs))}}}."
            )
        if alias in aliases:
            raise ServingError.invalid_argument(f"duplicate output tensor alias: {alias}")
        aliases.append(alias)
    return aliases or sorted(signature.outputs)


def monotonic_us():
    """Microseconds from a monotonic clock, for request latencies."""
    return time.monotonic_ns() // 1000
