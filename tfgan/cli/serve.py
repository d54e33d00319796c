"""Serves SavedModels over TF Serving's REST and gRPC APIs: `tfgan-serve`.

Takes tensorflow_model_server's own flag names, so one command line works with either server:

    tfgan-serve --model_name=mnist --model_base_path=$PWD/export/mnist
    tfgan-serve --model_config_file=serving/models.config --enable_batching \\
        --batching_parameters_file=serving/batching.config

Prints one line with the URLs when ready; stops gracefully on Ctrl-C or SIGTERM. A model
base path that does not exist is refused at start (exit status 2), where the stock server
would wait for it. Flags live in their own `FlagValues`, so this module can be imported next to
other tools that define `--model_name`.

Differences from tensorflow_model_server's flags, and why:
  --rest_api_port defaults to 8501 (stock: 0, REST off): REST is what tfgan's docs and
      browsers use; --rest_api_port=0 turns it off as in the stock server.
  --port=0 turns gRPC off (stock: refuses to start); it needs one of the two ports.
  --host defaults to 127.0.0.1 (stock: every interface): a development server should not be
      reachable from the network by accident; --host=0.0.0.0 is the stock behaviour.
  --max_samples_per_request defaults to 1024 (stock: no such cap): one REST answer of 1024
      MNIST samples is ~70 MB of JSON; a larger request could take the memory of the host.
      0 removes the cap.
  --rest_* and --grpc_* limits and timeouts (connections, headers, bodies, idle) are this
      server's own, with safe defaults; the stock server has none of them.
Stock flags not listed here behave as in the stock server; flags it has and this server lacks
(--rest_api_num_threads, --tensorflow_*_parallelism, ...) are refused.
"""

import os

from absl import flags

from tfgan.cli.errors import FAILURE, USAGE, fail
from tfgan.cli.flags import run_tool
from tfgan.serving import (
    BatchingOptions,
    ServerOptions,
    ServingError,
    read_batching_parameters,
    read_model_config_file,
    read_monitoring_config,
    run_server,
    single_model_config,
)

FLAGS = flags.FlagValues()
flags.DEFINE_integer("port", 8500, "gRPC port; 0 turns gRPC off.", lower_bound=0,
                     upper_bound=65535, flag_values=FLAGS)
flags.DEFINE_integer("rest_api_port", 8501, "REST port; 0 turns REST off.", lower_bound=0,
                     upper_bound=65535, flag_values=FLAGS)
flags.DEFINE_string("host", "127.0.0.1", "Address to bind (0.0.0.0 for every interface).",
                    flag_values=FLAGS)
flags.DEFINE_string("model_name", "default", "Name of the model served from --model_base_path.",
                    flag_values=FLAGS)
flags.DEFINE_string("model_base_path", "", "Directory holding <version>/saved_model.pb.",
                    flag_values=FLAGS)
flags.DEFINE_string("model_config_file", "", "ModelServerConfig text proto (instead of "
                    "--model_name/--model_base_path).", flag_values=FLAGS)
flags.DEFINE_integer("file_system_poll_wait_seconds", 1, "Seconds between polls for new "
                     "versions; 0 polls once at start.", flag_values=FLAGS)
flags.DEFINE_bool("enable_batching", False, "Batch concurrent requests on batchable signatures.",
                  flag_values=FLAGS)
flags.DEFINE_string("batching_parameters_file", "", "BatchingParameters text proto.",
                    flag_values=FLAGS)
flags.DEFINE_string("monitoring_config_file", "", "MonitoringConfig text proto (Prometheus).",
                    flag_values=FLAGS)
flags.DEFINE_integer("rest_api_timeout_in_ms", 30000, "REST request time limit; 0 = none.",
                     lower_bound=0, flag_values=FLAGS)
flags.DEFINE_integer("max_samples_per_request", 1024, "Largest batch or num_samples a request "
                     "may ask for; 0 = no limit (stock: no limit).", lower_bound=0,
                     flag_values=FLAGS)
flags.DEFINE_integer("max_num_load_retries", 5, "Retries of a version that failed to load.",
                     lower_bound=0, flag_values=FLAGS)
flags.DEFINE_integer("load_retry_interval_micros", 60_000_000, "Least time between two tries "
                     "of a version that failed to load.", lower_bound=0, flag_values=FLAGS)
flags.DEFINE_integer("model_config_file_poll_wait_seconds", 0, "Seconds between reads of "
                     "--model_config_file; 0 reads it once.", lower_bound=0, flag_values=FLAGS)
flags.DEFINE_bool("allow_version_labels_for_unavailable_models", False, "Let a version label "
                  "name a version that is not available yet.", flag_values=FLAGS)
flags.DEFINE_bool("enable_model_warmup", True, "Warm each version up before it serves "
                  "(assets.extra/tf_serving_warmup_requests, else one request per signature).",
                  flag_values=FLAGS)
flags.DEFINE_integer("max_request_bytes", 64 * 2**20, "Largest REST body; larger ones get 413.",
                     lower_bound=1, flag_values=FLAGS)
