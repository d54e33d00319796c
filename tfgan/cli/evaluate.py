"""Measures a trained generator with its data set's metrics: `tfgan-evaluate`.

    tfgan-evaluate --workdir=runs/mnist --mnist_path=mnist.npz --out=eval/mnist
    tfgan-evaluate --saved_model=export/mnist --mnist_path=mnist.npz --num_samples=10000
    tfgan-evaluate --server=http://127.0.0.1:8501 --model_name=ring --out=eval/ring
    tfgan-evaluate --samples=baseline/samples.npy --dataset=mnist --mnist_path=mnist.npz
    tfgan-evaluate --real --mnist_path=mnist.npz --num_samples=10000

The samples come from exactly one source: a training run (`--workdir`, its latest
checkpoint), an exported SavedModel (`--saved_model`, a version directory, or a model
directory meaning its latest version), a running server (`--server`, REST or gRPC, with
`--model_name`), or a `.npy` array of samples saved by any program (`--samples`: images
`[n, H, W, C]` in [0, 1] or points `[n, d]` in data units), or real MNIST training digits
(`--real`: the figures real data reaches, per class too, to compare a generator's with). The
first three draw
`--num_samples` samples from `--seed` as the export's `sample` signature does, so a
checkpoint, its export and a server serving it give the same numbers; `--samples` takes the
array's first `--num_samples` rows (an error if it holds fewer) and `--seed` does not apply.
The data set is read from the run's options or the export's metadata; a server does not
publish it, so there it is `--dataset`, or else the model name when that names a data set;
an array needs `--dataset`.

A server that takes fewer samples per request than `--num_samples` (tfgan-serve's
`--max_samples_per_request`) gets several requests that together return the very samples one
request would; `--max_samples_per_request` here sets the request size for a server that does
not say its limit.

A class-conditional generator is asked for the class-balanced mixture (sample k of class
k mod the number of classes) and reported three ways (`tfgan.metrics.evaluate_per_class`):
every metric on the mixture, `conditional_accuracy` (the classifier, or for the toys the
nearest mode, agrees with the requested class), and every figure per class (`class 7 ...`),
MNIST's against the real test digits of that class.

Metrics are those of `tfgan.metrics` for the data set. MNIST compares with the first
`--num_samples` digits of the MNIST test split (`--mnist_path`, default `$MNIST_PATH`, or
tensorflow-datasets in `--data_dir`; with `--workdir` and neither flag given, the run's own);
Stacked MNIST and the toys compare with their known distributions. Use `--num_samples=10000`
for numbers comparable with published tables. `--truncation` and `--rejection` measure the
samples the sampling signatures give with those inputs (as `tfgan-sample` takes them): the
fidelity-diversity trade of the truncation trick and of discriminator-guided sampling.

The metrics are printed as a table. With `--out`, the directory gets `report.json` (metrics,
source, dataset, step, seed (null with `--samples`), num_samples), `samples.png` (the first 64
images, or every point over as many real ones), for MNIST and Stacked MNIST
`class_histogram.png`, and for MNIST `missed.png`: the real test digits that no sample reaches
(recall's misses, `tfgan.metrics.recall_misses`), one row per class for a conditional
generator, to see what kind of digit it does not draw. Progress lines go to stderr. Bad flags,
missing files (and an array too short for `--num_samples`) are one error line and exit status
2; a server or data set that cannot be reached, status 1.
"""

import json
import os
import sys

import numpy as np
from absl import flags

from tfgan.cli.errors import FAILURE, USAGE, fail, require_existing
from tfgan.cli.flags import check_fidelity_flags, define_fidelity_flags, run_tool
from tfgan.data import DatasetUnavailableError, sample_toy
from tfgan.data.mnist import MNIST_PATH_HELP, load_mnist_arrays
from tfgan.labels import balanced_labels
from tfgan.metrics import (CONDITIONAL_KINDS, class_histogram, evaluate_per_class,
                           recall_misses)
from tfgan.metrics import stacked_mnist_classes
from tfgan.metrics.evaluate import default_classifier, evaluate_samples, image_outputs
from tfgan.metrics.precision_recall import NEIGHBOURS
from tfgan.metrics.reference import load_reference
from tfgan.metrics.registry import METRICS
from tfgan.metrics.stacked_mnist import NUM_MODES
from tfgan.sample_sources import (ArraySource, CheckpointSource, RealSource, SavedModelSource,
                                  ServerSource)
