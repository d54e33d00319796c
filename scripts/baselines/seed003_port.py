"""Seed 003's `gan_vanilla.py` ("GAN implementation in under 70 LOC") ported line for line to TF2.

    python scripts/baselines/seed003_port.py --mnist_path=mnist.npz --out=/tmp/seed003
    python scripts/evaluate.py --samples=/tmp/seed003/samples.npy --dataset=mnist \\
        --num_samples=10000 --mnist_path=mnist.npz --out=/tmp/seed003/eval

The baseline that the `configs/mnist_mlp.flags` preset is measured against: the tutorial's
GAN with nothing of tfgan's training machinery. G: z (100) ~ U(-1, 1) -> Dense 128 ReLU ->
Dense 784 -> sigmoid; D: 784 -> Dense 128 ReLU -> Dense 1 (a logit); Xavier (Glorot uniform)
kernels, zero biases. d_loss = BCE(D(x), 1) + BCE(D(G(z)), 0), g_loss = BCE(D(G(z)), 1) with
`tf.nn.sigmoid_cross_entropy_with_logits`. Two Adams with `tf.train.AdamOptimizer`'s defaults
(learning rate 1e-3, betas 0.9 / 0.999, epsilon 1e-8). Each iteration draws 64 training images
and 64 z, runs G and D forward once, takes both gradients from that one pass and applies both
(the seed's `sess.run([d_optimizer, g_optimizer])`), all in one `tf.function`; 30k iterations.

What it deliberately does NOT have: tfgan's GAN model, losses, schedules, priors, data
pipeline, checkpoints, EMA, logging, export or evaluation hooks. The only departures from the
seed are the ones TF2 or a fair comparison forces: MNIST comes from a Keras-layout `mnist.npz`
(all 60k training images, where TF1's `input_data` held 5k back for validation) instead of
`tensorflow.examples.tutorials.mnist`; batches are drawn like its `next_batch` (a fresh
permutation every epoch, batches running across epoch ends); the random streams are seeded
(`--seed`); and instead of a plot every 1000 iterations it prints the losses and speed every
1000 and draws the seed's 3x3 plot once at the end.

`--out` receives `samples.npy` (float32 `[num_samples, 28, 28, 1]` in [0, 1], from a fresh
z stream of `--seed` after training, for `scripts/evaluate.py --samples`) and `samples.png`
(the seed's 3x3 plot of the first nine). Bad flags are one error line and exit status 2;
MNIST that cannot be read, status 1.
"""

import os
import sys
import time

import numpy as np
from absl import flags

# This checkout's tfgan first, installed or not (see scripts/_checkout.py).
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__)))))
# tfgan.cli imports TensorFlow with its start-up log lines held back, so it comes first.
from tfgan.cli.errors import FAILURE, fail, require_existing
from tfgan.cli.flags import run_tool
from tfgan.data import DatasetUnavailableError, load_mnist_arrays
from tfgan.data.mnist import MNIST_PATH_HELP

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

hidden_dim = 128
img_dim = 28 * 28
batch = 64
z_dim = 100
PROGRESS_EVERY = 1000
SAMPLES_FILE = "samples.npy"
PLOT_FILE = "samples.png"

FLAGS = flags.FlagValues()
flags.DEFINE_string("mnist_path", None, "A Keras-layout mnist.npz (x_train, y_train, x_test, "
                    "y_test) or a folder with the four idx .gz files; unset: "
                    "tensorflow-datasets.", flag_values=FLAGS)
flags.DEFINE_integer("steps", 30000, "Training iterations (the seed's 30E3).", lower_bound=1,
                     flag_values=FLAGS)
flags.DEFINE_integer("seed", 0, "Seeds the initialisers, the batches, the training z and the "
                     "z of samples.npy.", flag_values=FLAGS)
flags.DEFINE_integer("num_samples", 10000, "Samples written to samples.npy after training.",
                     lower_bound=1, flag_values=FLAGS)
flags.DEFINE_string("out", None, "Directory for samples.npy and samples.png (required).",
                    flag_values=FLAGS)
GROUPS = {"data": ("mnist_path",), "run": ("steps", "seed", "num_samples", "out")}


def generator():
    """The seed's generator: z `[batch, 100]` -> sigmoid images, flattened `[batch, 784]`.

    Goodfellow et al. 2014, https://arxiv.org/abs/1406.2661.
    """
    return keras.Sequential([
        keras.Input((z_dim,)),
        keras.layers.Dense(hidden_dim, activation="relu", kernel_initializer="glorot_uniform",
                           name="G1"),
        keras.layers.Dense(img_dim, activation="sigmoid", kernel_initializer="glorot_uniform",
                           name="G2"),
    ], name="generator")


def discriminator():
    """The seed's discriminator: flattened images `[batch, 784]` -> logits `[batch, 1]`.

    Goodfellow et al. 2014, https://arxiv.org/abs/1406.2661.
    """
    return keras.Sequential([
        keras.Input((img_dim,)),
        keras.layers.Dense(hidden_dim, activation="relu", kernel_initializer="glorot_uniform",
                           name="D1"),
        keras.layers.Dense(1, kernel_initializer="glorot_uniform", name="D2"),
    ], name="discriminator")


