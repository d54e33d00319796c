"""Versions on disk and loaded: TF Serving's file-system source and SavedModel loader.

A version directory is parsed as the stock server parses it (`00000123` is version 123);
a `LoadedVersion` runs signatures as concrete functions from `tf.saved_model.load`, else (TF1-era
graphs) in a session from TensorFlow's v1 loader, and is warmed up before it serves.
"""

import json
import logging
import os
import re

import numpy as np
import tensorflow as tf
from google.protobuf.message import DecodeError
from tensorflow.core.protobuf import error_codes_pb2, saved_model_pb2

from tfgan.serving.errors import ServingError

_log = logging.getLogger("tfgan.serving")
_VERSION_DIR = re.compile(r"[0-9]+")

def aspired_versions(policy, on_disk):
    """The set of versions among `on_disk` that a `ServableVersionPolicy` wants served
    (unset: `latest { num_versions: 1 }`)."""
    on_disk = sorted(set(on_disk))
    choice = policy.WhichOneof("policy_choice")
    if choice == "all":
        return set(on_disk)
    if choice == "specific":
        return set(policy.specific.versions) & set(on_disk)
    count = max(1, policy.latest.num_versions) if choice == "latest" else 1
    return set(on_disk[-count:])


def list_versions(base_path):
    """The version directories under `base_path` as the stock server finds them: version
    -> directory name. A name of digits only is a version (`00000123` is 123, as TF Serving's
    test data pads them) up to int64; of two names of one version the first serves."""
    try:
        names = sorted(os.listdir(base_path))
    except OSError:
        return {}
    found = {}
    for name in names:
        if not _VERSION_DIR.fullmatch(name) or not os.path.isdir(os.path.join(base_path, name)):
            continue
        version = int(name)
        if version >= 2**63:
            continue
        if version in found:
            _log.warning("version %d of %s is in both %s and %s; serving %s", version,
                         base_path, found[version], name, found[version])
            continue
        found[version] = name
    return found


def read_signature_defs(path, tags=("serve",)):
    """The SignatureDefs (by name) of the MetaGraph tagged exactly `tags` in
    `<path>/saved_model.pb`; NOT_FOUND without the file or such a MetaGraph."""
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
        if set(meta_graph.meta_info_def.tags) == set(tags):
            return dict(meta_graph.signature_def)
    raise ServingError.not_found(
        f"Could not find meta graph def matching supplied tags: {{ {' '.join(tags)} }}. To"
        " inspect available tag-sets in the SavedModel, please use the SavedModel CLI:"
        " `saved_model_cli`"
    )


WARMUP_FILE = os.path.join("assets.extra", "tf_serving_warmup_requests")
TFGAN_METADATA_FILE = os.path.join("assets.extra", "tfgan.json")  # tfgan.export writes it
MAX_TFGAN_METADATA_BYTES = 1 << 20


def read_class_names(path):
    """The class names a tfgan export of a conditional GAN records in
    `assets.extra/tfgan.json`, or None (any other SavedModel)."""
    try:
        with open(os.path.join(path, TFGAN_METADATA_FILE), "rb") as f:
            metadata = json.loads(f.read(MAX_TFGAN_METADATA_BYTES + 1))
    except (OSError, ValueError):
        return None
    names = metadata.get("class_names") if isinstance(metadata, dict) else None
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        return None
    return names


MAX_WARMUP_RECORDS = 1000  # as the stock server's limit on warm-up records


class SessionSignatures:
    """A SavedModel loaded by TensorFlow's v1 session loader, the stock server's own path,
    for what `tf.saved_model.load` cannot load (old producers, reference variables, legacy
    init ops); signatures run by their tensor names."""

    def __init__(self, path, tags, signature_defs):
        self._signature_defs = signature_defs
        self._session = tf.compat.v1.Session(graph=tf.Graph())
        with self._session.graph.as_default():
            tf.compat.v1.saved_model.loader.load(self._session, list(tags), path)

    def __contains__(self, signature_name):
        return signature_name in self._signature_defs

    def run(self, signature_name, inputs):
        """Runs a signature on numpy `inputs`; returns its outputs as numpy arrays."""
        signature = self._signature_defs[signature_name]
        return self._session.run(
            {alias: info.name for alias, info in signature.outputs.items()},
            feed_dict={signature.inputs[alias].name: value for alias, value in inputs.items()})


class FunctionSignatures:
    """A SavedModel loaded by `tf.saved_model.load` (`loaded`); signatures run as concrete
    functions."""

    def __init__(self, path, tags):
        self.loaded = tf.saved_model.load(path, tags=list(tags))
        self._functions = dict(self.loaded.signatures)

    def __contains__(self, signature_name):
        return signature_name in self._functions

    def run(self, signature_name, inputs):
        """Runs a signature on numpy `inputs`; returns its outputs as numpy arrays."""
        outputs = self._functions[signature_name](
            **{alias: tf.constant(value) for alias, value in inputs.items()})
        return {alias: tensor.numpy() for alias, tensor in outputs.items()}


