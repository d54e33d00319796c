"""A GAN in a notebook: its samples as a figure that shows inline."""

from tfgan import export as export_lib
from tfgan import models, plots


def sample_figure(gan, num_samples=16, seed=0, reference=None):
    """Samples of `gan` drawn as a figure: an image grid, or a plot of points.

    The samples are those of the export's `sample` signature for `seed`
    (`tfgan.export.sample_from_seed` on the sampling generator, the EMA copy if any), so
    the same seed shows the same samples as a server of the export. A class-conditional GAN
    shows its class-balanced mixture (`tfgan.models.ClassMixtureGenerator`), the samples of
    an export with `draw_labels`.

    Args:
        gan: a `tfgan.gan.GAN`.
        num_samples: int, samples to draw. Defaults to `16`.
        seed: int, the seed of their `z`. Defaults to `0`.
        reference: float array `[m, d]` of real points drawn underneath, or `None` (images
            ignore it). Defaults to `None`.

    Returns:
        `matplotlib.figure.Figure` titled with the GAN's step; a notebook shows it inline.

    Example:

    ```python
    gan, workdir = tfgan.train(tfgan.presets.config("mnist_mlp", workdir="runs/mnist"))
    tfgan.sample_figure(gan, num_samples=64)
    ```
    """
    generator = gan.sampling_generator
    if gan.num_classes:
        generator = models.ClassMixtureGenerator(generator)
    samples = export_lib.sample_from_seed(
        generator, num_samples, seed, prior=gan.prior,
        value_range=models.output_range(gan.generator.output_activation))["samples"]
    return plots.samples_figure(samples.numpy(), reference,
                                title=f"step {int(gan.step.numpy())}")
