"""Exports a trained run for TF Serving: `tfgan-export --workdir=runs/mnist --export_dir=export`.

Writes `<export_dir>/<model_name>/<version>/` atomically (the next free version unless
`--version` is given); an existing version is only replaced with `--overwrite`. Every
signature is run through TensorFlow's session-based loader (the one the model server uses)
before the version is renamed into place. Prints the version directory.

`--rejection_candidates=K` guides the sampling signatures by the run's discriminator
(Discriminator Rejection Sampling over K candidates per sample, `tfgan.guided_sampling`): each
sample then costs K generator and K discriminator passes, and the signatures take a `rejection`
strength (1: DRS, 0: the unguided samples).
"""

import os

from absl import flags

from tfgan import training
from tfgan.cli.errors import FAILURE, USAGE, fail, require_existing
from tfgan.cli.flags import run_tool

FLAGS = flags.FlagValues()
flags.DEFINE_string("workdir", None, "Run directory written by tfgan-train (required).",
                    flag_values=FLAGS)
flags.DEFINE_string("export_dir", None, "Export base directory (required): the model goes to "
                    "<export_dir>/<model_name>/<version>.", flag_values=FLAGS)
flags.DEFINE_string("model_name", "", "Model name (default: the run's --model_name, else its "
                    "dataset).", flag_values=FLAGS)
flags.DEFINE_integer("version", None, "Version number (default: the next free one).",
                     lower_bound=1, flag_values=FLAGS)
flags.DEFINE_bool("overwrite", False, "Replace an existing version.", flag_values=FLAGS)
flags.DEFINE_bool("batchable_only", False, "Export only signatures with a batch dimension "
                  "(for the stock server's --enable_batching).", flag_values=FLAGS)
flags.DEFINE_integer("rejection_candidates", 0, "Discriminator-guided sampling: each sample "
                     "keeps one of K candidates by Discriminator Rejection Sampling, at K "
                     "generator and K discriminator passes per sample (0 or 1: off).",
                     lower_bound=0, flag_values=FLAGS)

GROUPS = {"run": ("workdir",), "export": ("export_dir", "model_name", "version", "overwrite",
                                           "batchable_only", "rejection_candidates")}


def main(argv):
    del argv  # the parser refuses positional arguments
    require_existing("workdir", FLAGS.workdir, "a run directory written by tfgan-train",
                     directory=True)
    if not FLAGS.export_dir:
        fail("--export_dir is required: the export base directory, e.g. --export_dir=export")
    try:
        gan, config, spec = training.load_run(FLAGS.workdir)
    except FileNotFoundError as error:
        fail(str(error), USAGE)
    if FLAGS.rejection_candidates > 1 and gan.pack != 1:
        fail(f"--rejection_candidates={FLAGS.rejection_candidates}: this run's discriminator "
             f"judges packs of {gan.pack} samples, so the export has no discriminator to guide "
             "sampling by", USAGE)
    if FLAGS.model_name:
        config.model_name = FLAGS.model_name
    model_dir = os.path.join(FLAGS.export_dir, config.export_model_name)
    if FLAGS.version and not FLAGS.overwrite and os.path.exists(
            os.path.join(model_dir, str(FLAGS.version))):
        fail(f"--version={FLAGS.version}: {model_dir} already has version {FLAGS.version}; "
             "--overwrite replaces it, without --version the next free number is used",
             FAILURE)
    print(f"exporting step {int(gan.step.numpy())} of {FLAGS.workdir} to {model_dir}, then "
          "checking every signature in TensorFlow's session loader ...", flush=True)
    try:
        path = training.export_gan(gan, FLAGS.export_dir, config.export_model_name,
                                   config=config, class_names=spec.class_names,
                                   version=FLAGS.version,
                                   overwrite=FLAGS.overwrite,
                                   batchable_only=FLAGS.batchable_only,
                                   rejection_candidates=FLAGS.rejection_candidates)
    except (FileExistsError, training.DivergedError) as error:
        fail(str(error), FAILURE)
    print(path)


def run(argv=None):
    """The `tfgan-export` entry point."""
    run_tool(main, FLAGS, __doc__, argv=argv, groups=GROUPS)


if __name__ == "__main__":
    run()