class LoadedVersion:
    """One loaded version of a SavedModel: its SignatureDefs and callable signatures, loaded
    with `tf.saved_model.load`, else (TF1-era graphs) TensorFlow's v1 session loader, and
    warmed up `warmup` times (`warm_up`; 0 skips it). ServingError if it does not load."""

    def __init__(self, name, version, path, warmup=1, tags=("serve",)):
        self.name = name
        self.version = version
        self.path = path
        self.signature_defs = read_signature_defs(path, tags)
        self.class_names = read_class_names(path)
        try:
            self._signatures = FunctionSignatures(path, tags)
        except Exception as error:  # noqa: BLE001 - any TF2 failure: try the v1 loader
            _log.info("%s version %d: tf.saved_model.load failed (%s); loading it with the "
                      "v1 session loader", name, version, " ".join(str(error).split())[:300])
            try:
                self._signatures = SessionSignatures(path, tags, self.signature_defs)
            except tf.errors.OpError as v1_error:
                raise ServingError.from_tf_error(v1_error) from None
            except (ValueError, OSError, KeyError, RuntimeError) as v1_error:
                raise ServingError.internal(
                    f"Failed to load SavedModel at {path}: {v1_error}") from None
        for _ in range(warmup):
            self.warm_up()

    def run(self, signature_name, inputs):
        """Runs one signature on numpy `inputs` (by alias): numpy outputs by alias, or a
        ServingError with the code of the TensorFlow error the graph raised."""
        if signature_name not in self._signatures:
            raise ServingError.failed_precondition(
                f'Serving signature key "{signature_name}" has no function to run.'
            )
        try:
            return self._signatures.run(signature_name, inputs)
        except tf.errors.OpError as error:
            raise ServingError.from_tf_error(error) from None
        except (TypeError, ValueError) as error:
            raise ServingError.invalid_argument(str(error)) from None

    def warm_up(self):
        """Runs each signature once before the version serves; returns the calls made.

        A loaded function is instantiated by its first call: sixty-four concurrent first
        requests each paid that and held the server at a few requests per second for half a
        minute. The requests are the records of `assets.extra/tf_serving_warmup_requests`
        (PredictRequests in PredictionLogs, as the stock server replays them), else, for
        functions (not a v1 session, whose signatures may change state), one small request
        per signature made from its SignatureDef. A failed call is logged and ignored.
        """
        requests = read_warmup_requests(self.path)
        if requests is None and isinstance(self._signatures, SessionSignatures):
            requests = []
        if requests is None:
            requests = [
                (name, inputs) for name in sorted(self.signature_defs)
                if name in self._signatures
                and (inputs := _example_inputs(self.signature_defs[name])) is not None
            ]
        calls = 0
        for signature_name, inputs in requests:
            try:
                self.run(signature_name or "serving_default", {
                    alias: tf.make_ndarray(value) if hasattr(value, "tensor_shape") else value
                    for alias, value in inputs.items()
                })
                calls += 1
            except Exception as error:  # noqa: BLE001 - warm-up must not stop a load
                _log.info("warm-up of %s version %d, signature %s: %s", self.name,
                          self.version, signature_name, error)
        return calls


def read_warmup_requests(path):
    """The predict requests (signature name, alias -> `TensorProto`) of the TFRecord of
    `PredictionLog`s `<path>/assets.extra/tf_serving_warmup_requests`, or None without it
    (other log kinds are skipped, as TF Serving's warm-up skips them)."""
    from tensorflow_serving.apis import prediction_log_pb2  # noqa: PLC0415

    file = os.path.join(path, WARMUP_FILE)
    if not os.path.exists(file):
        return None
    requests = []
    try:
        for record in tf.data.TFRecordDataset(file).take(MAX_WARMUP_RECORDS):
            log = prediction_log_pb2.PredictionLog.FromString(record.numpy())
            if log.WhichOneof("log_type") == "predict_log":
                request = log.predict_log.request
                requests.append((request.model_spec.signature_name, dict(request.inputs)))
    except (tf.errors.OpError, DecodeError) as error:
        _log.warning("cannot read warm-up requests %s: %s", file, error)
    return requests


def _example_inputs(signature):
    """One small request for a signature (a row of zeros for each batched input, 1 for a
    scalar), or None if one cannot be made from its shapes."""
    inputs = {}
    for alias, info in signature.inputs.items():
        dims = [dim.size for dim in info.tensor_shape.dim]
        if info.tensor_shape.unknown_rank or any(size < -1 for size in dims):
            return None
        try:
            dtype = tf.dtypes.as_dtype(info.dtype)
        except TypeError:
            return None
        if dtype == tf.string or not (dtype.is_floating or dtype.is_integer or dtype.is_bool):
            return None
        shape = [1 if size == -1 else size for size in dims]
        inputs[alias] = np.ones(shape, dtype.as_numpy_dtype) if not shape else np.zeros(
            shape, dtype.as_numpy_dtype)
    return inputs
