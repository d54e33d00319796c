"""What a generator learned of the toy distributions: modes, moments, distance to the curve."""

import collections

import numpy as np

from tfgan.data.toys import GAUSSIAN_1D_MEAN, GAUSSIAN_1D_STD, quadratic_curve
from tfgan.metrics.checks import check_features, check_same_width
from tfgan.metrics.class_histogram import kl_from_uniform

ModeCoverage = collections.namedtuple(
    "ModeCoverage", ["modes_captured", "high_quality_fraction", "mode_counts", "reverse_kl"])
MomentError = collections.namedtuple("MomentError", ["mean_error", "std_error"])


def mode_coverage(samples, modes, std, num_std=3.0, min_samples=1):
    """Modes captured and fraction of high-quality samples on a mixture of Gaussians.

    The measures of Srivastava et al. 2017 (VEEGAN, https://arxiv.org/abs/1705.07761,
    section 5.1), also used by Lin et al. 2018 (PacGAN, https://arxiv.org/abs/1712.04086,
    section 4.1) on the ring of 8 and the grid of 25 Gaussians (both score 2500 samples):

    - a sample is *high quality* if it lies within `num_std` (3) standard deviations of the
      nearest mode centre: ||x - mu_nearest|| <= num_std * std;
    - a mode is *captured* if it is the nearest mode of at least `min_samples` high-quality
      samples. VEEGAN and PacGAN's code count a mode with a single sample (`min_samples=1`);
      raise it to ignore stray samples;
    - the *reverse KL* is PacGAN's (section 4.1, Table 1): KL(p || u) of the histogram `p` of
      the high-quality samples over the modes from the data's uniform mixture `u`,
      `sum_k p_k log(p_k K)`: 0 when every mode holds as many, log K when one holds all.

    Args:
        samples: float array `[n, d]` of generated points.
        modes: float array `[num_modes, d]` of mode centres (e.g. `tfgan.data.toys.ring_modes()`).
        std: float > 0, the standard deviation of every mode (e.g. `RING_STD`).
        num_std: float > 0, the high-quality radius in standard deviations. Defaults to `3.0`.
        min_samples: int >= 1, the high-quality samples a mode needs to count as captured.
            Defaults to `1`.

    Returns:
        `ModeCoverage(modes_captured, high_quality_fraction, mode_counts, reverse_kl)`: an
        int, a float in [0, 1], an int numpy array `[num_modes]` of high-quality samples per
        mode, and a float in [0, log num_modes] (inf without a high-quality sample).

    Raises:
        ValueError: empty `samples`, widths that differ, or `std`, `num_std` or `min_samples`
            out of range.
    """
    samples = check_features(samples, "samples", 1)
    modes = check_features(modes, "modes", 1)
    check_same_width(samples, modes, ("samples", "modes"))
    if std <= 0 or num_std <= 0:
        raise ValueError(
            f"std and num_std must be positive. Received: std={std}, num_std={num_std}")
    if min_samples < 1:
        raise ValueError(f"min_samples must be at least 1. Received: min_samples={min_samples}")
    distances = np.linalg.norm(samples[:, None, :] - modes[None, :, :], axis=2)
    nearest = np.argmin(distances, axis=1)
    high_quality = distances[np.arange(len(samples)), nearest] <= num_std * std
    mode_counts = np.bincount(nearest[high_quality], minlength=len(modes))
    total = mode_counts.sum()
    return ModeCoverage(
        modes_captured=int(np.sum(mode_counts >= min_samples)),
        high_quality_fraction=float(np.mean(high_quality)),
        mode_counts=mode_counts,
        reverse_kl=kl_from_uniform(mode_counts / total) if total else float("inf"),
    )


def nearest_mode(samples, modes):
    """The index of the mode centre nearest each sample: `[n]` int (a toy's "classifier",
    judging which mode a conditional generator's sample fell in).

    Args:
        samples: float array `[n, d]` of points.
        modes: float array `[num_modes, d]` of mode centres.

    Returns:
        int numpy array `[n]` in `[0, num_modes)`.

    Raises:
        ValueError: empty `samples`, or widths that differ.
    """
    samples = check_features(samples, "samples", 1)
    modes = check_features(modes, "modes", 1)
    check_same_width(samples, modes, ("samples", "modes"))
    return np.argmin(np.linalg.norm(samples[:, None, :] - modes[None, :, :], axis=2), axis=1)


def moment_error(samples, mean=GAUSSIAN_1D_MEAN, std=GAUSSIAN_1D_STD):
    """Absolute errors of the sample mean and standard deviation of a 1-D Gaussian.

    For seed 001's target N(4, 0.5^2) (Goodfellow et al. 2014,
    https://arxiv.org/abs/1406.2661, as in John Glover's 1-D GAN tutorial):

        mean_error = |mean(x) - mean|,   std_error = |std(x) - std|   (std with ddof=0).

    Args:
        samples: float array `[n, 1]` or `[n]` of generated values, n >= 1.
        mean: float, the target mean. Defaults to `GAUSSIAN_1D_MEAN` (4.0).
        std: float, the target standard deviation. Defaults to `GAUSSIAN_1D_STD` (0.5).

    Returns:
        `MomentError(mean_error, std_error)` of floats.

    Raises:
        ValueError: `samples` is empty or has more than one value per sample.
    """
    values = np.asarray(samples, dtype="float64")
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim != 1 or not len(values):
        raise ValueError(
            "samples must have shape [n, 1] or [n], n >= 1. "
            f"Received: samples.shape={np.shape(samples)}")
    return MomentError(float(abs(values.mean() - mean)), float(abs(values.std() - std)))


def curve_distance(points):
    """Mean Euclidean distance from points to seed 000's curve y = 10 + x^2.

    The true geometric distance, not the vertical gap |y - 10 - x^2|: at |x| ~ 50 the curve
    has slope ~100, so a point a hair to the side of it has a vertical gap of hundreds while
    it lies on the curve to the eye. The foot (t, 10 + t^2) of the perpendicular from (x, y)
    minimises (x - t)^2 + (y - 10 - t^2)^2, whose derivative vanishes where

        2 t^3 + (1 - 2 (y - 10)) t - x = 0;

    the three roots come from the eigenvalues of the cubic's companion matrix, and the
    distance is the smallest over their real parts (the real root gives the minimum; a
    complex pair's real part can only give a larger value).

    Args:
        points: float array `[n, 2]` of `(x, y)` points, n >= 1.

    Returns:
        float, the mean distance over the points, in data units (0 for points on the curve).

    Raises:
        ValueError: `points` is not `[n, 2]` with n >= 1.
    """
    points = check_features(points, "points", 1)
    if points.shape[1] != 2:
        raise ValueError(f"points must have shape [n, 2]. Received: points.shape={points.shape}")
    x, y = points[:, 0], points[:, 1]
    offset = quadratic_curve(0.0)
    # Monic form t^3 + 0 t^2 + b t + c with b = (1 - 2 (y - offset)) / 2, c = -x / 2.
    companion = np.zeros((len(points), 3, 3))
    companion[:, 0, 1] = -(1.0 - 2.0 * (y - offset)) / 2.0
    companion[:, 0, 2] = x / 2.0
    companion[:, 1, 0] = 1.0
    companion[:, 2, 1] = 1.0
    feet = np.linalg.eigvals(companion).real
    distances = np.hypot(x[:, None] - feet, y[:, None] - quadratic_curve(feet))
    return float(distances.min(axis=1).mean())
