import re

import keras
import numpy as np
import pytest

from tfgan.models.dcgan import DCGANDiscriminator, DCGANGenerator

# A small width keeps the networks tiny: 32, 16 and 8 filters in G, 8 and 16 in D.
WIDTH = 0.125
BATCH = 2
Z_DIM = 8
IMAGE_SHAPES = [(28, 28, 1), (28, 28, 3), (32, 32, 1), (32, 32, 3)]


@pytest.fixture
def mixed_bfloat16():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    yield
    keras.mixed_precision.set_global_policy("float32")


def _z(seed=0):
    return np.random.default_rng(seed).normal(size=(BATCH, Z_DIM)).astype("float32")


def _images(data_shape, seed=1):
    return np.random.default_rng(seed).uniform(-1, 1, (BATCH, *data_shape)).astype("float32")


@pytest.mark.parametrize("data_shape", IMAGE_SHAPES)
@pytest.mark.parametrize("minibatch_kernels", [0, 3])
def test_shapes(data_shape, minibatch_kernels):
    generator = DCGANGenerator(Z_DIM, data_shape, width=WIDTH)
    images = generator(_z())
    assert tuple(images.shape) == (BATCH, *data_shape)
    discriminator = DCGANDiscriminator(data_shape, width=WIDTH,
                                       minibatch_kernels=minibatch_kernels)
    assert tuple(discriminator(images).shape) == (BATCH, 1)
    quarter = data_shape[0] // 4
    assert tuple(discriminator.features(images).shape) == (BATCH, quarter * quarter * 16)


@pytest.mark.parametrize("data_shape, grid", [((28, 28, 1), 7), ((32, 32, 3), 8)])
def test_generator_follows_the_tutorial(data_shape, grid):
    generator = DCGANGenerator(Z_DIM, data_shape, width=1.0)
    generator(_z())
    dense = generator.project.layers[0]
    assert tuple(dense.kernel.shape) == (Z_DIM, grid * grid * 256) and not dense.use_bias
    convs = [block.layers[0] for block in generator.upsample.layers] + [generator.to_image]
    assert [(c.filters, c.kernel_size, c.strides) for c in convs] == [
        (128, (5, 5), (1, 1)), (64, (5, 5), (2, 2)), (data_shape[-1], (5, 5), (2, 2))]
    assert generator.project.layers[2].negative_slope == pytest.approx(0.3)


def test_discriminator_follows_the_tutorial():
    discriminator = DCGANDiscriminator((28, 28, 1))
    discriminator(_images((28, 28, 1)))
    convs = [block.layers[0] for block in discriminator.downsample.layers]
    assert [(c.filters, c.kernel_size, c.strides) for c in convs] == [
        (64, (5, 5), (2, 2)), (128, (5, 5), (2, 2))]
    assert [block.layers[2].rate for block in discriminator.downsample.layers] == [0.3, 0.3]
    assert tuple(discriminator.logit_layer.kernel.shape) == (7 * 7 * 128, 1)


@pytest.mark.parametrize("width, g_filters, d_filters", [(0.5, 128, 32), (2.0, 512, 128)])
def test_width_scales_filters(width, g_filters, d_filters):
    generator = DCGANGenerator(Z_DIM, (28, 28, 1), width=width)
    discriminator = DCGANDiscriminator((28, 28, 1), width=width)
    assert generator.project.layers[-1].target_shape == (7, 7, g_filters)
    assert generator.to_image.filters == 1
    assert discriminator.downsample.layers[0].layers[0].filters == d_filters


def test_kernel_size_sets_every_kernel_and_refuses_even_sides():
    generator = DCGANGenerator(Z_DIM, (28, 28, 1), width=WIDTH, kernel_size=3)
    discriminator = DCGANDiscriminator((28, 28, 1), width=WIDTH, kernel_size=3)
    assert generator(_z()).shape == (len(_z()), 28, 28, 1)
    discriminator(_images((28, 28, 1)))
    kernels = [layer.kernel_size for layer in generator._flatten_layers()
               if isinstance(layer, keras.layers.Conv2DTranspose)]
    kernels += [block.layers[0].kernel_size for block in discriminator.downsample.layers]
    assert kernels == [(3, 3)] * 5
    assert DCGANGenerator.from_config(generator.get_config()).kernel_size == 3
    for bad in (4, 0, 2.0, True):
        with pytest.raises(ValueError, match="kernel_size must be an odd int"):
            DCGANDiscriminator((28, 28, 1), kernel_size=bad)


@pytest.mark.parametrize("output_activation, low, high", [("tanh", -1, 1), ("sigmoid", 0, 1)])
def test_output_range(output_activation, low, high):
    generator = DCGANGenerator(Z_DIM, (28, 28, 1), width=WIDTH,
                               output_activation=output_activation)
    images = generator(50 * _z()).numpy()
    assert images.min() >= low and images.max() <= high