from tfgan.serving import ServingError

SOURCE_FLAGS = ("workdir", "saved_model", "server", "samples", "real")
GRID_IMAGES = 64
REPORT_FILE = "report.json"
SAMPLES_FILE = "samples.png"
HISTOGRAM_FILE = "class_histogram.png"
MISSED_FILE = "missed.png"
MISSED_PER_CLASS = 16

FLAGS = flags.FlagValues()
flags.DEFINE_string("workdir", None, "A training run directory: evaluate its latest checkpoint.",
                    flag_values=FLAGS)
flags.DEFINE_string("saved_model", None, "An exported version directory, or a model directory "
                    "(its latest version).", flag_values=FLAGS)
flags.DEFINE_string("server", None, "A running server: http://host:port (REST) or "
                    "grpc://host:port (gRPC).", flag_values=FLAGS)
flags.DEFINE_string("samples", None, "A .npy array of samples saved by any program: images "
                    "[n, H, W, C] in [0, 1] or points [n, d]; needs --dataset; --seed does not "
                    "apply (its first --num_samples rows are used).", flag_values=FLAGS)
flags.DEFINE_bool("real", False, "Measure real MNIST training digits in place of a generator's, "
                  "asked for by class like a conditional generator: the figures real data "
                  "reaches (e.g. each class's recall), to compare a generator's with.",
                  flag_values=FLAGS)
flags.DEFINE_string("model_name", None, "Served model name (with --server).", flag_values=FLAGS)
flags.DEFINE_integer("version", None, "Served model version (default: the latest).",
                     lower_bound=1, flag_values=FLAGS)
flags.DEFINE_string("dataset", None, "The data set the generator learned: needed with "
                    "--samples, and with --server unless the model is named after it; checked "
                    "against the other sources.", flag_values=FLAGS)
flags.DEFINE_integer("num_samples", 1000, "Samples to generate (10000 for published-style "
                     "numbers).", lower_bound=1, flag_values=FLAGS)
flags.DEFINE_integer("seed", 0, "Seed of the latent draw (same seed, same samples); does not "
                     "apply to --samples.", flag_values=FLAGS)
flags.DEFINE_string("mnist_path", None, "Local MNIST for the real test digits: a Keras-layout "
                    "mnist.npz or a folder with the four idx .gz files.", flag_values=FLAGS)
flags.DEFINE_string("data_dir", None, "tensorflow-datasets data directory for MNIST (with "
                    "--workdir, both default to the run's own).", flag_values=FLAGS)
flags.DEFINE_string("out", None, "Directory for report.json and the plots (default: print "
                    "only).", flag_values=FLAGS)
flags.DEFINE_float("timeout", 120.0, "Seconds to wait for each server request.",
                   flag_values=FLAGS)
flags.DEFINE_integer("max_samples_per_request", 0, "With --server: the most samples to ask for "
                     "in one request (0: all at once, or as many as the server says it takes); "
                     "the samples are the same either way.", lower_bound=0, flag_values=FLAGS)
define_fidelity_flags(FLAGS)
GROUPS = {
    "source": ("workdir", "saved_model", "server", "samples", "real", "model_name", "version",
               "timeout", "max_samples_per_request"),
    "data": ("dataset", "mnist_path", "data_dir"),
    "run": ("num_samples", "seed", "truncation", "rejection", "out"),
}


def _one_line(error):
    return " ".join(str(error).split())


def _open_source():
    """The source the flags name; fails in one line when it cannot be opened."""
    try:
        if FLAGS.workdir:
            return CheckpointSource(FLAGS.workdir, dataset=FLAGS.dataset)
        if FLAGS.saved_model:
            return SavedModelSource(FLAGS.saved_model, dataset=FLAGS.dataset)
        if FLAGS.samples:
            return ArraySource(FLAGS.samples, dataset=FLAGS.dataset)
        if FLAGS.real:
            if FLAGS.dataset not in (None, "mnist"):
                raise ValueError(f"--real measures MNIST digits; got --dataset={FLAGS.dataset}")
            if FLAGS.mnist_path:
                require_existing("mnist_path", FLAGS.mnist_path, MNIST_PATH_HELP)
            return RealSource(FLAGS.mnist_path or None, FLAGS.data_dir or None)
        return ServerSource(FLAGS.server, FLAGS.model_name, dataset=FLAGS.dataset,
                            version=FLAGS.version, timeout=FLAGS.timeout,
                            max_samples_per_request=FLAGS.max_samples_per_request,
                            progress_fn=_request_progress)
    except (FileNotFoundError, ValueError) as error:
        fail(_one_line(error), USAGE)
    except (ServingError, DatasetUnavailableError) as error:
        fail(_one_line(error), FAILURE)


