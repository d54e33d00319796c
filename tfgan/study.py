"""The mode-collapse study: one preset, one remedy, several seeds, one row of a markdown table.

Seed 001 proposes remedies for mode collapse; this module measures them the way VEEGAN
(Srivastava et al. 2017, https://arxiv.org/abs/1705.07761) and PacGAN (Lin et al. 2018,
https://arxiv.org/abs/1712.04086) do. For a data set (`ring`, `grid`, `stacked_mnist`) and a
remedy (`REMEDIES`), every seed trains the data set's preset (`tfgan.presets`) plus the
remedy's options with `tfgan.training.train` in its own run directory, then samples the trained generator and
measures it with `tfgan.metrics`: modes captured, the fraction of high-quality samples and
PacGAN's reverse KL of the mode histogram on the toys (2500 samples), modes out of 1000 and the
KL of the class histogram from uniform on Stacked MNIST (26000 samples). `update_table` writes the row (mean ± sample standard deviation
over seeds, each seed's values, and the command that reproduces the row) into a markdown file,
replacing the row of the same data set and remedy and keeping everything else.

Every run directory gets a `study.json` with its measurements; a study run again reuses the
runs that are finished (same options) and resumes the others from their checkpoints.
"""

import dataclasses
import json
import os
import shlex
import time

import numpy as np
from tfgan import data, metrics, presets, priors, training
from tfgan.data import stacked_mnist

# Study data set (a row's name, its preset's name) -> the data it trains on.
# The `*_tutorial` presets are the tutorials' GAN with no remedy, the baseline the remedies are
# measured on; the others are the presets with their recipes. stacked_mnist_hard is PacGAN's
# and Metz et al.'s harder setting: a discriminator with a quarter of the generator's filters.
STUDY_DATA = {"ring_tutorial": "ring", "ring": "ring", "grid_tutorial": "grid", "grid": "grid",
              "stacked_mnist_tutorial": "stacked_mnist", "stacked_mnist": "stacked_mnist",
              "stacked_mnist_hard_tutorial": "stacked_mnist",
              "stacked_mnist_hard": "stacked_mnist"}
DATASETS = tuple(STUDY_DATA)
PACK = 4
# Remedy -> the training options it changes in the preset.
REMEDIES = {
    "plain": {},
    # Salimans et al. 2016, https://arxiv.org/abs/1606.03498 (seed 001).
    "minibatch": {"minibatch": True},
    # Seed 001: update only the currently worse network.
    "worse": {"schedule": "worse"},
    # Lin et al. 2018: D judges packs of `PACK`; as in PacGAN's code, D sees as many packs a
    # step as the preset's batch has samples (`training_config` scales the batch).
    "pack": {"pack": PACK},
    # Gulrajani et al. 2017, https://arxiv.org/abs/1704.00028: WGAN-GP's penalty, weight 10,
    # on the preset's non-saturating loss.
    "gradient_penalty": {"gradient_penalty_weight": 10.0},
    # Mescheder et al. 2018, https://arxiv.org/abs/1801.04406: the zero-centred R1 penalty on
    # real data, the one of the two that makes the game converge locally (WGAN-GP's
    # one-centred penalty does not; docs/mode_collapse.md).
    "r1": {"gradient_penalty": "r1", "gradient_penalty_weight": 0.1},
    # Seed 001's several adversaries (GMAN, Durugkar et al. 2017; MAD-GAN, Ghosh et al. 2018):
    # two generators sampled as a mixture, two discriminators, each network's loss the softmax-
    # weighted sum of its losses against the other side (GMAN's soft version, lambda 1).
    "adversaries": {"num_generators": 2, "num_discriminators": 2,
                    "adversary_weighting": "softmax"},
}
NUM_MODES = {"ring": len(data.ring_modes()), "grid": len(data.grid_modes()),
             "stacked_mnist": stacked_mnist.NUM_MODES}
# Samples measured per run: VEEGAN and PacGAN's counts.
NUM_SAMPLES = {"ring": 2500, "grid": 2500, "stacked_mnist": 26000}
RESULT_FILE = "study.json"
SCRIPT = "scripts/mode_collapse_study.py"
TABLE_BEGIN = "<!-- mode-collapse-table:begin -->"
TABLE_END = "<!-- mode-collapse-table:end -->"
TABLE_HEADER = (
    "| Data set | Remedy | Seeds | Steps | Modes captured | High-quality samples | "
    "KL to uniform | Per seed | Train min/run | Command |\n"
    "|---|---|---|---|---|---|---|---|---|---|\n"
)
NOT_RUN = "not run yet"
_GENERATE_BATCH = 1000


