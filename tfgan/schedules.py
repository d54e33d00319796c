"""Update schedules: which network `GAN.train_step` updates, how often, and on which `z`.

- `"alternating"` (seeds 000 and 002): `d_steps` discriminator updates on the same real batch
  with a fresh `z` each, then `g_steps` generator updates with a fresh `z` each. Seed 002 uses
  `k_d=1, k_g=2`; seed 000 (`k_d=k_g=1`) reuses the discriminator's `z` for the generator.
- `"simultaneous"` (seed 003): one forward pass; both networks update from the same `z`.
- `"worse"` (seed 001: "only update the current worst of the two networks at each iteration"):
  one forward pass, then only the network that is losing the game, by
  `worse_network_is_discriminator`, updates.
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

    Raises:
        ValueError: if `kind` is unknown, a step count is not a positive int, or a step count
            other than 1 is given to a schedule that does one update per network.

    Example:

    >>> Schedule("alternating", d_steps=1, g_steps=2).get_config()
    {'kind': 'alternating', 'd_steps': 1, 'g_steps': 2}
    """

    kind: str = "alternating"
    d_steps: int = 1
    g_steps: int = 1

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

    def get_config(self):
        """Returns the constructor arguments as a dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_config(cls, config):
        """Rebuilds a `Schedule` from `get_config()`."""
        return cls(**config)


def worse_network_is_discriminator(real_logits, fake_logits):
    """Decides which network the `"worse"` schedule updates.

    The two networks play one zero-sum game, so one number says who is losing: the game's
    value, measured as the discriminator's binary cross-entropy (whatever loss family is being
    trained),

        d_cost = 1/2 (mean softplus(-l_real) + mean softplus(l_fake)),

    against its value at the equilibrium, where `D = 1/2` everywhere and `d_cost = log 2`. A
    discriminator doing no better than chance (`d_cost >= log 2`) is the worse network; one
    doing better has the generator beaten, so the generator is. Ties go to the discriminator.

    The generator's own cross-entropy, `mean softplus(-l_fake)`, is not a fair second score:
    it moves with the discriminator's bias, which the generator cannot change. A
    discriminator that calls everything fake with one confident logit (`l_real = l_fake < 0`)
    is at chance, yet its generator's cross-entropy is the larger, and a rule comparing the
    two updates the generator forever.

    Args:
        real_logits: float tensor `[batch, 1]`, D's logits on real data.
        fake_logits: float tensor `[batch, 1]`, D's logits on generated data.

    Returns:
        scalar bool tensor, True when the discriminator is the worse network.
    """
    d_cost = 0.5 * losses.minimax_discriminator_loss(real_logits, fake_logits)
    return d_cost >= math.log(2.0)