def sample_z(rng, batch=batch, z_dim=z_dim):
    """The seed's `sample_z`: float32 `[batch, z_dim]` uniform on [-1, 1]."""
    return rng.uniform(-1.0, 1.0, size=[batch, z_dim]).astype(np.float32)


def next_batches(images, rng):
    """Yields batches like TF1's `DataSet.next_batch`: a new permutation every epoch."""
    order = rng.permutation(len(images))
    position = 0
    while True:
        if position + batch > len(order):
            order = np.concatenate([order[position:], rng.permutation(len(images))])
            position = 0
        yield images[order[position:position + batch]]
        position += batch


def make_train_step(G, D, d_optimizer, g_optimizer):
    """One iteration of the seed: one forward pass, both gradients, both Adam updates."""

    @tf.function
    def train_step(X, Z):
        with tf.GradientTape(persistent=True) as tape:
            g_z = G(Z, training=True)
            d_real = D(X, training=True)
            d_fake = D(g_z, training=True)
            d_loss_real = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
                logits=d_real, labels=tf.ones_like(d_real)))
            d_loss_fake = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
                logits=d_fake, labels=tf.zeros_like(d_fake)))
            d_loss = d_loss_real + d_loss_fake
            g_loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
                logits=d_fake, labels=tf.ones_like(d_fake)))
        theta_d, theta_g = D.trainable_variables, G.trainable_variables
        d_grads = tape.gradient(d_loss, theta_d)
        g_grads = tape.gradient(g_loss, theta_g)
        del tape
        d_optimizer.apply(d_grads, theta_d)
        g_optimizer.apply(g_grads, theta_g)
        return d_loss, g_loss

    return train_step


def plot(samples, path):
    """The seed's `plot`: the first nine samples in a 3x3 grid, written to `path`."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4, 4))
    FigureCanvasAgg(fig)
    gs = fig.add_gridspec(3, 3, wspace=0.05, hspace=0.05)
    for i, sample in enumerate(samples[:9]):
        ax = fig.add_subplot(gs[i])
        ax.axis("off")
        ax.set_xticklabels([])
        ax.set_yticklabels([])
        ax.set_aspect("equal")
        ax.imshow(sample.reshape(28, 28), cmap="Greys_r")
    fig.savefig(path, bbox_inches="tight")


def main(argv):
    del argv  # the parser refuses positional arguments
    if not FLAGS.out:
        fail("--out is required: the directory for samples.npy and samples.png")
    if FLAGS.mnist_path:
        require_existing("mnist_path", FLAGS.mnist_path, MNIST_PATH_HELP)
    try:
        images, _ = load_mnist_arrays("train", mnist_path=FLAGS.mnist_path)
    except DatasetUnavailableError as error:
        fail(" ".join(str(error).split()), FAILURE)
    images = images.reshape(-1, img_dim).astype(np.float32) / 255.0

    keras.utils.set_random_seed(FLAGS.seed)
    train_stream, sample_stream = np.random.SeedSequence(FLAGS.seed).spawn(2)
    rng = np.random.default_rng(train_stream)
    G, D = generator(), discriminator()
    # tf.train.AdamOptimizer()'s defaults; Keras's own epsilon default is 1e-7.
    d_optimizer = keras.optimizers.Adam(learning_rate=1e-3, epsilon=1e-8)
    g_optimizer = keras.optimizers.Adam(learning_rate=1e-3, epsilon=1e-8)
    train_step = make_train_step(G, D, d_optimizer, g_optimizer)

    batches = next_batches(images, rng)
    started = time.perf_counter()
    for i in range(FLAGS.steps):
        X_batch = next(batches)
        Z_batch = sample_z(rng)
        d_loss, g_loss = train_step(X_batch, Z_batch)
        if (i + 1) % PROGRESS_EVERY == 0 or i + 1 == FLAGS.steps:
            now = time.perf_counter()
            done = (i + 1) % PROGRESS_EVERY or PROGRESS_EVERY
            print(f"step {i + 1}/{FLAGS.steps}  d_loss {float(d_loss):.4f}  "
                  f"g_loss {float(g_loss):.4f}  {done / (now - started):.0f} steps/s",
                  flush=True)
            started = now

    Z = sample_z(np.random.default_rng(sample_stream), batch=FLAGS.num_samples)
    samples = G.predict(Z, batch_size=1000, verbose=0).reshape(-1, 28, 28, 1)
    os.makedirs(FLAGS.out, exist_ok=True)
    np.save(os.path.join(FLAGS.out, SAMPLES_FILE), samples.astype(np.float32))
    plot(samples, os.path.join(FLAGS.out, PLOT_FILE))
    print(f"wrote {os.path.join(FLAGS.out, SAMPLES_FILE)} and {PLOT_FILE}")


if __name__ == "__main__":
    run_tool(main, FLAGS, __doc__, groups=GROUPS)
