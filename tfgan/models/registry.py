"""Builds a generator or a discriminator from an architecture name.

`ARCHITECTURES` lists the families; `output_range` tells the data pipeline which range to
scale images to so that real samples match the generator's output activation.
"""

from tfgan.models.argument_validation import OUTPUT_ACTIVATIONS, check_choice
from tfgan.models.dcgan import DCGANDiscriminator, DCGANGenerator
from tfgan.models.mlp import MLPDiscriminator, MLPGenerator

ARCHITECTURES = ("mlp", "dcgan")
_GENERATORS = {"mlp": MLPGenerator, "dcgan": DCGANGenerator}
_DISCRIMINATORS = {"mlp": MLPDiscriminator, "dcgan": DCGANDiscriminator}
_OUTPUT_RANGES = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0), "linear": None}


def build_generator(architecture, *, z_dim, data_shape, **options):
    """Builds the generator of an architecture family.

    Args:
        architecture: str, one of `ARCHITECTURES`.
        z_dim: int, size of the latent vector.
        data_shape: tuple of ints, shape of one sample.
        **options: the family's other constructor arguments (`MLPGenerator`:
            `hidden_units`, `activation`, `output_activation`; `DCGANGenerator`: `width`,
            `output_activation`).

    Returns:
        An unbuilt `MLPGenerator` or `DCGANGenerator`.

    Raises:
        ValueError: unknown `architecture`, or an argument the family rejects.
    """
    check_choice("architecture", architecture, ARCHITECTURES)
    return _GENERATORS[architecture](z_dim=z_dim, data_shape=data_shape, **options)


def build_discriminator(architecture, *, data_shape, **options):
    """Builds the discriminator of an architecture family.

    Args:
        architecture: str, one of `ARCHITECTURES`.
        data_shape: tuple of ints, shape of one sample.
        **options: the family's other constructor arguments (`MLPDiscriminator`:
            `hidden_units`, `activation`, `feature_units`, `minibatch_kernels`,
            `minibatch_kernel_dim`, `spectral_norm`; `DCGANDiscriminator`: `width`, `dropout`,
            `minibatch_kernels`, `minibatch_kernel_dim`, `spectral_norm`).

    Returns:
        An unbuilt `MLPDiscriminator` or `DCGANDiscriminator`.

    Raises:
        ValueError: unknown `architecture`, or an argument the family rejects.
    """
    check_choice("architecture", architecture, ARCHITECTURES)
    return _DISCRIMINATORS[architecture](data_shape=data_shape, **options)


def output_range(output_activation):
    """Returns the `(low, high)` range of a generator's output activation.

    Args:
        output_activation: str, one of `OUTPUT_ACTIVATIONS`.

    Returns:
        `(0.0, 1.0)` for `"sigmoid"`, `(-1.0, 1.0)` for `"tanh"`, `None` for `"linear"`
        (samples are in data units).

    Raises:
        ValueError: unknown `output_activation`.
    """
    check_choice("output_activation", output_activation, OUTPUT_ACTIVATIONS)
    return _OUTPUT_RANGES[output_activation]
