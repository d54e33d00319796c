"""Serves SavedModels over TF Serving's REST and gRPC APIs: `tfgan-serve`.

Takes every flag of tensorflow_model_server, so one command line works with either server:

    tfgan-serve --model_name=mnist --model_base_path=$PWD/export/mnist
    tfgan-serve --model_config_file=serving/models.config --enable_batching \\
        --batching_parameters_file=serving/batching.config

Prints one line with the URLs once a model is available; a start where a model's versions
are all on disk and none loads fails with one line naming each such model. Stops gracefully
on Ctrl-C or SIGTERM. A model base path that does not exist is refused at start (exit status
2), where the stock server would wait for it. Flags live in their own `FlagValues`, so this
module can be imported next to other tools that define `--model_name`.

Differences from tensorflow_model_server's flags, and why:
  --rest_api_port defaults to 8501 (stock: 0, REST off): REST is what tfgan's docs and
      browsers use; --rest_api_port=0 turns it off as in the stock server.
  --port=0 turns gRPC off (stock: refuses to start); it needs one of the two ports.
  --host defaults to 127.0.0.1 (stock: every interface): a development server should not be
      reachable from the network by accident; --host=0.0.0.0 is the stock behaviour.
  --max_samples_per_request defaults to 1024 (stock: no such cap): one REST answer of 1024
      MNIST samples is ~70 MB of JSON; a larger request could take the memory of the host.
      0 removes the cap.
  --max_request_bytes caps REST bodies and gRPC requests at 64 MiB (stock: 2 GiB gRPC).
  --allow_reload_config_requests is off (stock: HandleReloadConfigRequest always answers):
      whoever reaches the gRPC port could load a SavedModel, which runs its ops, from any
      path. --allowed_model_roots confines model and config paths (default: the directories
      given at start-up; symlinks out of them are refused).
  --rest_api_processes answers REST from several processes on the one port (stock: one
      process, whose C++ threads run at once); each loads the models.
  --rest_* and --grpc_* limits and timeouts (connections, headers, bodies, idle) are this
      server's own, with safe defaults; the stock server has none of them.
Stock flags with no meaning here (TFLite, TPU, GPU memory, XLA, ...) are accepted and each
logs one line saying why it has no effect; --ssl_config_file and --use_alts_credentials are
refused (exit 2) rather than serve in plain text what was asked to be encrypted.
"""

import logging
import os

import tensorflow as tf
from absl import flags

import tfgan
from tfgan.cli.errors import FAILURE, USAGE, fail
from tfgan.cli.flags import config_from_flags, define_flags, run_tool
from tfgan.serving import ServerOptions, ServingError, run_server

_log = logging.getLogger("tfgan.serving")

FLAGS = flags.FlagValues()
define_flags(ServerOptions, FLAGS)
flags.DEFINE_bool("version", False, "Print the version and exit, as the stock server.",
                  flag_values=FLAGS)

# Stock flags that mean nothing here: flag -> (stock default, why it has no effect).
NO_EFFECT = {
    "enable_per_model_batching_parameters": (False, "batching is configured for the server "
                                             "only (--batching_parameters_file)"),
    "num_load_threads": (0, "versions load one at a time on the polling thread"),
    "num_unload_threads": (0, "unloading drops a reference; no threads needed"),
    "flush_filesystem_caches": (True, "Python has no file-system caches to flush"),
    "tensorflow_session_config_file": ("", "there is no session to configure beyond the "
                                       "--tensorflow_*_parallelism flags"),
    "platform_config_file": ("", "only the TensorFlow platform is served"),
    "per_process_gpu_memory_fraction": (0.0, "GPU memory follows TensorFlow's defaults "
                                        "(TF_FORCE_GPU_ALLOW_GROWTH sets growth)"),
    "remove_unused_fields_from_bundle_metagraph": (True, "only SignatureDefs are kept"),
    "prefer_tflite_model": (False, "TFLite models are not served"),
    "num_tflite_pools": (0, "TFLite models are not served"),
    "num_tflite_interpreters_per_pool": (1, "TFLite models are not served"),
    "enable_signature_method_name_check": (False, "signatures are run by their inputs and "
                                           "outputs, whatever their method name"),
    "xla_cpu_compilation_enabled": (False, "functions run as saved; tfgan exports carry no "
                                    "XLA attributes"),
    "xla_gpu_compilation_enabled": (False, "functions run as saved; tfgan exports carry no "
                                    "XLA attributes"),
    "enable_profiler": (True, "there is no profiler service; use TensorFlow's profiler"),
    "thread_pool_factory_config_file": ("", "requests run on --rest_api_num_threads / "
                                        "--grpc_max_threads threads"),
    "mixed_precision": ("", "models run in the precision they were saved in"),
    "skip_initialize_tpu": (False, "TPUs are not used"),
    "enable_grpc_healthcheck_service": (False, "use GetModelStatus or GET /v1/models/<name>"),
    "use_alts_credentials": (False, "ALTS is not available; refused, not served in plain "
                             "text"),
    "ssl_config_file": ("", "TLS is not implemented; refused, not served in plain text"),
}
REFUSED = ("use_alts_credentials", "ssl_config_file")
for _name, (_default, _why) in NO_EFFECT.items():
    {bool: flags.DEFINE_bool, int: flags.DEFINE_integer, float: flags.DEFINE_float,
     str: flags.DEFINE_string}[type(_default)](
        _name, _default, f"Stock flag; no effect here: {_why}.", flag_values=FLAGS)

