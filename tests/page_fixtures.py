"""What the sample page's browser tests serve, and how they judge a screenshot.

- `export_conditional_model(path)`: a hand-built conditional generator (`labels` and
  `truncation` inputs, as conditional exports will have) whose class is visible: in an image
  of class k, column k is the brightest.
- `export_toy_model(export_base, name)`: a `tfgan.export` export of a tiny generator and
  discriminator on a toy data set (`ring` or `gaussian_1d`), with its `real_samples`
  (optionally discriminator-guided: a `rejection` input on its sampling signatures).
- `export_guided_image_model(export_base, name)`: a tiny image GAN exported with
  discriminator-guided sampling (a `rejection` input on its sampling signatures).
- `image_spread(png_bytes)`: how far a screenshot is from blank.
"""

import functools
import io

import keras
import numpy as np
import tensorflow as tf
from export_fixtures import TinyDiscriminator, TinyGenerator

from tfgan import export as export_lib
from tfgan.data import toys

CONDITIONAL_Z_DIM = 3
CONDITIONAL_SIDE = 10
NUM_CLASSES = 10


def export_conditional_model(path):
    """Writes a conditional generator's SavedModel with tfgan's signature names to `path`.

    - `serving_default`: `z` float32 [-1, 3], `labels` int32 [-1] -> `samples` [-1, 10, 10, 1]
    - `sample`: `num_samples` int32 [], `seed` int64 [], `labels` int32 [] (one for all),
      `truncation` float32 [] -> `samples`, `z` (the seed's normal `z` times `truncation`)
    - `sample_seeds`: `seeds` int64 [-1], `labels` int32 [-1] -> `samples`, `z`

    A sample is a background in [0, 0.4] made from `z`, plus 0.6 on column `label`.
    """
    init = keras.initializers.RandomNormal(stddev=1.0, seed=7)
    background = keras.Sequential([
        keras.Input((CONDITIONAL_Z_DIM,)),
        keras.layers.Dense(CONDITIONAL_SIDE * CONDITIONAL_SIDE, activation="sigmoid",
                           kernel_initializer=init, bias_initializer=init),
        keras.layers.Reshape((CONDITIONAL_SIDE, CONDITIONAL_SIDE, 1)),
    ])

    def generate(z, labels):
        column = tf.one_hot(labels, CONDITIONAL_SIDE)[:, tf.newaxis, :, tf.newaxis]
        return {"samples": 0.4 * background(z, training=False) + 0.6 * column}

    def latent(seed, num_samples):
        seed_pair = tf.stack([tf.cast(seed, tf.int64), tf.constant(0, tf.int64)])
        return tf.random.stateless_normal(tf.stack([num_samples, CONDITIONAL_Z_DIM]), seed_pair)

    def sample(num_samples, seed, labels, truncation):
        z = latent(seed, num_samples) * truncation
        return {**generate(z, tf.fill([num_samples], labels)), "z": z}

    def sample_seeds(seeds, labels):
        z = tf.map_fn(lambda seed: latent(seed, 1)[0], seeds,
                      fn_output_signature=tf.TensorSpec([CONDITIONAL_Z_DIM], tf.float32))
        return {**generate(z, labels), "z": z}

    archive = keras.export.ExportArchive()
    archive.track(background)
    for name, fn, specs in (
        ("serving_default", generate,
         [tf.TensorSpec([None, CONDITIONAL_Z_DIM], tf.float32, name="z"),
          tf.TensorSpec([None], tf.int32, name="labels")]),
        ("sample", sample,
         [tf.TensorSpec([], tf.int32, name="num_samples"), tf.TensorSpec([], tf.int64, name="seed"),
          tf.TensorSpec([], tf.int32, name="labels"),
          tf.TensorSpec([], tf.float32, name="truncation")]),
        ("sample_seeds", sample_seeds,
         [tf.TensorSpec([None], tf.int64, name="seeds"),
          tf.TensorSpec([None], tf.int32, name="labels")]),
    ):
        archive.add_endpoint(name, fn, input_signature=specs)
    archive.write_out(str(path), verbose=False)


def export_toy_model(export_base, name, rejection_candidates=0):
    """Exports a tiny GAN for toy `name` as model `name`, version 1 (guided by its
    discriminator over `rejection_candidates` candidates when set); returns its model dir."""
    data_shape = toys.TOYS[name].data_shape
    generator = TinyGenerator(z_dim=2, data_shape=data_shape, output_activation="linear")
    discriminator = TinyDiscriminator(data_shape=data_shape)
    export_lib.export_generator(
        generator, export_base=str(export_base), model_name=name, prior="normal",
        value_range=None, discriminator=discriminator,
        real_data=functools.partial(toys.toy_samples, name),
        rejection_candidates=rejection_candidates)
    return export_base / name


def export_guided_image_model(export_base, name):
    """Exports a tiny 8x8 image GAN, guided by its discriminator over 4 candidates (a
    `rejection` input on its sampling signatures), as model `name`; returns its model dir."""
    export_lib.export_generator(
        TinyGenerator(z_dim=2, output_activation="sigmoid"), export_base=str(export_base),
        model_name=name, prior="normal", value_range=(0.0, 1.0),
        discriminator=TinyDiscriminator(), rejection_candidates=4)
    return export_base / name


def image_spread(png_bytes):
    """The standard deviation of a PNG's pixel values: 0 for a blank picture."""
    from PIL import Image

    return float(np.asarray(Image.open(io.BytesIO(png_bytes)).convert("RGB"), np.float32).std())
