"""Runs one row of the mode-collapse study and writes it into docs/mode_collapse.md.

    python scripts/mode_collapse_study.py --dataset=ring --remedy=pack --seeds=0,1,2
    python scripts/mode_collapse_study.py --dataset=stacked_mnist --remedy=plain \
        -- --mnist_path=../shared/data/mnist.npz

Every seed trains the preset `--preset` (default: `--dataset`) plus the remedy's options
(`tfgan.study.REMEDIES`) and the training flags after `--`, one run at a time, in `<root>/<dataset>/<remedy>/seed<k>`;
see `tfgan/study.py`. Re-running a command reuses finished runs and resumes the others.
Stacked MNIST reads MNIST from `MNIST_PATH` unless a `--mnist_path` follows `--`.
"""

import os

from absl import flags

import _checkout  # this checkout's tfgan first
from tfgan.cli.quiet import import_tensorflow_quietly

import_tensorflow_quietly()  # before anything imports TensorFlow
from tfgan.cli.errors import FAILURE, USAGE, fail  # noqa: E402
from tfgan.cli.flags import check_preset, define_preset_flag, run_tool  # noqa: E402
from tfgan import presets, study  # noqa: E402
from tfgan.data import DatasetUnavailableError  # noqa: E402

_CHECKOUT = _checkout.ROOT

FLAGS = flags.FlagValues()
flags.DEFINE_enum("dataset", None, study.DATASETS, "Data set of the row (required).",
                  flag_values=FLAGS)
flags.DEFINE_enum("remedy", None, tuple(study.REMEDIES), "Remedy for mode collapse (required).",
                  flag_values=FLAGS)
flags.DEFINE_list("seeds", ["0", "1", "2"], "Training seeds, one run each.", flag_values=FLAGS)
flags.DEFINE_string("root", "runs/mode_collapse", "Parent directory of the run directories.",
                    flag_values=FLAGS)
define_preset_flag(FLAGS, "Preset every seed trains (default: the one named like --dataset).")
flags.DEFINE_string("table", os.path.join(_CHECKOUT, "docs", "mode_collapse.md"),
                    "Markdown file holding the study's table.", flag_values=FLAGS)
flags.DEFINE_integer("num_samples", 0, "Samples measured per run (0: 2500 toys, 26000 Stacked "
                     "MNIST).", lower_bound=0, flag_values=FLAGS)
flags.DEFINE_bool("dry_run", False, "Only add the row's command as 'not run yet' (a measured "
                  "row is kept).", flag_values=FLAGS)
GROUPS = {"study": ("dataset", "remedy", "seeds", "preset", "num_samples"),
          "output": ("root", "table", "dry_run")}


def _with_mnist_path(dataset, overrides):
    """The training flags, with `MNIST_PATH` as `--mnist_path` where the data need MNIST and
    the flags name none (as every tool takes it)."""
    mnist_path = os.environ.get("MNIST_PATH")
    named = any(flag.startswith("--mnist_path") for flag in overrides)
    if study.STUDY_DATA[dataset] == "stacked_mnist" and mnist_path and not named:
        return [f"--mnist_path={mnist_path}", *overrides]
    return list(overrides)


def main(argv):
    for name in ("dataset", "remedy"):
        if FLAGS[name].value is None:
            fail(f"--{name} is required: one of {', '.join(FLAGS[name].parser.enum_values)}")
    try:
        seeds = [int(seed) for seed in FLAGS.seeds]
    except ValueError:
        fail(f"--seeds takes a comma-separated list of integers; got {','.join(FLAGS.seeds)}")
    try:
        overrides = presets.parse_flags(_with_mnist_path(FLAGS.dataset, argv[1:]))
    except presets.PresetError as error:
        fail(f"after --: {error}")
    if FLAGS.dry_run:
        row = study.placeholder_row(FLAGS.dataset, FLAGS.remedy, seeds, overrides)
        study.update_table(FLAGS.table, row, replace=False)
        print(row)
        return
    name = FLAGS.preset or FLAGS.dataset
    check_preset(name)
    preset = presets.config(name)
    try:
        _, row = study.run_study(
            FLAGS.dataset, FLAGS.remedy, seeds, FLAGS.root, preset, FLAGS.table, overrides,
            num_samples=FLAGS.num_samples or None)
    except ValueError as error:  # ConfigError too: bad training flags after --
        fail(" ".join(str(error).split()), USAGE)
    except DatasetUnavailableError as error:
        fail(" ".join(str(error).split()), FAILURE)
    print(row)


if __name__ == "__main__":
    run_tool(main, FLAGS, __doc__, groups=GROUPS, pass_through=True)