def test_training_flag_reaches_dropout_and_batch_norm():
    discriminator = DCGANDiscriminator((28, 28, 1), width=WIDTH, dropout=0.5)
    images = _images((28, 28, 1))
    np.testing.assert_array_equal(discriminator.features(images),
                                  discriminator.features(images, training=False))
    assert not np.allclose(discriminator.features(images, training=True),
                           discriminator.features(images))
    generator = DCGANGenerator(Z_DIM, (28, 28, 1), width=WIDTH)
    # Untrained moving statistics (mean 0, variance 1) differ from the batch's own.
    assert not np.allclose(generator(_z(), training=True), generator(_z(), training=False))


def test_minibatch_sits_between_features_and_logit():
    discriminator = DCGANDiscriminator((28, 28, 1), width=WIDTH, minibatch_kernels=4,
                                       minibatch_kernel_dim=2)
    discriminator(_images((28, 28, 1)))
    assert tuple(discriminator.minibatch.kernel.shape) == (7 * 7 * 16, 8)
    assert tuple(discriminator.logit_layer.kernel.shape) == (7 * 7 * 16 + 4, 1)


@pytest.mark.parametrize("data_shape", [(28, 28, 1), (32, 32, 3)])
def test_float32_outputs_under_mixed_precision(data_shape, mixed_bfloat16):
    generator = DCGANGenerator(Z_DIM, data_shape, width=WIDTH)
    discriminator = DCGANDiscriminator(data_shape, width=WIDTH, minibatch_kernels=3)
    images = generator(_z())
    assert generator.to_image.compute_dtype == "bfloat16"
    assert images.dtype == "float32"
    assert discriminator(images).dtype == "float32"


@pytest.mark.parametrize("data_shape", [(28, 28, 1), (32, 32, 3)])
def test_config_round_trip(data_shape):
    for model, inputs in [
        (DCGANGenerator(Z_DIM, data_shape, width=WIDTH, output_activation="sigmoid"), _z()),
        (DCGANDiscriminator(data_shape, width=WIDTH, dropout=0.2, minibatch_kernels=2),
         _images(data_shape)),
    ]:
        config = model.get_config()
        clone = type(model).from_config(config)
        assert clone.get_config() == config
        model(inputs)
        clone(inputs)
        clone.set_weights(model.get_weights())
        np.testing.assert_allclose(clone(inputs), model(inputs), rtol=1e-5, atol=1e-6)


def test_attributes_and_config_values():
    generator = DCGANGenerator(Z_DIM, [32, 32, 3], width=WIDTH)
    assert generator.z_dim == Z_DIM and generator.data_shape == (32, 32, 3)
    assert generator.output_activation == "tanh"
    assert {k: generator.get_config()[k] for k in ("z_dim", "data_shape", "width")} == {
        "z_dim": Z_DIM, "data_shape": (32, 32, 3), "width": WIDTH}
    discriminator = DCGANDiscriminator((32, 32, 3), minibatch_kernels=5)
    assert discriminator.data_shape == (32, 32, 3)
    assert {k: discriminator.get_config()[k] for k in (
        "width", "dropout", "minibatch_kernels", "minibatch_kernel_dim")} == {
        "width": 1.0, "dropout": 0.3, "minibatch_kernels": 5, "minibatch_kernel_dim": 3}


def test_saved_model_file_round_trip(tmp_path):
    generator = DCGANGenerator(Z_DIM, (28, 28, 1), width=WIDTH)
    images = generator(_z())
    generator.save(tmp_path / "g.keras")
    restored = keras.saving.load_model(tmp_path / "g.keras")
    assert isinstance(restored, DCGANGenerator)
    np.testing.assert_allclose(restored(_z()), images, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("model_class", [DCGANGenerator, DCGANDiscriminator])
@pytest.mark.parametrize("data_shape", [(2,), (64, 64, 3), (28, 32, 1), (28, 28)])
def test_unsupported_shapes(model_class, data_shape):
    args = (Z_DIM, data_shape) if model_class is DCGANGenerator else (data_shape,)
    message = (r"^DCGAN supports data_shape \(28, 28, C\) or \(32, 32, C\) images. "
               rf"Received: data_shape={re.escape(repr(data_shape))}$")
    with pytest.raises(ValueError, match=message):
        model_class(*args)


@pytest.mark.parametrize("kwargs, message", [
    (dict(width=0), "width must be a number > 0. Received: width=0"),
    (dict(width=-0.5), "width must be a number > 0. Received: width=-0.5"),
    (dict(dropout=1.0), r"dropout must be a number in \[0, 1\). Received: dropout=1.0"),
    (dict(minibatch_kernels=-2), "Received: minibatch_kernels=-2"),
])
def test_discriminator_rejects(kwargs, message):
    with pytest.raises(ValueError, match=f"{message}$"):
        DCGANDiscriminator((28, 28, 1), **kwargs)


@pytest.mark.parametrize("kwargs, message", [
    (dict(z_dim=-1), "z_dim must be a positive integer. Received: z_dim=-1"),
    (dict(width=0.0), "width must be a number > 0. Received: width=0.0"),
    (dict(output_activation="relu"), "Received: output_activation='relu'"),
])
def test_generator_rejects(kwargs, message):
    with pytest.raises(ValueError, match=f"{message}$"):
        DCGANGenerator(**{"z_dim": Z_DIM, "data_shape": (28, 28, 1), **kwargs})