def _progress(message):
    """A progress line on stderr, so that stdout holds only the report."""
    print(message, file=sys.stderr, flush=True)


def _request_progress(done, total):
    _progress(f"  {done}/{total} samples")


def _mnist_location(source):
    """`(mnist_path, data_dir)`: the flags', else a run's own (if its file is still there),
    else the defaults (`$MNIST_PATH`)."""
    given = FLAGS["mnist_path"].present or FLAGS["data_dir"].present
    if isinstance(source, CheckpointSource) and not given:
        # A run knows where its MNIST came from.
        run_path, run_dir = source.config.mnist_path, source.config.data_dir
        if (run_path and os.path.exists(run_path)) or (run_dir and not run_path):
            return run_path or None, run_dir or None
    return FLAGS.mnist_path or None, FLAGS.data_dir or None


def _reference(source):
    """The real data the source's metrics compare with; fails in one line if unreachable."""
    mnist_path, data_dir = _mnist_location(source)
    if source.dataset == "mnist":
        if mnist_path:
            require_existing("mnist_path", mnist_path, MNIST_PATH_HELP)
        _progress(f"reading {FLAGS.num_samples} real test digits and their classifier features")
    try:
        return load_reference(source.dataset, FLAGS.num_samples, mnist_path=mnist_path,
                              data_dir=data_dir, with_labels=True)
    except DatasetUnavailableError as error:
        fail(_one_line(error), FAILURE)


