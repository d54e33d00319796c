"""Generator and discriminator networks, and a registry that builds them by name."""

from tfgan.models.argument_validation import OUTPUT_ACTIVATIONS
from tfgan.models.class_mixture import ClassMixtureDiscriminator, ClassMixtureGenerator
from tfgan.models.conditional import (
    CLASSIFYING,
    CONDITIONINGS,
    AuxiliaryClassifierDiscriminator,
    ConcatDiscriminator,
    ProjectionDiscriminator,
    concat_shape,
    conditioned_discriminator,
)
from tfgan.models.conditional_batch_norm import ConditionalBatchNormalization
from tfgan.models.dcgan import DCGANDiscriminator, DCGANGenerator
from tfgan.models.minibatch import ClassStddev, MinibatchDiscrimination
from tfgan.models.mlp import HIDDEN_ACTIVATIONS, MLPDiscriminator, MLPGenerator
from tfgan.models.registry import (
    ARCHITECTURES,
    build_discriminator,
    build_generator,
    output_range,
)
from tfgan.models.spectral_norm import SpectralNorm
