"""The model registry behind the REST and gRPC APIs, as TF Serving's `ServerCore`.

`ModelRegistry` polls each model's `<base_path>/<version>/`, loads (and warms up) the versions
its policy wants, then unloads the others. Requests see a complete set of versions: the set is
a dict replaced in one assignment, and a version stays until a newer one is available. A
version that fails to load is reported in the status (END with its error) and retried as the
stock server retries it; the newest ones that load serve instead. A reload replaces the whole
set of models or nothing. Errors are `ServingError`s with the stock server's codes and messages.
"""

import dataclasses
import logging
import os
import threading
import time

from tensorflow.core.protobuf import error_codes_pb2
from tensorflow_serving.apis import (
    get_model_metadata_pb2,
    get_model_status_pb2,
    inference_pb2,
    model_pb2,
)

from tfgan.serving import inference
from tfgan.serving.configs import check_inside, validate_model_config
from tfgan.serving.errors import ServingError
from tfgan.serving.metrics import Metrics
from tfgan.serving.protocol import DEFAULT_SIGNATURE, SIGNATURE_DEF_FIELD
from tfgan.serving.signatures import check_num_samples, input_values, output_aliases
from tfgan.serving.versions import LoadedVersion, aspired_versions, list_versions

State = get_model_status_pb2.ModelVersionStatus.State

_log = logging.getLogger("tfgan.serving")


@dataclasses.dataclass(frozen=True)
class PredictResult:
    """What `ModelRegistry.predict` returns: the `ModelSpec` that answered (name, version,
    signature_name) and a dict of output alias -> numpy array."""

    model_spec: model_pb2.ModelSpec
    outputs: dict


class _ServedModel:
    """The versions of one model: `available` (version -> `LoadedVersion`) and `states`
    (version -> `ModelVersionStatus`) are replaced, never mutated."""

    def __init__(self, config):
        self.config = config
        self.available = {}
        self.states = {}
        self.failed = {}  # version -> (failed loads so far, clock time of the next try)

    def set_state(self, version, state, error=None):
        status = {"error_code": error.code, "error_message": error.message} if error else {}
        self.states = {**self.states, version: get_model_status_pb2.ModelVersionStatus(
            version=version, state=state, status=status)}


