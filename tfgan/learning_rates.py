"""Learning-rate schedules: a linear warm-up, then a constant, linear or cosine rate.

`WarmupDecay` is a `keras.optimizers.schedules.LearningRateSchedule`: an optimizer built with
it calls it with its own update count. `learning_rate(...)` returns a plain float when nothing
is scheduled, so such an optimizer keeps its learning-rate variable (and the checkpoint layout
of a run without a schedule).
"""

import math

import keras
from keras import ops

from tfgan.models.argument_validation import check_choice

LR_SCHEDULES = ("constant", "linear", "cosine")


@keras.saving.register_keras_serializable(package="tfgan")
class WarmupDecay(keras.optimizers.schedules.LearningRateSchedule):
    """A linear warm-up from 0, then a constant rate or a linear or cosine decay to 0.

    At update `t` (0 at the first; the optimizer's `iterations`), with `W = warmup_steps` and
    `T = total_steps`:

        warm-up:  rate = learning_rate * min(1, (t + 1) / W)          (1 when W = 0)
        decay:    p = clip((t - W) / (T - W), 0, 1)
                  constant: 1;  linear: 1 - p;  cosine: (1 + cos(pi p)) / 2
        rate(t) = warm-up * decay

    A warm-up keeps Adam's first, poorly estimated steps small (Goyal et al. 2017,
    https://arxiv.org/abs/1706.02677); a decay to 0 over the run settles the game the
    constant rate leaves oscillating (cosine: Loshchilov & Hutter 2017,
    https://arxiv.org/abs/1608.03983).

    Args:
        learning_rate: float > 0, the rate after the warm-up, before any decay.
        decay: str, one of `LR_SCHEDULES`. Defaults to `"constant"`.
        total_steps: int > 0, the update at which a decay reaches 0. Defaults to `1`.
        warmup_steps: int >= 0, updates of the warm-up, less than `total_steps` when decaying.
            Defaults to `0`.

    Raises:
        ValueError: an argument is out of range or unknown.

    Example:

    ```python
    schedule = WarmupDecay(1e-3, "cosine", total_steps=1000, warmup_steps=100)
    schedule(49)   # 5e-4, half-way up the warm-up
    schedule(550)  # 5e-4, half-way down the cosine
    optimizer = keras.optimizers.Adam(schedule)
    ```
    """

    def __init__(self, learning_rate, decay="constant", total_steps=1, warmup_steps=0):
        check_choice("decay", decay, LR_SCHEDULES)
        if not learning_rate > 0:
            raise ValueError(
                f"learning_rate must be > 0. Received: learning_rate={learning_rate!r}")
        if not total_steps > 0:
            raise ValueError(f"total_steps must be > 0. Received: total_steps={total_steps!r}")
        if not 0 <= warmup_steps < (total_steps if decay != "constant" else math.inf):
            raise ValueError(
                "warmup_steps must be >= 0, and less than total_steps when decaying. "
                f"Received: warmup_steps={warmup_steps!r}")
        self.learning_rate = float(learning_rate)
        self.decay = decay
        self.total_steps = int(total_steps)
        self.warmup_steps = int(warmup_steps)

    def __call__(self, step):
        t = ops.cast(step, "float32")
        rate = ops.convert_to_tensor(self.learning_rate, "float32")
        if self.warmup_steps:
            rate = rate * ops.minimum(1.0, (t + 1.0) / self.warmup_steps)
        if self.decay != "constant":
            progress = ops.clip(
                (t - self.warmup_steps) / (self.total_steps - self.warmup_steps), 0.0, 1.0)
            if self.decay == "linear":
                rate = rate * (1.0 - progress)
            else:
                rate = rate * 0.5 * (1.0 + ops.cos(math.pi * progress))
        return rate

    def get_config(self):
        return {
            "learning_rate": self.learning_rate,
            "decay": self.decay,
            "total_steps": self.total_steps,
            "warmup_steps": self.warmup_steps,
        }


def learning_rate(rate, decay="constant", total_steps=1, warmup_steps=0):
    """What to build an optimizer with: `rate` itself when nothing is scheduled.

    Args:
        rate: float > 0, the learning rate after the warm-up, before any decay.
        decay: str, one of `LR_SCHEDULES`. Defaults to `"constant"`.
        total_steps: int > 0, the update at which a decay reaches 0. Defaults to `1`.
        warmup_steps: int >= 0, updates of the warm-up. Defaults to `0`.

    Returns:
        `rate` (a float) for a constant rate without warm-up, else a `WarmupDecay`.

    Raises:
        ValueError: an argument is out of range or unknown.
    """
    if decay == "constant" and not warmup_steps:
        return rate
    return WarmupDecay(rate, decay, total_steps, warmup_steps)
