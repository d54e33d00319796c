"""Update schedules: which network `GAN.train_step` updates, how often, and on which `z`.

- `"alternating"` (seeds 000 and 002): `d_steps` discriminator updates on the same real batch
  with a fresh `z` each, then `g_steps` generator updates with a fresh `z` each. Seed 002 uses
  `k_d=1, k_g=2`; seed 000 (`k_d=k_g=1`) reuses the discriminator's `z` for the generator.
- `"simultaneous"` (seed 003): one forward pass; both networks update from the same `z`.
- `"worse"` (seed 001: "only update the current worst of the two networks at each iteration"):
  one forward pass, then only the network that is losing, by `worse_network_is_discriminator`,
  updates.
"""

import dataclasses
import math

from tfgan import losses

SCHEDULES = ("alternating", "simultaneous", "worse")


@dataclasses.dataclass(frozen=True)
class Schedule:
    """How the discriminator and the generator take turns within one training step.

    Args:
        kind: str, one of `SCHEDULES`. Defaults to `"alternating"`.
        d_steps: int, discriminator updates per step (`k_d`); `"alternating"` only.
            Defaults to `1`.
        g_steps: int, generator updates per step (`k_g`); `"alternating"` only.
            Defaults to `1`.
        d_confidence: float in [0.5, 1), the lead the `"worse"` schedule keeps the
            discriminator at (see `worse_network_is_discriminator`). Defaults to `0.6`.

    Raises:
        ValueError: if `kind` is unknown, a step count is not a positive int, a step count
            other than 1 is given to a schedule that does one update per network, or
            `d_confidence` is outside [0.5, 1).

    Example:

    >>> Schedule("alternating", d_steps=1, g_steps=2).get_config()
    {'kind': 'alternating', 'd_steps': 1, 'g_steps': 2, 'd_confidence': 0.6}
    """

    kind: str = "alternating"
    d_steps: int = 1
    g_steps: int = 1
    d_confidence: float = 0.6

    def __post_init__(self):
        if self.kind not in SCHEDULES:
            raise ValueError(f"kind must be one of {SCHEDULES}. Received: kind={self.kind!r}")
        for name in ("d_steps", "g_steps"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int. Received: {name}={value!r}")
            if self.kind != "alternating" and value != 1:
                raise ValueError(
                    f"{name} must be 1 for kind={self.kind!r}; only 'alternating' repeats "
                    f"updates. Received: {name}={value!r}"
                )
        if (isinstance(self.d_confidence, bool) or not isinstance(self.d_confidence, (int, float))
                or not 0.5 <= self.d_confidence < 1):
            raise ValueError(
                f"d_confidence must be a number in [0.5, 1). Received: "
                f"d_confidence={self.d_confidence!r}")

    def get_config(self):
        """Returns the constructor arguments as a dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_config(cls, config):
        """Rebuilds a `Schedule` from `get_config()`."""
        return cls(**config)


def worse_network_is_discriminator(real_logits, fake_logits, d_confidence=0.6):
    """Decides which network the `"worse"` schedule updates.

    The two networks play one zero-sum game, so one number says who is ahead: the
    discriminator's binary cross-entropy on its task (whatever loss family is trained),

        d_cost = 1/2 (mean softplus(-l_real) + mean softplus(l_fake)).

    The discriminator is the worse network until it beats a reference discriminator that
    scores real data `d_confidence` and generated data `1 - d_confidence`, i.e. while
    `d_cost >= -log(d_confidence)`; after that the generator is. Ties go to the
    discriminator.

    `d_confidence = 0.5` compares with the game's equilibrium (`d_cost = log 2`), and stalls:
    a barely trained discriminator is "ahead" by a hair, so only the generator trains, and it
    collapses onto a maximum of a discriminator that knows nothing and never learns more
    (ring of 8 Gaussians: every sample on one point beside a mode, the discriminator updated
    on none of the last 22k of 25k steps).
    A small lead keeps the discriminator informative enough to guide the generator (0.6:
    the discriminator takes about two thirds of the updates).

    The generator's own cross-entropy, `mean softplus(-l_fake)`, is not a fair second score:
    it moves with the discriminator's bias, which the generator cannot change. A
    discriminator that calls everything fake with one confident logit (`l_real = l_fake < 0`)
    is at chance, yet its generator's cross-entropy is the larger, and a rule comparing the
    two updates the generator forever.

    Args:
        real_logits: float tensor `[batch, 1]`, D's logits on real data.
        fake_logits: float tensor `[batch, 1]`, D's logits on generated data.
        d_confidence: float in [0.5, 1), the reference discriminator's score. Defaults to
            `0.6`.

    Returns:
        scalar bool tensor, True when the discriminator is the worse network.
    """
    d_cost = 0.5 * losses.minimax_discriminator_loss(real_logits, fake_logits)
    return d_cost >= -math.log(d_confidence)
