"""Training speed against a plain TF2 loop and the machine's matmul peak, in one run.

    python scripts/bench_train.py --out=runs/bench_train.json   # MNIST from $MNIST_PATH

For each row (a preset at a batch size and precision) it alternates, `--repeats` times:

- trainer: `tfgan.training.train` on the preset, exactly as `scripts/train.py` runs it (its
  progress line, history.csv, TensorBoard, sample grids and checkpoints at the preset's
  intervals, steps per call chosen as a user gets them), timed by a callback from the first
  block after warm-up to the last step;
- plain: the same networks, loss, optimizers, data pipeline and batch as one
  `tf.function(jit_compile=True)` step (`--mixed_precision` rows: without XLA, which does not
  use the CPU's bf16 units) called from a Python loop over the batched `tf.data` iterator,
  nothing else;
- bound: the trainer's own `GAN.train_step` (compiled as the trainer compiles it) in one
  in-graph loop over one constant batch, without input pipeline or callbacks: what the
  trainer would reach if everything around the step were free. `bound / plain` is the best
  ratio the trainer can show on this machine;

and reports steps/s and images/s (median, min-max), the trainer's ratio to plain (by wall time,
and by this process's CPU time, which other jobs on the machine disturb less), the step's
FLOPs (`tfgan.flops`) as a share of the same run's float32 / bfloat16 2048x2048 matmul FLOP/s
(the precision of the row), and the process's peak RSS. A last check trains `mnist_mlp` for
`--leak_steps` steps and compares the RSS at step 1000 and at the end. It prints a table and
writes the figures as JSON to `--out`. About 9.5 minutes on a 2-core CPU.
"""

import json
import os
import resource
import statistics
import tempfile
import time

from absl import flags

from tfgan.cli.quiet import import_tensorflow_quietly

import_tensorflow_quietly()  # before anything imports TensorFlow
from tfgan.cli.errors import USAGE, fail  # noqa: E402
from tfgan.cli.flags import run_tool  # noqa: E402

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from tfgan import data as data_lib  # noqa: E402
from tfgan import flops as flops_lib  # noqa: E402
from tfgan import presets, training, training_loop  # noqa: E402

# (row name, preset, batch size, mixed precision, steps timed per repeat)
ROWS = (
    ("mnist_mlp", "mnist_mlp", 64, False, 2000),
    ("ring", "ring_tutorial", 100, False, 800),  # the tutorials' GAN: the plain loop has no R1
    ("mnist_dcgan b64 f32", "mnist_dcgan", 64, False, 24),
    ("mnist_dcgan b64 bf16", "mnist_dcgan", 64, True, 24),
    ("mnist_dcgan b256 f32", "mnist_dcgan", 256, False, 8),
    ("mnist_dcgan b256 bf16", "mnist_dcgan", 256, True, 8),
)
WARMUP_FRACTION = 0.2

FLAGS = flags.FlagValues()
flags.DEFINE_string("mnist_path", os.environ.get("MNIST_PATH"),
                    "Local MNIST (mnist.npz); unset: tensorflow-datasets.", flag_values=FLAGS)
flags.DEFINE_string("out", "bench_train.json", "Where the JSON figures go.", flag_values=FLAGS)
flags.DEFINE_integer("repeats", 2, "Alternating repeats of trainer and plain per row.",
                     lower_bound=1, flag_values=FLAGS)
flags.DEFINE_list("rows", [row[0].replace(" ", "_") for row in ROWS],
                  "Rows to run (names with _ for spaces).", flag_values=FLAGS)
flags.DEFINE_float("steps_scale", 1.0, "Multiplies every row's timed steps.", lower_bound=0.01,
                   flag_values=FLAGS)
flags.DEFINE_integer("leak_steps", 10000, "Steps of the RSS check (0: skip it).",
                     lower_bound=0, flag_values=FLAGS)