@dataclasses.dataclass(frozen=True)
class RunResult:
    """The measurements of one trained seed.

    Attributes:
        seed: int, the training seed.
        steps: int, the steps the generator was trained for.
        modes_captured: int, modes with at least one (high-quality) sample.
        high_quality_fraction: float in [0, 1] or None (toys only).
        kl: float or None, KL from uniform of the mode histogram (toys: PacGAN's reverse KL
            of the high-quality samples; Stacked MNIST: of the classified triples); None in
            results saved before toys had one.
        train_seconds: float, wall time of the training call that finished the run.
    """

    seed: int
    steps: int
    modes_captured: int
    high_quality_fraction: float | None
    kl: float | None
    train_seconds: float


def _check_choice(name, value, choices):
    if value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}. Received: {name}={value!r}")


def training_config(dataset, remedy, preset, overrides=None):
    """The `TrainConfig` of one study run, before its `workdir` and `seed` are set.

    Args:
        dataset: str, one of `DATASETS`.
        remedy: str, one of `REMEDIES`.
        preset: `TrainConfig` of the data set, e.g. `tfgan.presets.config("ring")`.
        overrides: dict of `TrainConfig` fields, or `None`; they win over the remedy's and
            the preset's options. Defaults to `None`.

    Returns:
        `TrainConfig`: `preset` with the remedy's options (for `"pack"`, also a batch of
        `PACK` times the preset's), then `overrides`.

    Raises:
        ValueError: unknown `dataset` or `remedy`.
    """
    _check_choice("dataset", dataset, DATASETS)
    _check_choice("remedy", remedy, REMEDIES)
    options = dict(REMEDIES[remedy])
    if remedy == "pack":
        options["batch_size"] = PACK * preset.batch_size
    return dataclasses.replace(preset, **{**options, **(overrides or {})})


def generate(gan, num_samples, prior, seed):
    """Samples `num_samples` from `gan.sampling_generator` with the seeded `z` of `seed`.

    The `z` and samples of `tfgan.export.sample_from_seed` (before its mapping onto [0, 1]),
    drawn in chunks of 1000 to bound memory, so `scripts/evaluate.py --seed=<seed>
    --num_samples=<num_samples>` on a run's checkpoint measures the same samples.

    Returns:
        float32 numpy array `[num_samples, *data_shape]` in the generator's range.
    """
    z = priors.stateless_prior(num_samples, gan.generator.z_dim, prior, seed)
    chunks = [gan.generate(z[start:start + _GENERATE_BATCH]).numpy()
              for start in range(0, num_samples, _GENERATE_BATCH)]
    return np.concatenate(chunks)


def measure(samples, dataset, value_range=None, classifier=None):
    """Modes captured, high-quality fraction (toys) or KL to uniform (Stacked MNIST).

    Args:
        samples: points `[n, 2]` in data units, or images `[n, 28, 28, 3]` in `value_range`.
        dataset: str, one of `DATASETS`.
        value_range: `(lo, hi)` of images, `None` for points. Defaults to `None`.
        classifier: `tfgan.metrics.MnistClassifier` for Stacked MNIST. Defaults to `None`
            (the committed one).

    Returns:
        dict with `modes_captured` (int), `high_quality_fraction` (float, toys; else None)
        and `kl` (float).
    """
    _check_choice("dataset", dataset, DATASETS)
    values = metrics.evaluate_samples(
        samples, STUDY_DATA[dataset], classifier=classifier, value_range=value_range or (0.0, 1.0))
    return {
        "modes_captured": int(values["modes_captured"]),
        "high_quality_fraction": values.get("high_quality_fraction"),
        "kl": values["reverse_kl"] if "reverse_kl" in values else values["class_kl"],
    }


