"""Exports a trained run for TF Serving: `tfgan-export --workdir=runs/mnist --export_dir=export`.

Writes `<export_dir>/<model_name>/<version>/` atomically (the next free version unless
`--version` is given); an existing version is only replaced with `--overwrite`.
"""

from absl import app, flags

from tfgan import training
from tfgan.cli.errors import FAILURE, USAGE, fail

flags.DEFINE_string("workdir", None, "Run directory written by tfgan-train.", required=True)
flags.DEFINE_string("export_dir", None, "Export base directory.", required=True)
flags.DEFINE_string("model_name", "", "Model name (default: the run's --model_name or dataset).")
flags.DEFINE_integer("version", None, "Version number (default: the next free one).",
                     lower_bound=1)
flags.DEFINE_bool("overwrite", False, "Replace an existing version.")
flags.DEFINE_bool("batchable_only", False,
                  "Export only signatures with a batch dimension (for --enable_batching).")
FLAGS = flags.FLAGS


def main(argv):
    if len(argv) > 1:
        fail(f"unexpected arguments: {' '.join(argv[1:])}", USAGE)
    try:
        gan, config, spec = training.load_run(FLAGS.workdir)
    except FileNotFoundError as error:
        fail(str(error), USAGE)
    if FLAGS.model_name:
        config.model_name = FLAGS.model_name
    try:
        path = training.export_trained(gan, config, spec, FLAGS.export_dir,
                                       version=FLAGS.version, overwrite=FLAGS.overwrite,
                                       batchable_only=FLAGS.batchable_only)
    except (FileExistsError, training.NonFiniteError) as error:
        fail(str(error), FAILURE)
    print(path)


def run():
    app.run(main)


if __name__ == "__main__":
    run()
