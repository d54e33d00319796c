"""What counts as a diverged run: a loss or a weight that is NaN, infinite or past a bound.

A GAN whose losses reach 1e16 or whose weights reach 1e12 has diverged: its samples are
noise or one constant, and training on does not bring it back. `tfgan-train` stops such a
run before its weights are checkpointed (`tfgan.callbacks.StopOnDivergence`, beside
`--on_nan`), and `tfgan-export` refuses such weights.
"""

import math

import keras

# Magnitude past which a loss or weight counts as diverged: far above what a working GAN
# reaches (losses of a few units, weights below 100), far below where float32 overflows.
DEFAULT_BOUND = 1e6


class DivergenceError(RuntimeError):
    """A loss or weight is NaN, infinite or past the bound at `step`; the message says which."""

    def __init__(self, step, what):
        super().__init__(f"{what} at step {step}")
        self.step = step


def _past(value, bound):
    return not math.isfinite(value) or abs(value) > (bound or math.inf)


def diverged_loss(logs, names, bound):
    """Which of the losses `names` in `logs` diverged, in words, or `None`.

    Args:
        logs: dict of str -> float, e.g. a callback's logs.
        names: iterable of str, the losses to check (missing ones are skipped).
        bound: float, the largest magnitude allowed (0: only NaN and infinity count).

    Returns:
        str such as `"d_loss is 9.4e+16"` for the first diverged loss, or `None`.
    """
    for name in names:
        value = logs.get(name)
        if value is not None and _past(float(value), bound):
            return f"{name} is {float(value):.3g} (past the divergence bound {bound:g})"
    return None


def diverged_weight(weights, bound):
    """Which of `weights` diverged, in words, or `None`.

    Args:
        weights: iterable of non-empty `keras.Variable`s.
        bound: float, the largest magnitude allowed (0: only NaN and infinity count).

    Returns:
        str such as `"weight dense/kernel reaches 1.2e+12"` for the first diverged weight, or
        `None`.
    """
    for weight in weights:
        largest = float(keras.ops.max(keras.ops.abs(weight)))
        if _past(largest, bound):
            return f"weight {weight.path} reaches {largest:.3g} (divergence bound {bound:g})"
    return None
