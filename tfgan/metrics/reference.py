"""`load_reference`: the real data a data set's metrics compare generated samples with."""

from tfgan.data.mnist import load_mnist_arrays
from tfgan.metrics.evaluate import image_outputs
from tfgan.metrics.registry import get_metrics


def load_reference(dataset, num_images, mnist_path=None, data_dir=None, classifier=None,
                   with_labels=False):
    """Computes, once, the `reference` that `evaluate_samples` needs for a data set.

    Only `"mnist"` compares with real images: the classifier outputs of the first
    `num_images` digits of the MNIST test split (all of them when the split is smaller).
    Every other kind of `tfgan.metrics.METRICS` measures against its known distribution
    (the toys' modes and curves, Stacked MNIST's 1000 uniform classes), so it needs none.

    Args:
        dataset: str, a kind of `tfgan.metrics.METRICS`, e.g. `"mnist"` or `"ring"`.
        num_images: int >= 1, how many test digits to use for `"mnist"`; usually the number
            of generated samples, so both sets have the same size.
        mnist_path: str or `None`, a local MNIST, see `tfgan.data.load_mnist_arrays`.
            Defaults to `None`.
        data_dir: str or `None`, the tensorflow-datasets data directory. Defaults to `None`.
        classifier: `MnistClassifier` or `None` (the committed one). Defaults to `None`.
        with_labels: bool, also return the real digits' labels (per-class metrics).
            Defaults to `False`.

    Returns:
        `tfgan.metrics.ImageOutputs` of the real digits for `"mnist"`, `None` otherwise; with
        `with_labels`, the pair `(that, labels)`, labels an int array for `"mnist"`, else
        `None`.

    Raises:
        ValueError: `dataset` has no metrics, or `num_images` < 1.
        tfgan.data.DatasetUnavailableError: MNIST cannot be read or downloaded.
    """
    get_metrics(dataset)
    if num_images < 1:
        raise ValueError(f"num_images must be at least 1. Received: num_images={num_images}")
    if dataset != "mnist":
        return (None, None) if with_labels else None
    images, labels = load_mnist_arrays("test", mnist_path=mnist_path, data_dir=data_dir)
    outputs = image_outputs(images[:num_images], classifier)
    return (outputs, labels[:num_images]) if with_labels else outputs
