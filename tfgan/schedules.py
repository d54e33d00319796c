"""Update schedules: which network updates `GAN.train_step` runs, how often, and on which `z`.

A schedule is an object whose `run(gan, real, labels)` calls the GAN's update helpers
(`update_discriminator`, `update_generator`, `joint_gradients`, `apply_discriminator`,
`apply_generator`) in its own order; a new schedule is a new `Schedule` subclass here, not an
edit of `train_step`.

- `Alternating` (seeds 000 and 002): `d_steps` discriminator updates on the same real batch
  with a fresh `z` each, then `g_steps` generator updates with a fresh `z` each. Seed 002 uses
  `k_d=1, k_g=2`.
- `Simultaneous` (seed 003): one forward pass; both networks update from the same `z`.
- `TrainTheWorse` (seed 001: "only update the current worst of the two networks at each
  iteration"): one forward pass, then only the network that is losing, by
  `worse_network_is_discriminator`, updates.

`make_schedule(kind, ...)` builds one from the flags' names (`SCHEDULES`).
"""

import dataclasses
import math

import tensorflow as tf

from tfgan import losses

SCHEDULES = ("alternating", "simultaneous", "worse")


class Schedule:
    """Decides which network updates one training step runs; use a subclass.

    Attributes:
        kind: str, the schedule's name in `SCHEDULES`.
        log_names: tuple of str, what `run` reports besides the losses (e.g. `"d_updated"`).
        single_replica: bool, whether the schedule needs a single replica (it picks an update
            inside a `tf.cond`, where optimizers cannot synchronise replicas).
    """

    kind = None
    log_names = ()
    single_replica = False

    def run(self, gan, real, labels):
        """Runs this step's updates on a real batch.

        Args:
            gan: the `tfgan.gan.GAN` to update.
            real: float tensor `[batch, *data_shape]`.
            labels: int32 tensor `[batch]` or None (unconditional).

        Returns:
            `(forward, logs)`: the `tfgan.gan.ForwardPass` whose losses the step reports, and a
            dict of the schedule's own float32 scalars, keyed by `log_names`.
        """
        raise NotImplementedError

    def get_config(self):
        """Returns `kind` and the constructor arguments as a dict."""
        return {"kind": self.kind, **dataclasses.asdict(self)}

    @classmethod
    def from_config(cls, config):
        """Rebuilds a schedule from `get_config()`."""
        return make_schedule(**config)


def _check_positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int. Received: {name}={value!r}")


@dataclasses.dataclass(frozen=True)
class Alternating(Schedule):
    """`d_steps` discriminator updates, then `g_steps` generator updates, a fresh `z` each.

    Args:
        d_steps: int, discriminator updates per step (`k_d`). Defaults to `1`.
        g_steps: int, generator updates per step (`k_g`). Defaults to `1`.

    Raises:
        ValueError: if a step count is not a positive int.
    """

    d_steps: int = 1
    g_steps: int = 1
    kind = "alternating"

    def __post_init__(self):
        _check_positive_int("d_steps", self.d_steps)
        _check_positive_int("g_steps", self.g_steps)

    def run(self, gan, real, labels):
        for _ in range(self.d_steps):
            forward = gan.update_discriminator(real, labels)
        for _ in range(self.g_steps):
            g_loss = gan.update_generator(real, labels)
        return forward._replace(g_loss=g_loss), {}


@dataclasses.dataclass(frozen=True)
class Simultaneous(Schedule):
    """One forward pass; both networks update from its gradients (seed 003)."""

    kind = "simultaneous"

    def run(self, gan, real, labels):
        forward, d_grads, g_grads = gan.joint_gradients(real, labels)
        gan.apply_discriminator(d_grads)
        gan.apply_generator(g_grads)
        return forward, {}


@dataclasses.dataclass(frozen=True)
class TrainTheWorse(Schedule):
    """One forward pass; only the network that is losing updates (seed 001).

    Args:
        d_confidence: float in [0.5, 1), the lead the discriminator is kept at (see
            `worse_network_is_discriminator`). Defaults to `0.6`.

    Raises:
        ValueError: if `d_confidence` is outside [0.5, 1).
    """

    d_confidence: float = 0.6
    kind = "worse"
    log_names = ("d_updated",)
    single_replica = True

    def __post_init__(self):
        if (isinstance(self.d_confidence, bool) or not isinstance(self.d_confidence, (int, float))
                or not 0.5 <= self.d_confidence < 1):
            raise ValueError(
                f"d_confidence must be a number in [0.5, 1). Received: "
                f"d_confidence={self.d_confidence!r}")

    def run(self, gan, real, labels):
        forward, d_grads, g_grads = gan.joint_gradients(real, labels)
        d_is_worse = worse_network_is_discriminator(
            forward.real_logits, forward.fake_logits, self.d_confidence)
        tf.cond(d_is_worse,
                lambda: gan.apply_discriminator(d_grads),
                lambda: gan.apply_generator(g_grads))
        # 1 when this step updated the discriminator, 0 when it updated the generator.
        return forward, {"d_updated": tf.cast(d_is_worse, tf.float32)}


def make_schedule(kind="alternating", d_steps=1, g_steps=1, d_confidence=0.6):
    """Builds the schedule a flag names, refusing options it does not use.

    Args:
        kind: str, one of `SCHEDULES`. Defaults to `"alternating"`.
        d_steps: int, `k_d`; only `"alternating"` repeats updates. Defaults to `1`.
        g_steps: int, `k_g`; only `"alternating"` repeats updates. Defaults to `1`.
        d_confidence: float in [0.5, 1), `"worse"`'s lead. Defaults to `0.6`.

    Returns:
        `Alternating`, `Simultaneous` or `TrainTheWorse`.

    Raises:
        ValueError: if `kind` is unknown, a step count is not a positive int, a step count
            other than 1 is given to a schedule that does one update per network, or
            `d_confidence` is outside [0.5, 1).

    Example:

    >>> make_schedule("alternating", d_steps=1, g_steps=2)
    Alternating(d_steps=1, g_steps=2)
    """
    if kind not in SCHEDULES:
        raise ValueError(f"kind must be one of {SCHEDULES}. Received: kind={kind!r}")
    for name, value in (("d_steps", d_steps), ("g_steps", g_steps)):
        _check_positive_int(name, value)
        if kind != "alternating" and value != 1:
            raise ValueError(
                f"{name} must be 1 for kind={kind!r}; only 'alternating' repeats "
                f"updates. Received: {name}={value!r}"
            )
    if kind == "alternating":
        return Alternating(d_steps, g_steps)
    if kind == "simultaneous":
        return Simultaneous()
    return TrainTheWorse(d_confidence)


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
