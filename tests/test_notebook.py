"""Tests for tfgan.notebook: a GAN's samples as an inline figure."""

import numpy as np
import pytest

from tfgan import export, notebook, training
from tfgan.config import TrainConfig
from tfgan.models import ClassMixtureGenerator


@pytest.mark.parametrize("output_activation, spec", [
    ("sigmoid", training.DataSpec("image", (28, 28, 1), (0.0, 1.0))),
    ("tanh", training.DataSpec("image", (8, 8, 3), (-1.0, 1.0))),
])
def test_an_image_gan_shows_a_grid_of_its_export_samples(output_activation, spec):
    config = TrainConfig(workdir="unused", g_hidden_units=(8,), d_hidden_units=(8,),
                         output_activation=output_activation)
    gan = training.build_gan(config, spec)
    figure = notebook.sample_figure(gan, num_samples=9, seed=3)
    (image,) = figure.images
    grid = np.asarray(image.get_array())
    assert grid.min() >= 0.0 and grid.max() <= 1.0  # mapped onto [0, 1] as the export does
    assert figure.texts[0].get_text() == "step 0"
    assert figure._repr_png_().startswith(b"\x89PNG")


def test_a_point_gan_shows_a_histogram():
    config = TrainConfig(workdir="unused", dataset="gaussian_1d", z_dim=1, g_hidden_units=(8,),
                         d_hidden_units=(8,), output_activation="linear")
    gan = training.build_gan(config, training.DataSpec("points", (1,), None))
    (axes,) = notebook.sample_figure(gan, num_samples=200).axes
    assert sum(patch.get_height() for patch in axes.patches) > 0
    assert axes.get_title() == "step 0"


def test_a_conditional_gan_shows_its_class_mixture():
    config = TrainConfig(workdir="unused", dataset="ring", conditional=True, z_dim=2,
                         g_hidden_units=(8,), d_hidden_units=(8,), output_activation="linear")
    gan = training.build_gan(config, training.DataSpec("points", (2,), None, tuple("abcd")))
    (axes,) = notebook.sample_figure(gan, num_samples=50, seed=1).axes
    (points,) = axes.collections
    expected = export.sample_from_seed(ClassMixtureGenerator(gan.sampling_generator), 50, 1,
                                       prior=config.prior, value_range=None)["samples"]
    np.testing.assert_allclose(points.get_offsets(), expected, rtol=1e-6)
