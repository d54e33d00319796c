"""Serves SavedModels over TF Serving's REST and gRPC APIs: `tfgan-serve`.

Takes tensorflow_model_server's own flag names, so one command line works with either server:

    tfgan-serve --model_name=mnist --model_base_path=$PWD/export/mnist
    tfgan-serve --model_config_file=serving/models.config --enable_batching \\
        --batching_parameters_file=serving/batching.config

Prints one line with the URLs when ready; stops gracefully on Ctrl-C or SIGTERM. Binds
127.0.0.1 unless `--host` says otherwise. A model base path that does not exist is refused
at start (exit status 2), where the stock server would wait for it. Flags live in their own `FlagValues`, so this module
can be imported next to other tools that define `--model_name`.
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
                     "may ask for; 0 = no limit.", lower_bound=0, flag_values=FLAGS)
GROUPS = {
    "model": ("model_name", "model_base_path", "model_config_file",
              "file_system_poll_wait_seconds"),
    "network": ("port", "rest_api_port", "host", "rest_api_timeout_in_ms",
                "max_samples_per_request"),
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