def run_seed(dataset, remedy, seed, workdir, preset, overrides=None, num_samples=None,
             classifier=None, print_fn=None):
    """Trains (or resumes, or reuses) one seed of a study row and measures it.

    Args:
        dataset: str, one of `DATASETS`.
        remedy: str, one of `REMEDIES`.
        seed: int, the training seed (also the seed of the measured samples' `z`).
        workdir: str, the run directory of this seed.
        preset: `TrainConfig` of the data set's preset.
        overrides: dict of `TrainConfig` fields, or `None`; see `training_config`.
            Defaults to `None`.
        num_samples: int or None, samples to measure; `None` for `NUM_SAMPLES[dataset]`.
            Defaults to `None`.
        classifier: see `measure`. Defaults to `None`.
        print_fn: callable taking one str, told when training and measuring start, or
            `None`. Defaults to `None`.

    Returns:
        `RunResult`.

    Raises:
        ValueError, `tfgan.config.ConfigError`: bad options or a preset that does not fit.
        tfgan.data.DatasetUnavailableError: the data cannot be read.
    """
    config = dataclasses.replace(training_config(dataset, remedy, preset, overrides),
                                 seed=seed, workdir=workdir)
    if config.dataset != STUDY_DATA[dataset]:
        raise ValueError(
            f"the preset trains --dataset={config.dataset}, not {STUDY_DATA[dataset]}. "
            f"Received: preset.dataset={preset.dataset!r}")
    num_samples = num_samples or NUM_SAMPLES[STUDY_DATA[dataset]]
    result_path = os.path.join(workdir, RESULT_FILE)
    options = json.loads(config.to_json())
    trained_seconds = 0.0
    if os.path.exists(result_path):
        with open(result_path) as f:
            saved = json.load(f)
        if saved["options"] == options and saved["num_samples"] == num_samples:
            if saved["result"]["kl"] is not None:
                return RunResult(**saved["result"])
            # Saved before the toys had a KL: measured again, its training time kept.
            trained_seconds = saved["result"]["train_seconds"]
    progress = print_fn or (lambda line: None)
    progress(f"{dataset} {remedy} seed {seed}: training in {workdir}")
    start = time.monotonic()
    gan, _ = training.train(config)
    train_seconds = trained_seconds + time.monotonic() - start
    kind = "points" if STUDY_DATA[dataset] in data.TOYS else "image"
    value_range = training.data_value_range(config, kind)
    progress(f"{dataset} {remedy} seed {seed}: measuring {num_samples} samples")
    samples = generate(gan, num_samples, config.prior, seed)
    result = RunResult(seed=seed, steps=int(gan.step.numpy()), train_seconds=train_seconds,
                       **measure(samples, dataset, value_range, classifier))
    with open(result_path, "w") as f:
        json.dump({"options": options, "num_samples": num_samples,
                   "result": dataclasses.asdict(result)}, f, indent=2)
    return result


def study_command(dataset, remedy, seeds, overrides=None):
    """The shell command that reproduces a study row.

    Returns:
        str, e.g. `python scripts/mode_collapse_study.py --dataset=ring --remedy=pack
        --seeds=0,1,2 -- --steps=10000`.
    """
    words = ["python", SCRIPT, f"--dataset={dataset}", f"--remedy={remedy}",
             f"--seeds={','.join(str(s) for s in seeds)}"]
    if overrides:
        words += ["--", *presets.format_flags(overrides)]
    return shlex.join(words)


def _mean_spread(values, scale=1.0, digits=1):
    values = np.asarray(values, dtype="float64") * scale
    spread = values.std(ddof=1) if len(values) > 1 else 0.0
    return f"{values.mean():.{digits}f} ± {spread:.{digits}f}"


def format_row(dataset, remedy, results, overrides=None):
    """The markdown table row of a study: mean ± sample std over seeds, then each seed.

    Args:
        dataset: str, one of `DATASETS`.
        remedy: str, one of `REMEDIES`.
        results: non-empty list of `RunResult`, one per seed.
        overrides: dict of the row's extra `TrainConfig` options, or `None`. Defaults to
            `None`.

    Returns:
        str, one `| ... |` line (no newline).

    Raises:
        ValueError: `results` is empty.
    """
    if not results:
        raise ValueError(f"a row needs at least one seed. Received: results={results!r}")
    seeds = [r.seed for r in results]
    steps = sorted({r.steps for r in results})
    modes = _mean_spread([r.modes_captured for r in results])
    if STUDY_DATA[dataset] == "stacked_mnist":
        quality = "–"
        kl = _mean_spread([r.kl for r in results], digits=2)
        per_seed = ", ".join(f"{r.modes_captured} / {r.kl:.2f}" for r in results)
    else:
        quality = _mean_spread([r.high_quality_fraction for r in results], scale=100) + " %"
        kl = _mean_spread([r.kl for r in results], digits=3)
        per_seed = ", ".join(
            f"{r.modes_captured} / {100 * r.high_quality_fraction:.1f} % / {r.kl:.3f}"
            for r in results)
    minutes = np.mean([r.train_seconds for r in results]) / 60
    cells = [dataset, remedy, ",".join(map(str, seeds)), "/".join(map(str, steps)),
             f"{modes} of {NUM_MODES[STUDY_DATA[dataset]]}", quality, kl, per_seed, f"{minutes:.1f}",
             f"`{study_command(dataset, remedy, seeds, overrides)}`"]
    return "| " + " | ".join(cells) + " |"