flags.DEFINE_integer("rest_max_connections", 1000, "Open REST connections past which new ones "
                     "get 503; 0 = no limit.", lower_bound=0, flag_values=FLAGS)
flags.DEFINE_float("rest_header_timeout_seconds", 30, "Time a REST connection has to send a "
                   "request's headers; 0 = none.", lower_bound=0, flag_values=FLAGS)
flags.DEFINE_float("rest_body_timeout_seconds", 30, "Time a REST client has to send its body; "
                   "0 = none.", lower_bound=0, flag_values=FLAGS)
flags.DEFINE_float("rest_idle_timeout_seconds", 60, "Idle time after which a REST connection "
                   "is closed.", lower_bound=0, flag_values=FLAGS)
flags.DEFINE_integer("grpc_max_concurrent_rpcs", 1000, "gRPC calls in progress past which new "
                     "ones get RESOURCE_EXHAUSTED; 0 = no limit.", lower_bound=0,
                     flag_values=FLAGS)
flags.DEFINE_float("grpc_idle_timeout_seconds", 300, "Idle time after which a gRPC connection "
                   "is closed; 0 = never.", lower_bound=0, flag_values=FLAGS)
GROUPS = {
    "model": ("model_name", "model_base_path", "model_config_file",
              "model_config_file_poll_wait_seconds", "file_system_poll_wait_seconds",
              "allow_version_labels_for_unavailable_models", "max_num_load_retries",
              "load_retry_interval_micros", "enable_model_warmup"),
    "network": ("port", "rest_api_port", "host", "rest_api_timeout_in_ms",
                "max_samples_per_request", "max_request_bytes", "rest_max_connections",
                "rest_header_timeout_seconds", "rest_body_timeout_seconds",
                "rest_idle_timeout_seconds", "grpc_max_concurrent_rpcs",
                "grpc_idle_timeout_seconds"),
    "batching and monitoring": ("enable_batching", "batching_parameters_file",
                                "monitoring_config_file"),
}


def options_from_flags():
    """The `ServerOptions` the parsed flags describe.

    Raises:
        ValueError: for contradictory or missing flags, or an unreadable config file.
    """
    if FLAGS.model_config_file and FLAGS.model_base_path:
        raise ValueError(
            "--model_config_file and --model_base_path cannot both be set. Received: "
            f"model_config_file={FLAGS.model_config_file}, model_base_path={FLAGS.model_base_path}"
        )
    if FLAGS.model_config_file:
        config = read_model_config_file(FLAGS.model_config_file)
    elif FLAGS.model_base_path:
        config = single_model_config(FLAGS.model_name, os.path.abspath(FLAGS.model_base_path))
    else:
        raise ValueError("set --model_base_path (with --model_name) or --model_config_file")
    batching = None
    if FLAGS.enable_batching:
        batching = (read_batching_parameters(FLAGS.batching_parameters_file)
                    if FLAGS.batching_parameters_file else BatchingOptions())
    prometheus_path = (read_monitoring_config(FLAGS.monitoring_config_file)
                       if FLAGS.monitoring_config_file else None)
    return ServerOptions(
        model_config=config,
        host=FLAGS.host,
        grpc_port=FLAGS.port or None,
        rest_port=FLAGS.rest_api_port or None,
        file_system_poll_wait_seconds=FLAGS.file_system_poll_wait_seconds,
        batching=batching,
        prometheus_path=prometheus_path,
        rest_api_timeout_in_ms=FLAGS.rest_api_timeout_in_ms,
        max_samples_per_request=FLAGS.max_samples_per_request,
        max_num_load_retries=FLAGS.max_num_load_retries,
        load_retry_interval_micros=FLAGS.load_retry_interval_micros,
        allow_version_labels_for_unavailable_models=(
            FLAGS.allow_version_labels_for_unavailable_models),
        enable_model_warmup=FLAGS.enable_model_warmup,
        model_config_file=FLAGS.model_config_file or None,
        model_config_file_poll_wait_seconds=FLAGS.model_config_file_poll_wait_seconds,
        max_request_bytes=FLAGS.max_request_bytes,
        rest_max_connections=FLAGS.rest_max_connections,
        rest_header_timeout_seconds=FLAGS.rest_header_timeout_seconds,
        rest_body_timeout_seconds=FLAGS.rest_body_timeout_seconds,
        rest_idle_timeout_seconds=FLAGS.rest_idle_timeout_seconds,
        grpc_max_concurrent_rpcs=FLAGS.grpc_max_concurrent_rpcs,
        grpc_idle_timeout_seconds=FLAGS.grpc_idle_timeout_seconds,
    )


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
    try:
        options = options_from_flags()
    except ValueError as error:
        fail(str(error), USAGE)
    _check_base_paths(options.model_config)
    try:
        run_server(options, on_ready=lambda message: print(message, flush=True))
    except (OSError, ServingError) as error:
        fail(" ".join(str(error).split()), FAILURE)


def run(argv=None):
    """The `tfgan-serve` entry point."""
    run_tool(main, FLAGS, __doc__, argv=argv, groups=GROUPS)


if __name__ == "__main__":
    run()