def _number(value):
    """A metric as a JSON number: counts stay ints."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    return float(value)


def _table(metrics):
    width = max(len("metric"), *(len(name) for name in metrics))
    lines = [f"{'metric':<{width}}  {'value':>12}"]
    lines += [f"{name:<{width}}  {value:>12.6g}" for name, value in metrics.items()]
    return "\n".join(lines)


def _missed_digits(fake, labels, reference, reference_labels, source):
    """The real test digits no sample reaches: `(images, columns)` for one grid, a row of up
    to `MISSED_PER_CLASS` per class of a conditional generator (classes with too few samples
    for the neighbourhoods stay empty), else the first `GRID_IMAGES`."""
    mnist_path, data_dir = _mnist_location(source)
    images = load_mnist_arrays("test", mnist_path=mnist_path, data_dir=data_dir)[0]
    images = images[:len(reference_labels)].astype(np.float32) / 255.0
    if labels is None:
        missed = images[recall_misses(reference.features, fake.features)][:GRID_IMAGES]
        return (missed if len(missed) else np.zeros_like(images[:1])), None
    rows = []
    for label in range(len(source.class_names)):
        real, generated = reference_labels == label, labels == label
        row = np.zeros((MISSED_PER_CLASS, *images.shape[1:]), np.float32)
        if min(real.sum(), generated.sum()) > NEIGHBOURS:
            missed = images[real][recall_misses(reference.features[real],
                                                fake.features[generated])]
            shown = missed[:MISSED_PER_CLASS]
            row[:len(shown)] = shown
        rows.append(row)
    return np.concatenate(rows), MISSED_PER_CLASS


def _write_outputs(out, report, samples, labels, reference, reference_labels, source):
    """Writes report.json and the plots into `out`; returns the plot file names."""
    from tfgan import plots  # matplotlib loads only once there is something to draw

    os.makedirs(out, exist_ok=True)
    dataset, seed = report["dataset"], report["seed"]
    title = dataset if seed is None else f"{dataset}, seed {seed}"
    if report["kind"] == "image":
        plots.save_samples(samples[:GRID_IMAGES], os.path.join(out, SAMPLES_FILE), title=title)
    else:
        real = sample_toy(dataset, len(samples), 0 if seed is None else seed)
        plots.save_samples(samples, os.path.join(out, SAMPLES_FILE), reference=real,
                           title=title)
    written = [SAMPLES_FILE]
    if dataset == "stacked_mnist":
        plots.save_class_histogram(
            class_histogram(stacked_mnist_classes(default_classifier(), samples), NUM_MODES),
            os.path.join(out, HISTOGRAM_FILE), title=title)
        written.append(HISTOGRAM_FILE)
    if dataset == "mnist":
        fake = image_outputs(samples)
        plots.save_class_histogram(class_histogram(np.argmax(fake.logits, axis=1)),
                                   os.path.join(out, HISTOGRAM_FILE), title=title)
        missed, columns = _missed_digits(fake, labels, reference, reference_labels, source)
        plots.save_image_grid(missed, os.path.join(out, MISSED_FILE), num_columns=columns,
                              title=f"{title}: real digits no sample reaches")
        written += [HISTOGRAM_FILE, MISSED_FILE]
    report = {**report, "plots": written}
    temporary_path = os.path.join(out, REPORT_FILE + ".tmp")
    with open(temporary_path, "w") as f:
        json.dump(report, f, indent=2)
    os.replace(temporary_path, os.path.join(out, REPORT_FILE))


def main(argv):
    del argv  # flags_parser refuses positional arguments
    chosen = [name for name in SOURCE_FLAGS if FLAGS[name].value]
    if len(chosen) != 1:
        given = f"; got {', '.join('--' + name for name in chosen)}" if chosen else ""
        fail(f"pass exactly one of --workdir, --saved_model, --server, --samples, --real{given}",
             USAGE)
    if FLAGS.server and not FLAGS.model_name:
        fail("--server needs --model_name", USAGE)
    check_fidelity_flags(FLAGS)
    with _open_source() as source:
        if source.dataset not in METRICS:
            fail(f"there are no metrics for the data set {source.dataset!r}; there are for "
                 f"{', '.join(METRICS)}", USAGE)
        if source.conditional and (source.dataset not in CONDITIONAL_KINDS
                                   or source.class_names is None):
            fail(f"per-class metrics of a conditional generator need its classes and a data "
                 f"set with a judge ({', '.join(CONDITIONAL_KINDS)}); got {source.dataset!r}",
                 USAGE)
        # Before the samples: a missing file fails at once.
        reference, reference_labels = _reference(source)
        labels = (balanced_labels(FLAGS.num_samples, len(source.class_names))
                  if source.conditional else None)
        if not isinstance(source, ArraySource):
            _progress(f"drawing {FLAGS.num_samples} samples from the "
                      f"{source.location['type'].replace('_', ' ')}")
        try:
            samples = source.sample(FLAGS.num_samples, FLAGS.seed, labels, FLAGS.truncation,
                                    FLAGS.rejection)
        except ValueError as error:  # more samples than an array holds
            fail(_one_line(error), USAGE)
        except ServingError as error:
            fail(_one_line(error), FAILURE)
    _progress(f"measuring {len(samples)} samples")
    def progress(stage):
        _progress(f"  {stage}")

    try:
        if source.conditional:
            metrics = evaluate_per_class(samples, labels, source.dataset, source.class_names,
                                         reference=reference,
                                         reference_labels=reference_labels,
                                         progress_fn=progress)
        else:
            metrics = evaluate_samples(samples, source.dataset, reference=reference,
                                       progress_fn=progress)
    except ValueError as error:
        fail(_one_line(error), FAILURE)
    metrics = {name: _number(value) for name, value in metrics.items()}
    seed = None if FLAGS.samples else FLAGS.seed
    step = "" if source.step is None else f", step {source.step}"
    drawn = "" if seed is None else f", seed {seed}"
    print(f"{source.dataset} ({source.location['type']}{step}): {FLAGS.num_samples} "
          f"samples{drawn}")
    print(_table(metrics))
    if FLAGS.out:
        report = {
            "dataset": source.dataset,
            "kind": source.kind,
            "source": source.location,
            "step": source.step,
            "seed": seed,
            "num_samples": FLAGS.num_samples,
            "truncation": FLAGS.truncation,
            "rejection": FLAGS.rejection,
            "metrics": metrics,
        }
        _write_outputs(FLAGS.out, report, samples, labels, reference, reference_labels,
                       source)
        print(f"wrote {os.path.join(FLAGS.out, REPORT_FILE)}")


def run(argv=None):
    """The `tfgan-evaluate` entry point."""
    run_tool(main, FLAGS, __doc__, argv=argv, groups=GROUPS)


if __name__ == "__main__":
    run()