def placeholder_row(dataset, remedy, seeds, overrides=None):
    """A table row for a study not run yet: its command and `NOT_RUN` for the values."""
    _check_choice("dataset", dataset, DATASETS)
    _check_choice("remedy", remedy, REMEDIES)
    cells = [dataset, remedy, ",".join(map(str, seeds)), "", NOT_RUN, NOT_RUN, NOT_RUN, "",
             "", f"`{study_command(dataset, remedy, seeds, overrides)}`"]
    return "| " + " | ".join(cells) + " |"


def _row_key(line):
    cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
    return tuple(cells[:2])


def _row_order(key):
    dataset, remedy = key
    remedies = tuple(REMEDIES)
    return (DATASETS.index(dataset) if dataset in DATASETS else len(DATASETS),
            remedies.index(remedy) if remedy in remedies else len(remedies), key)


def update_table(path, row, replace=True):
    """Writes a study row into the table of a markdown file, keeping every other row and line.

    The table lies between `TABLE_BEGIN` and `TABLE_END`; rows are keyed by their first two
    cells (data set, remedy) and kept in `DATASETS` x `REMEDIES` order. A file without the
    markers gets a table appended (a missing file is created).

    Args:
        path: str, the markdown file, e.g. `docs/mode_collapse.md`.
        row: str, a line from `format_row` or `placeholder_row`.
        replace: bool, replace a row with the same key; with `False` an existing row is kept
            (for placeholders). Defaults to `True`.
    """
    text = ""
    if os.path.exists(path):
        with open(path) as f:
            text = f.read()
    if TABLE_BEGIN not in text or TABLE_END not in text:
        text = text + ("\n" if text and not text.endswith("\n") else "")
        text += f"{TABLE_BEGIN}\n{TABLE_END}\n"
    before, rest = text.split(TABLE_BEGIN, 1)
    table, after = rest.split(TABLE_END, 1)
    header_lines = set(TABLE_HEADER.splitlines())
    rows = {_row_key(line): line.strip() for line in table.splitlines()
            if line.startswith("|") and line.strip() not in header_lines}
    key = _row_key(row)
    if replace or key not in rows:
        rows[key] = row
    body = "".join(rows[k] + "\n" for k in sorted(rows, key=_row_order))
    text = f"{before}{TABLE_BEGIN}\n{TABLE_HEADER}{body}{TABLE_END}{after}"
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def run_study(dataset, remedy, seeds, root, preset, table_path, overrides=None, num_samples=None,
              classifier=None, print_fn=print):
    """Trains and measures every seed of a row, then writes the row into `table_path`.

    Runs are serial, one training process at a time; seed `k` works in
    `<root>/<dataset>/<remedy>/seed<k>`.

    Args:
        dataset: str, one of `DATASETS`.
        remedy: str, one of `REMEDIES`.
        seeds: non-empty iterable of int.
        root: str, the parent of the run directories.
        preset: `TrainConfig` of the data set's preset.
        table_path: str, the markdown file of the table.
        overrides: dict of `TrainConfig` fields, or `None`; see `training_config`.
            Defaults to `None`.
        num_samples: int or None, see `run_seed`. Defaults to `None`.
        classifier: see `measure`. Defaults to `None`.
        print_fn: callable taking one str, for the progress lines of each seed. Defaults to
            `print`.

    Returns:
        `(results, row)`: the `RunResult` of each seed and the table row written.
    """
    seeds = [int(seed) for seed in seeds]
    results = []
    for seed in seeds:
        workdir = os.path.join(root, dataset, remedy, f"seed{seed}")
        result = run_seed(dataset, remedy, seed, workdir, preset, overrides, num_samples,
                          classifier, print_fn)
        results.append(result)
        quality = f"KL {result.kl:.3f}"
        if result.high_quality_fraction is not None:
            quality = f"high quality {100 * result.high_quality_fraction:.1f} %, {quality}"
        print_fn(f"{dataset} {remedy} seed {seed}: {result.modes_captured} modes, {quality}, "
                 f"{result.train_seconds / 60:.1f} min")
    row = format_row(dataset, remedy, results, overrides)
    update_table(table_path, row)
    return results, row