class ModelRegistry:
    """The models a server serves: versions, labels, polling, and running signatures.

    Args:
        config: `ModelServerConfig` with a `model_config_list`.
        file_system_poll_wait_seconds, max_samples_per_request, max_num_load_retries,
            load_retry_interval_micros, allow_version_labels_for_unavailable_models,
            saved_model_tags: as the `ServerOptions` fields (the flags) of those names, except
            that a negative poll period never polls, and 0 caps nothing.
        batcher: `batching.Batcher` or None (each request runs on its own).
        warmup_iterations: int, times each warm-up request is replayed; 0 skips warm-up.
        allowed_roots: tuple of str, directories base paths and version directories must
            lie in, symlinks resolved; empty allows any.
        on_available: callable or None, called (from the loading thread) whenever a version
            becomes available.
        clock: callable returning seconds, for the retry interval.

    Raises:
        ValueError: if the config is invalid.
    """

    def __init__(self, config, *, file_system_poll_wait_seconds=1.0, batcher=None,
                 max_samples_per_request=0, max_num_load_retries=5,
                 load_retry_interval_micros=60_000_000,
                 allow_version_labels_for_unavailable_models=False, warmup_iterations=1,
                 saved_model_tags=("serve",), allowed_roots=(), on_available=None,
                 clock=time.monotonic):
        self.allowed_roots = tuple(allowed_roots)
        self._check_config(config)
        for name, value in (("max_samples_per_request", max_samples_per_request),
                            ("max_num_load_retries", max_num_load_retries),
                            ("load_retry_interval_micros", load_retry_interval_micros)):
            if value < 0:
                raise ValueError(f"{name} must be >= 0. Received: {name}={value}")
        self._models = {m.name: _ServedModel(m) for m in config.model_config_list.config}
        self._poll_wait = file_system_poll_wait_seconds
        self._batcher = batcher
        self._max_samples = max_samples_per_request
        self._max_retries = max_num_load_retries
        self._retry_interval = load_retry_interval_micros / 1e6
        self._clock = clock
        self._labels_for_unavailable = allow_version_labels_for_unavailable_models
        self._warmup = warmup_iterations
        self._tags = tuple(saved_model_tags)
        self._on_available = on_available or (lambda: None)
        self._poll_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = None
        self.metrics = Metrics(known_model=lambda name: name in self._models)

    @property
    def model_names(self):
        """list of str, the configured model names."""
        return list(self._models)

    # ---- lifecycle ---------------------------------------------------------------------------

    def start(self):
        """Loads what is on disk now, checks version labels (FAILED_PRECONDITION for a label
        of an unavailable version, as the stock server), then polls in a background thread."""
        self.poll_once()
        self._check_labels(self._models)
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
        """Loads the versions `model`'s policy wants (a failed one gives way to the newest
        that load), unloads the rest, and forgets versions whose directory left the disk."""
        config = model.config
        on_disk = list_versions(config.base_path)
        if not on_disk and not model.available:
            _log.warning("no versions of servable %s found under base path %s",
                         config.name, config.base_path)
        # A version directory that disappears is forgotten: if it comes back, it is new.
        model.failed = {v: f for v, f in model.failed.items() if v in on_disk}
        tried = set()
        while True:
            wanted = aspired_versions(config.model_version_policy,
                                      [v for v in on_disk if v not in model.failed])
            if not tried:  # failed versions are retried too, at their interval
                wanted |= aspired_versions(config.model_version_policy, on_disk)
            to_load = sorted(wanted - set(model.available) - tried, reverse=True)
            if not to_load:
                break
            now = self._clock()
            for version in to_load:
                tried.add(version)
                failures, next_try = model.failed.get(version, (0, now))
                if failures <= self._max_retries and now >= next_try:
                    self._load(model, version,
                               os.path.join(config.base_path, on_disk[version]), failures)
        serving = aspired_versions(config.model_version_policy,
                                   [v for v in on_disk if v not in model.failed])
        # Keep old versions until a wanted one serves (or nothing is wanted any more).
        if not serving or serving & set(model.available):
            for version in sorted(set(model.available) - serving):
                model.set_state(version, State.UNLOADING)
                model.available = {
                    v: loaded for v, loaded in model.available.items() if v != version
                }
                model.set_state(version, State.END)
                _log.info("unloaded %s version %d", config.name, version)
        model.states = {v: state for v, state in model.states.items()
                        if v in on_disk or v in model.available}

    def _load(self, model, version, path, failures):
        """Loads and warms up one version. A failure is END with its error in the status and
        is tried again by later polls (`--max_num_load_retries` times, at most once per
        `--load_retry_interval_micros`); the poll does not wait in between."""
        name = model.config.name
        model.set_state(version, State.LOADING)
        try:
            check_inside(path, self.allowed_roots, "version directory")
            loaded = LoadedVersion(name, version, path, warmup=self._warmup, tags=self._tags)
        except Exception as error:  # noqa: BLE001 - report any failure, keep serving
            if not isinstance(error, ServingError):
                error = ServingError(error_codes_pb2.UNKNOWN, str(error))
            self._load_failed(model, version, failures, error)
            return
        model.failed = {v: f for v, f in model.failed.items() if v != version}
        model.available = {**model.available, version: loaded}
        model.set_state(version, State.AVAILABLE)
        _log.info("serving %s version %d from %s", name, version, path)
        self._on_available()

    def _load_failed(self, model, version, failures, error):
        failures += 1
        _log.error("loading %s version %d failed (%d retries left): %s", model.config.name,
                   version, max(self._max_retries - failures + 1, 0), error)
        model.failed = {**model.failed, version: (failures, self._clock() + self._retry_interval)}
        model.set_state(version, State.END, error)

    def failed_models(self):
        """`name: error` of each model with no version available and a version that failed."""
        return [f"{name}: {model.states[max(model.failed)].status.error_message}"
                for name, model in self._models.items()
                if model.failed and not model.available]

    def _check_labels(self, models):
        if self._labels_for_unavailable:
            return
        for name, model in models.items():
            for version in model.config.version_labels.values():
                if version not in model.available:
                    raise ServingError.failed_precondition(
                        f"Request to assign label to version {version} of model {name},"
                        " which is not currently available for inference"
                    )

    def _check_config(self, config):
        validate_model_config(config)
        for model in config.model_config_list.config:
            check_inside(model.base_path, self.allowed_roots,
                         f"the base_path of model {model.name}")

    def reload_config(self, config):
        """Replaces the served models (`HandleReloadConfigRequest`), all or nothing: the new
        set is loaded beside the served one and swapped in whole, or nothing changes.

        Raises:
            ValueError: if the config is invalid.
            ServingError: FAILED_PRECONDITION if a label names an unavailable version,
                PERMISSION_DENIED for a base path outside the allowed roots.
        """
        self._check_config(config)
        with self._poll_lock:
            models = {}
            for model_config in config.model_config_list.config:
                model = _ServedModel(model_config)
                old = self._models.get(model_config.name)
                if old is not None:
                    model.available, model.states, model.failed = (
                        old.available, old.states, old.failed)
                self._sync(model)
                models[model_config.name] = model
            self._check_labels(models)
            self._models = models

    # ---- requests ----------------------------------------------------------------------------

    def resolve(self, model_spec):
        """`GetServableHandle`: the `LoadedVersion` a `ModelSpec` asks for (no version: the
        latest); INVALID_ARGUMENT without a name or for an unknown label, else NOT_FOUND."""
        if not model_spec.name:
            raise ServingError.invalid_argument("ModelSpec has no name specified.")
        model = self._models.get(model_spec.name)
        name = shown(model_spec.name)
        available = model.available if model else {}
        choice = model_spec.WhichOneof("version_choice")
        if choice == "version_label":
            label = model_spec.version_label
            labels = model.config.version_labels if model else {}
            if label not in labels:
                raise ServingError.invalid_argument(
                    f"Unrecognized servable version label: {shown(label)}"
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
        """`GetModelStatus`: the states of all versions (newest first) or of
        `model_spec.version` (a label is ignored, as in the stock server); NOT_FOUND if the
        model or version is not known."""
        model = self._models.get(model_spec.name)
        states = model.states if model else {}
        if model_spec.WhichOneof("version_choice") == "version":
            version = model_spec.version.value
            if version not in states:
                raise ServingError.not_found(
                    f"Could not find version {version} of model {shown(model_spec.name)}"
                )
            versions = [version]
        else:
            if not states:
                raise ServingError.not_found(
                    f"Could not find any versions of model {shown(model_spec.name)}"
                )
            versions = sorted(states, reverse=True)
        return get_model_status_pb2.GetModelStatusResponse(
            model_version_status=[states[version] for version in versions])

    def model_metadata(self, request):
        """`GetModelMetadata`: the `SignatureDefMap` (packed in an `Any`) of the version a
        request asks for; `metadata_field` must be `["signature_def"]`."""
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
        """The REST handler's `GetInfoMap`: input alias -> `DataType` of a signature."""
        loaded = self.resolve(model_spec)
        name = signature_name or DEFAULT_SIGNATURE
        signature = loaded.signature_defs.get(name)
        if signature is None:
            raise ServingError.invalid_argument(
                f'Serving signature name: "{name}" not found in signature def'
            )
        return {alias: info.dtype for alias, info in signature.inputs.items()}

    def predict(self, model_spec, inputs, output_filter=(), deadline=None):
        """`Predict`: runs a signature of the version `model_spec` asks for.

        Args:
            model_spec: `ModelSpec`; an empty `signature_name` means `serving_default`.
            inputs: dict of input alias -> numpy array (or scalar) or `TensorProto`.
            output_filter: sequence of str, the outputs to return; empty returns all.
            deadline: float or None, the `time.monotonic()` time after which the caller has
                given up: work not started by then is not run (work running finishes).

        Returns:
            `PredictResult`.
        """
        loaded = self.resolve(model_spec)
        name = model_spec.signature_name or DEFAULT_SIGNATURE
        signature = loaded.signature_defs.get(name)
        if signature is None:
            raise ServingError.failed_precondition(f'Serving signature key "{name}" not found.')
        feeds = input_values(signature, inputs, self._max_samples)
        aliases = output_aliases(signature, output_filter)
        check_num_samples(feeds, self._max_samples)
        if self._batcher is not None:
            outputs = self._batcher.run(loaded, name, feeds, deadline)
        else:
            if deadline is not None and time.monotonic() >= deadline:
                raise ServingError.deadline_exceeded(
                    "Deadline exceeded before the request was run")
            outputs = loaded.run(name, feeds)
        return PredictResult(_answering_spec(loaded, name),
                             {alias: outputs[alias] for alias in aliases})

    def classify_or_regress(self, model_spec, method, examples, context=None,
                            deadline=None):
        """`Classify` / `Regress` (`method`): runs a tf.Example signature on `examples`
        (`context` merged under each) as the stock server does.

        Returns:
            (`ModelSpec` of the version that answered, `ClassificationResult` or
            `RegressionResult`).
        """
        loaded = self.resolve(model_spec)
        name = model_spec.signature_name or DEFAULT_SIGNATURE
        signature = loaded.signature_defs.get(name)
        if signature is None:
            raise ServingError.invalid_argument(f"No signature was found with the name: {name}")
        inference.check_example_signature(signature, method)
        serialized = inference.serialized_examples(examples, context)
        return self._run_example_signature(loaded, name, method, serialized, deadline)

    def multi_inference(self, request, deadline=None):
        """`MultiInference`: classify / regress tasks on one input, as the stock server: on
        the version the first task names, every task checked before any runs, one
        `InferenceResult` per task in task order."""
        tasks = request.tasks
        loaded = self.resolve(tasks[0].model_spec if tasks else model_pb2.ModelSpec())
        checked = inference.checked_tasks(tasks, loaded.signature_defs)
        serialized = inference.serialized_examples(*inference.examples_of(request.input))
        response = inference_pb2.MultiInferenceResponse()
        for name, method in checked:
            spec, result = self._run_example_signature(loaded, name, method, serialized, deadline)
            answer = response.results.add()
            answer.model_spec.CopyFrom(spec)
            if method == "classify":
                answer.classification_result.CopyFrom(result)
            else:
                answer.regression_result.CopyFrom(result)
        return response

    def _run_example_signature(self, loaded, signature_name, method, serialized, deadline):
        """Runs a checked tf.Example signature of `loaded` on `serialized` examples."""
        spec = _answering_spec(loaded, signature_name)
        outputs = self.predict(spec, {"inputs": serialized}, deadline=deadline).outputs
        if method == "classify":
            return spec, inference.classification_result(outputs, len(serialized))
        return spec, inference.regression_result(outputs, len(serialized))


def _answering_spec(loaded, signature_name):
    """The `ModelSpec` of an answer: the version and signature that ran."""
    spec = model_pb2.ModelSpec(name=loaded.name, signature_name=signature_name)
    spec.version.value = loaded.version
    return spec


MAX_SHOWN_NAME = 256  # a name echoed whole could overflow a gRPC client's metadata limit


def shown(name):
    """`name` as error messages show it: cut to `MAX_SHOWN_NAME` characters."""
    if len(name) <= MAX_SHOWN_NAME:
        return name
    return f"{name[:MAX_SHOWN_NAME]}... ({len(name)} characters)"