def rss_mb():
    """The process's resident set now, in MB."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class StepTimer(keras.callbacks.Callback):
    """Records `(model step, time)` at the end of every block of steps."""

    def __init__(self):
        super().__init__()
        self.marks = []

    def on_train_batch_end(self, batch, logs=None):
        self.marks.append((int(self.model.step.numpy()), _clocks()))


def _clocks():
    """(wall seconds, this process's CPU seconds) now."""
    return time.perf_counter(), time.process_time()


def _rates(steps, start, end):
    """(steps per wall second, steps per CPU second) between two `_clocks()` readings."""
    return steps / (end[0] - start[0]), steps / (end[1] - start[1])


def steady_rate(marks, total_steps):
    """`_rates` from the first mark past the warm-up to the last mark."""
    start = next(m for m in marks if m[0] >= WARMUP_FRACTION * total_steps)
    end = marks[-1]
    return _rates(end[0] - start[0], start[1], end[1])


def time_trainer(config):
    """`(steps/s, the trained GAN)` of one `tfgan.training.train` run in a fresh workdir."""
    with tempfile.TemporaryDirectory() as workdir:
        config.workdir = workdir
        timer = StepTimer()
        gan, _ = training.train(config, callbacks=[timer])
    return steady_rate(timer.marks, config.steps), gan


def plain_step(config, generator, discriminator, gan):
    """The row's train step written straight: alternating (1:1) or simultaneous updates."""
    d_optimizer, g_optimizer = gan.d_optimizer, gan.g_optimizer
    g_loss_fn, d_loss_fn = gan.generator_loss_fn, gan.discriminator_loss_fn
    seed = tf.random.Generator.from_seed(config.seed)
    sample_z = {"uniform": lambda n: seed.uniform((n, config.z_dim), -1.0, 1.0),
                "normal": lambda n: seed.normal((n, config.z_dim))}[config.prior]

    def d_update(real, z):
        with tf.GradientTape() as tape:
            d_loss = d_loss_fn(discriminator(real, training=True),
                               discriminator(generator(z, training=True), training=True))
        d_optimizer.apply(tape.gradient(d_loss, discriminator.trainable_weights),
                          discriminator.trainable_weights)

    def g_update(z):
        with tf.GradientTape() as tape:
            g_loss = g_loss_fn(discriminator(generator(z, training=True), training=True))
        g_optimizer.apply(tape.gradient(g_loss, generator.trainable_weights),
                          generator.trainable_weights)

    def alternating(real):
        d_update(real, sample_z(config.batch_size))
        g_update(sample_z(config.batch_size))

    def simultaneous(real):
        z = sample_z(config.batch_size)
        with tf.GradientTape() as d_tape, tf.GradientTape() as g_tape:
            fake_logits = discriminator(generator(z, training=True), training=True)
            d_loss = d_loss_fn(discriminator(real, training=True), fake_logits)
            g_loss = g_loss_fn(fake_logits)
        d_optimizer.apply(d_tape.gradient(d_loss, discriminator.trainable_weights),
                          discriminator.trainable_weights)
        g_optimizer.apply(g_tape.gradient(g_loss, generator.trainable_weights),
                          generator.trainable_weights)

    step = simultaneous if config.schedule == "simultaneous" else alternating
    return tf.function(step, jit_compile=not config.mixed_precision)


def load_data(config):
    """`(dataset, spec)` of the row, with the row's precision policy set."""
    training.set_precision_policy(config.mixed_precision)
    dataset, info = data_lib.load_dataset(
        config.dataset, batch_size=config.batch_size,
        value_range=training.data_value_range(config, "points" if config.dataset in
                                              data_lib.TOYS else "image"),
        seed=config.seed, mnist_path=config.mnist_path or None)
    return dataset, training.DataSpec.from_info(info)


def time_plain(config, spec, dataset):
    gan = training.build_gan(config, spec)
    step = plain_step(config, gan.generator, gan.discriminator, gan)
    iterator = iter(dataset)
    warmup = max(1, int(WARMUP_FRACTION * config.steps))
    for _ in range(warmup):
        step(next(iterator))
    gan.generator.weights[0].numpy()  # waits for the warm-up steps
    start = _clocks()
    for _ in range(config.steps - warmup):
        step(next(iterator))
    gan.generator.weights[0].numpy()
    return _rates(config.steps - warmup, start, _clocks())


def time_bound(config, spec, dataset):
    """Steps/s of the trainer's own step with nothing around it: `GAN.train_step` (XLA as
    the row's trainer compiles it) in one in-graph loop over one constant batch, no input
    pipeline, no callbacks. The trainer cannot beat it: it bounds the trainer's ratio."""
    gan = training.build_gan(config, spec)
    batch = next(iter(dataset))
    step = tf.function(gan.train_step, jit_compile=config.jit_compile)

    @tf.function
    def steps(num_steps):
        for _ in tf.range(num_steps):
            step(batch)

    warmup = max(1, int(WARMUP_FRACTION * config.steps))
    steps(tf.constant(warmup))
    gan.step.numpy()
    start = _clocks()
    steps(tf.constant(config.steps - warmup))
    gan.step.numpy()
    return _rates(config.steps - warmup, start, _clocks())


def matmul_flops_per_second(dtype, size=2048, repeats=10):
    """FLOP/s of a `size`-square matmul in `dtype` (TensorFlow's oneDNN kernel, no XLA)."""
    a = tf.cast(tf.random.normal((size, size)), dtype)
    b = tf.cast(tf.random.normal((size, size)), dtype)
    matmul = tf.function(lambda a, b: tf.matmul(a, b))
    matmul(a, b).numpy()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        matmul(a, b).numpy()
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best


def leak_check(mnist_path, steps):
    """RSS at step 1000 and at `steps` of a `mnist_mlp` run."""
    rss_at = {}

    class RSSAt(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            rss_at[int(self.model.step.numpy())] = rss_mb()

    config = presets.config("mnist_mlp", steps=steps, mnist_path=mnist_path or "")
    with tempfile.TemporaryDirectory() as workdir:
        config.workdir = workdir
        training.train(config, callbacks=[RSSAt()])
    first = min(step for step in rss_at if step >= 1000)
    return {"rss_mb_at_1000": rss_at[first], f"rss_mb_at_{steps}": rss_at[steps],
            "growth": rss_at[steps] / rss_at[first] - 1}


def summary(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def main(argv):
    del argv
    wanted = set(FLAGS.rows)
    rows = [row for row in ROWS if row[0].replace(" ", "_") in wanted]
    if not rows:
        fail(f"--rows names none of {', '.join(r[0].replace(' ', '_') for r in ROWS)}", USAGE)
    peaks = {"float32": matmul_flops_per_second(tf.float32),
             "bfloat16": matmul_flops_per_second(tf.bfloat16)}
    print(f"matmul 2048^3: float32 {peaks['float32'] / 1e9:.0f} GFLOP/s, "
          f"bfloat16 {peaks['bfloat16'] / 1e9:.0f} GFLOP/s", flush=True)
    results = {"matmul_flops_per_second": peaks, "rows": []}
    for name, preset, batch_size, mixed, steps in rows:
        config = presets.config(preset, batch_size=batch_size, mixed_precision=mixed,
                               steps=max(10, int(steps * FLAGS.steps_scale)),
                               mnist_path=FLAGS.mnist_path or "")
        row_start = time.perf_counter()
        dataset, spec = load_data(config)
        # Per way, per repeat: (steps per wall second, steps per CPU second).
        rates = {"trainer": [], "plain": [], "bound": []}
        for repeat in range(FLAGS.repeats):
            rate, gan = time_trainer(config)
            rates["trainer"].append(rate)
            if repeat == 0:
                step_flops = flops_lib.train_step_flops(gan, batch_size)
            rates["plain"].append(time_plain(config, spec, dataset))
            rates["bound"].append(time_bound(config, spec, dataset))
            print(f"  {name} repeat {repeat + 1}: " + ", ".join(
                f"{way} {values[-1][0]:.1f} steps/s ({values[-1][1]:.1f} per CPU-s)"
                for way, values in rates.items()), flush=True)
        row_seconds = time.perf_counter() - row_start
        trainer, plain, bound = ([wall for wall, _ in rates[way]]
                                 for way in ("trainer", "plain", "bound"))
        cpu = {way: statistics.median(c for _, c in values) for way, values in rates.items()}
        peak = peaks["bfloat16" if mixed else "float32"]
        results["rows"].append({
            "row": name, "preset": preset, "batch_size": batch_size,
            "precision": "mixed_bfloat16" if mixed else "float32",
            "steps_per_execution": training_loop.auto_steps_per_execution(step_flops),
            "trainer_steps_per_second": summary(trainer),
            "plain_steps_per_second": summary(plain),
            "bound_steps_per_second": summary(bound),
            "trainer_over_plain": statistics.median(trainer) / statistics.median(plain),
            "bound_over_plain": statistics.median(bound) / statistics.median(plain),
            "steps_per_cpu_second": cpu,
            "trainer_over_plain_by_cpu": cpu["trainer"] / cpu["plain"],
            "jit_compile": config.jit_compile,
            "images_per_second": statistics.median(trainer) * batch_size,
            "step_flops": step_flops,
            "fraction_of_peak": statistics.median(trainer) * step_flops / peak,
            "peak_rss_mb": peak_rss_mb(),
            "row_seconds": row_seconds,
        })
        print(f"  {name}: {row_seconds:.0f} s", flush=True)
    if FLAGS.leak_steps:
        results["leak_check"] = leak_check(FLAGS.mnist_path, FLAGS.leak_steps)
    print_table(results)
    with open(FLAGS.out, "w") as f:
        json.dump(results, f, indent=2)
    print(f"wrote {FLAGS.out}")


def print_table(results):
    header = (f"{'row':24} {'trainer steps/s':>22} {'plain steps/s':>22} {'ratio':>6} "
              f"{'bound':>7} {'ratio':>6} {'by CPU':>6} "
              f"{'images/s':>9} {'GFLOP/step':>10} {'of peak':>8} {'k':>4} {'RSS MB':>7}")
    print(header)
    for row in results["rows"]:
        t, p = row["trainer_steps_per_second"], row["plain_steps_per_second"]
        print(f"{row['row']:24} "
              f"{t['median']:8.1f} ({t['min']:.1f}-{t['max']:.1f})".ljust(47)
              + f"{p['median']:8.1f} ({p['min']:.1f}-{p['max']:.1f})".ljust(23)
              + f"{row['trainer_over_plain']:6.2f} "
              f"{row['bound_steps_per_second']['median']:7.1f} {row['bound_over_plain']:6.2f} "
              f"{row['trainer_over_plain_by_cpu']:6.2f} "
              f"{row['images_per_second']:9.0f} "
              f"{row['step_flops'] / 1e9:10.3f} {row['fraction_of_peak']:8.1%} "
              f"{row['steps_per_execution']:4d} {row['peak_rss_mb']:7.0f}")
    if "leak_check" in results:
        leak = results["leak_check"]
        print("RSS " + ", ".join(f"{k} {v:.3f}" if k == "growth" else f"{k} {v:.0f}"
                                 for k, v in leak.items()))


if __name__ == "__main__":
    run_tool(main, FLAGS, __doc__)
