"""Runs one row of the mode-collapse study and writes it into docs/mode_collapse.md.

    python scripts/mode_collapse_study.py --dataset=ring --remedy=pack --seeds=0,1,2
    python scripts/mode_collapse_study.py --dataset=stacked_mnist --remedy=plain \
        -- --mnist_path=../shared/data/mnist.npz

Every seed trains `configs/<dataset>.flags` plus the remedy's flags (`tfgan.study.REMEDIES`)
and the training flags after `--`, one run at a time, in `<root>/<dataset>/<remedy>/seed<k>`;
see `tfgan/study.py`. Re-running a command reuses finished runs and resumes the others.
"""

import os

from absl import app, flags

from tfgan import study

_CHECKOUT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

flags.DEFINE_enum("dataset", None, study.DATASETS, "Data set of the row.")
flags.DEFINE_enum("remedy", None, tuple(study.REMEDIES), "Remedy for mode collapse.")
flags.DEFINE_list("seeds", ["0", "1", "2"], "Training seeds, one run each.")
flags.DEFINE_string("root", "runs/mode_collapse", "Parent directory of the run directories.")
flags.DEFINE_string("preset", "", "Flag file to train (default: configs/<dataset>.flags).")
flags.DEFINE_string("table", os.path.join(_CHECKOUT, "docs", "mode_collapse.md"),
                    "Markdown file holding the study's table.")
flags.DEFINE_integer("num_samples", 0, "Samples measured per run (0: 2500 toys, 26000 Stacked "
                     "MNIST).")
flags.DEFINE_bool("dry_run", False, "Only add the row's command as 'not run yet' (a measured "
                  "row is kept).")
flags.mark_flags_as_required(["dataset", "remedy"])
FLAGS = flags.FLAGS


def main(argv):
    overrides = argv[1:]
    seeds = [int(seed) for seed in FLAGS.seeds]
    if FLAGS.dry_run:
        row = study.placeholder_row(FLAGS.dataset, FLAGS.remedy, seeds, overrides)
        study.update_table(FLAGS.table, row, replace=False)
        print(row)
        return
    preset = FLAGS.preset or os.path.join(_CHECKOUT, "configs", f"{FLAGS.dataset}.flags")
    _, row = study.run_study(
        FLAGS.dataset, FLAGS.remedy, seeds, FLAGS.root, preset, FLAGS.table, overrides,
        num_samples=FLAGS.num_samples or None)
    print(row)


if __name__ == "__main__":
    app.run(main)
