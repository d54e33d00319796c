"""The stock server's config files: `ModelServerConfig`, `BatchingParameters`, `MonitoringConfig`.

Text protos read exactly as `tensorflow_model_server` reads them (`--model_config_file`,
`--batching_parameters_file`, `--monitoring_config_file`), and the one-model config that
`--model_name` / `--model_base_path` stand for.
"""

import os

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, text_format
from google.protobuf import wrappers_pb2
from tensorflow.core.protobuf import error_codes_pb2 as codes
from tensorflow_serving.config import model_server_config_pb2

from tfgan.serving.errors import ServingError

DEFAULT_PROMETHEUS_PATH = "/monitoring/prometheus/metrics"

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
    """Fills the empty proto `message` from a text-format file, as the stock server reads its
    configs; ValueError (in the stock words) if it cannot be read or parsed."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"cannot read {message.DESCRIPTOR.name} from {path}: {error}") from None
    try:
        return text_format.Parse(text, message)
    except text_format.ParseError as error:  # the stock server's words
        raise ValueError(f"Error parsing text-format {message.DESCRIPTOR.full_name}: {error} "
                         f"(in {path})") from None


def read_model_config_file(path, roots=()):
    """The validated `ModelServerConfig` of a text proto (`--model_config_file`); ValueError
    if it does not read, parse or validate, PERMISSION_DENIED (checked before reading) if it
    lies outside `roots` (symlinks resolved; empty allows any)."""
    check_inside(path, roots, "--model_config_file")
    config = read_text_proto(path, model_server_config_pb2.ModelServerConfig())
    validate_model_config(config)
    return config


def read_monitoring_config(path):
    """The Prometheus path a `MonitoringConfig` text proto (`--monitoring_config_file`)
    enables, or None; ValueError if it does not read or parse, or the path is not absolute."""
    config = read_text_proto(path, MonitoringConfig()).prometheus_config
    if not config.enable:
        return None
    metrics_path = config.path or DEFAULT_PROMETHEUS_PATH
    if not metrics_path.startswith("/"):
        raise ValueError(f"the Prometheus path must start with '/'. Received: path={metrics_path}")
    return metrics_path


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


def startup_roots(config, config_file=None):
    """The directories a server started with `config` (read from `config_file`) may serve from.

    The directory holding each model's base path (`/models` for `/models/mnist`, as the
    stock image lays models out) and the config file's directory, symlinks resolved: the
    default of `--allowed_model_roots`.
    """
    roots = [os.path.dirname(os.path.abspath(model.base_path))
             for model in config.model_config_list.config]
    if config_file:
        roots.append(os.path.dirname(os.path.abspath(config_file)))
    return tuple(sorted({os.path.realpath(root) for root in roots}))


def check_inside(path, roots, what):
    """PERMISSION_DENIED unless `path` (`what` it is, for the message), symlinks resolved,
    lies in one of `roots`; empty `roots` allow every path."""
    if not roots:
        return
    real = os.path.realpath(path)
    if not any(os.path.commonpath([real, os.path.realpath(root)]) == os.path.realpath(root)
               for root in roots):
        raise ServingError(codes.PERMISSION_DENIED, (
            f"{what} {path} (resolved: {real}) is outside the directories this server may "
            f"serve from ({', '.join(roots)}); see --allowed_model_roots"))