GROUPS = {
    "model": ("model_name", "model_base_path", "model_config_file",
              "model_config_file_poll_wait_seconds", "file_system_poll_wait_seconds",
              "allow_version_labels_for_unavailable_models", "max_num_load_retries",
              "load_retry_interval_micros", "enable_model_warmup",
              "num_request_iterations_for_warmup", "saved_model_tags"),
    "security": ("allowed_model_roots", "allow_reload_config_requests"),
    "network": ("port", "grpc_socket_path", "rest_api_port", "host", "rest_api_num_threads",
                "rest_api_processes",
                "grpc_max_threads", "rest_api_timeout_in_ms", "rest_api_enable_cors_support",
                "grpc_channel_arguments", "enable_serialization_as_tensor_content",
                "max_samples_per_request", "max_request_bytes", "rest_max_connections",
                "rest_header_timeout_seconds", "rest_body_timeout_seconds",
                "rest_idle_timeout_seconds", "grpc_max_concurrent_rpcs",
                "grpc_idle_timeout_seconds"),
    "batching, monitoring, threads": (
        "enable_batching", "batching_parameters_file", "monitoring_config_file",
        "tensorflow_session_parallelism", "tensorflow_intra_op_parallelism",
        "tensorflow_inter_op_parallelism"),
    "stock flags with no effect here": tuple(NO_EFFECT),
    "other": ("version",),
}


def options_from_flags():
    """The `ServerOptions` the parsed flags describe.

    Raises:
        ValueError: for contradictory or missing flags.
    """
    return config_from_flags(ServerOptions, FLAGS)


def report_no_effect_flags():
    """Logs one line per stock flag given that has no effect here; refuses the unsafe ones."""
    for name, (_, why) in NO_EFFECT.items():
        if FLAGS[name].present:
            if name in REFUSED:
                fail(f"--{name}: {why}", USAGE)
            _log.warning("--%s has no effect in tfgan-serve: %s", name, why)


def version_text():
    """What `--version` prints: the stock server's two lines, naming this server."""
    return (f"TensorFlow ModelServer: tfgan-serve {tfgan.__version__}\n"
            f"TensorFlow Library: {tf.__version__}")


def _check_base_paths(model_config):
    """Refuses a model base path that does not exist: a typo, not a directory to wait for.

    (The stock server waits for it, logging a warning at every poll.) An existing directory
    without versions yet is served as soon as a version appears.
    """
    for model in model_config.model_config_list.config:
        if os.path.isdir(model.base_path):
            continue
        where = (f"the base_path of model {model.name!r} in --model_config_file="
                 f"{FLAGS.model_config_file}" if FLAGS.model_config_file
                 else f"--model_base_path={FLAGS.model_base_path}")
        fail(f"{where}: no such directory; expected the directory holding the model's "
             "version directories, e.g. export/mnist (tfgan-export writes it)", USAGE)


def main(argv):
    del argv  # flags_parser refuses positional arguments
    if FLAGS.version:
        print(version_text(), flush=True)
        return
    report_no_effect_flags()
    try:
        options = options_from_flags()
        model_config = options.models()
        options.batching_options(), options.metrics_path()  # the files read, before serving
    except (ValueError, ServingError) as error:
        fail(" ".join(str(error).split()), USAGE)
    _check_base_paths(model_config)
    try:
        run_server(options, on_ready=lambda message: print(message, flush=True))
    except (OSError, ServingError, ValueError) as error:
        fail(" ".join(str(error).split()), FAILURE)


def run(argv=None):
    """The `tfgan-serve` entry point."""
    run_tool(main, FLAGS, __doc__, argv=argv, groups=GROUPS, version_text=version_text)


if __name__ == "__main__":
    run()
