import pytest

from tfgan import models
from tfgan.models import registry
from tfgan.models.dcgan import DCGANDiscriminator, DCGANGenerator
from tfgan.models.mlp import MLPDiscriminator, MLPGenerator


@pytest.mark.parametrize("architecture, data_shape, generator_class, discriminator_class", [
    ("mlp", (2,), MLPGenerator, MLPDiscriminator),
    ("dcgan", (28, 28, 1), DCGANGenerator, DCGANDiscriminator),
])
def test_builds_the_family(architecture, data_shape, generator_class, discriminator_class):
    generator = registry.build_generator(architecture, z_dim=3, data_shape=data_shape)
    discriminator = registry.build_discriminator(architecture, data_shape=data_shape)
    assert type(generator) is generator_class and type(discriminator) is discriminator_class
    assert generator.z_dim == 3 and generator.data_shape == data_shape
    assert discriminator.data_shape == data_shape


def test_passes_options_to_the_family():
    generator = registry.build_generator(
        "mlp", z_dim=2, data_shape=(2,), hidden_units=(16, 16), activation="leaky_relu",
        output_activation="linear")
    assert generator.get_config()["hidden_units"] == (16, 16)
    assert generator.output_activation == "linear"
    discriminator = registry.build_discriminator(
        "dcgan", data_shape=(32, 32, 3), width=0.5, dropout=0.1, minibatch_kernels=4)
    config = discriminator.get_config()
    assert (config["width"], config["dropout"], config["minibatch_kernels"]) == (0.5, 0.1, 4)


def test_family_errors_come_through():
    with pytest.raises(ValueError, match=r"Received: data_shape=\(2,\)$"):
        registry.build_generator("dcgan", z_dim=2, data_shape=(2,))
    with pytest.raises(ValueError, match="Received: hidden_units=-3$"):
        registry.build_discriminator("mlp", data_shape=(2,), hidden_units=-3)


@pytest.mark.parametrize("build", [
    lambda: registry.build_generator("gan", z_dim=2, data_shape=(2,)),
    lambda: registry.build_discriminator("gan", data_shape=(2,)),
])
def test_unknown_architecture(build):
    with pytest.raises(ValueError, match=(
            r"^architecture must be one of \('mlp', 'dcgan'\). Received: architecture='gan'$")):
        build()


@pytest.mark.parametrize("output_activation, expected", [
    ("sigmoid", (0.0, 1.0)), ("tanh", (-1.0, 1.0)), ("linear", None)])
def test_output_range(output_activation, expected):
    assert registry.output_range(output_activation) == expected


def test_unknown_output_activation():
    with pytest.raises(ValueError, match="Received: output_activation='relu'$"):
        registry.output_range("relu")


def test_package_re_exports():
    assert models.ARCHITECTURES == ("mlp", "dcgan")
    assert models.build_generator is registry.build_generator
    assert models.build_discriminator is registry.build_discriminator
    assert models.output_range is registry.output_range
