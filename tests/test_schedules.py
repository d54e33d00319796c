import types

import numpy as np
import pytest
import tensorflow as tf

from tfgan import schedules


def test_defaults_and_config_round_trip():
    schedule = schedules.make_schedule()
    assert schedule == schedules.Alternating()
    assert schedule.get_config() == {"kind": "alternating", "d_steps": 1, "g_steps": 1}
    seed_002 = schedules.make_schedule("alternating", d_steps=1, g_steps=2)
    assert schedules.Schedule.from_config(seed_002.get_config()) == seed_002
    equilibrium = schedules.make_schedule("worse", d_confidence=0.5)
    assert equilibrium == schedules.TrainTheWorse(0.5)
    assert schedules.Schedule.from_config(equilibrium.get_config()) == equilibrium
    assert schedules.Schedule.from_config({"kind": "simultaneous"}) == schedules.Simultaneous()


def test_configs_saved_before_schedules_were_classes_still_load():
    old = {"kind": "alternating", "d_steps": 1, "g_steps": 2, "d_confidence": 0.6}
    assert schedules.Schedule.from_config(old) == schedules.Alternating(1, 2)


class _RecordingGAN:
    """Stands in for `GAN`: records the update helpers a schedule calls, in order."""

    def __init__(self, d_worse):
        self.calls = []
        self.forward = types.SimpleNamespace(
            real_logits=tf.constant([[-5.0 if d_worse else 5.0]]),
            fake_logits=tf.constant([[5.0 if d_worse else -5.0]]),
            _replace=lambda **kwargs: ("forward", kwargs))

    def update_discriminator(self, real, labels):
        self.calls.append(("update_discriminator", labels))
        return self.forward

    def update_generator(self, real, labels):
        self.calls.append(("update_generator", labels))
        return "g_loss"

    def joint_gradients(self, real, labels):
        self.calls.append(("joint_gradients", labels))
        return self.forward, "d_grads", "g_grads"

    def apply_discriminator(self, grads):
        self.calls.append(("apply_discriminator", grads))
        return tf.constant(0)

    def apply_generator(self, grads):
        self.calls.append(("apply_generator", grads))
        return tf.constant(0)


@pytest.mark.parametrize(
    "schedule, d_worse, expected_calls",
    [
        (schedules.Alternating(2, 3), False,
         ["update_discriminator"] * 2 + ["update_generator"] * 3),
        (schedules.Simultaneous(), False,
         ["joint_gradients", "apply_discriminator", "apply_generator"]),
        (schedules.TrainTheWorse(), True, ["joint_gradients", "apply_discriminator"]),
        (schedules.TrainTheWorse(), False, ["joint_gradients", "apply_generator"]),
    ],
)
def test_each_schedule_decides_which_updates_run(schedule, d_worse, expected_calls):
    gan = _RecordingGAN(d_worse)
    labels = tf.constant([3])
    _, logs = schedule.run(gan, tf.zeros((1, 2)), labels)
    assert [name for name, _ in gan.calls] == expected_calls
    assert set(logs) == set(schedule.log_names)
    if isinstance(schedule, schedules.TrainTheWorse):
        assert float(logs["d_updated"]) == float(d_worse)
    for name, argument in gan.calls:
        if name.startswith("update") or name == "joint_gradients":
            assert argument is labels


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"kind": "round_robin"}, r"Received: kind='round_robin'$"),
        ({"d_steps": 0}, r"Received: d_steps=0$"),
        ({"g_steps": -1}, r"Received: g_steps=-1$"),
        ({"g_steps": 1.5}, r"Received: g_steps=1.5$"),
        ({"d_steps": True}, r"Received: d_steps=True$"),
        ({"kind": "simultaneous", "g_steps": 2}, r"only 'alternating'.*Received: g_steps=2$"),
        ({"kind": "worse", "d_steps": 3}, r"only 'alternating'.*Received: d_steps=3$"),
        ({"kind": "worse", "d_confidence": 0.4}, r"Received: d_confidence=0.4$"),
        ({"kind": "worse", "d_confidence": 1.0}, r"Received: d_confidence=1.0$"),
        ({"kind": "worse", "d_confidence": "0.6"}, r"Received: d_confidence='0.6'$"),
    ],
)
def test_invalid_arguments_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        schedules.make_schedule(**kwargs)


def _softplus(x):
    return np.log1p(np.exp(x))


@pytest.mark.parametrize(
    "real, fake, d_confidence, d_is_worse",
    [
        (0.0, 0.0, 0.5, True),  # chance: d_cost = log 2, ties go to D
        (-5.0, 5.0, 0.5, True),  # D fooled on both sides
        (5.0, -5.0, 0.5, False),  # D wins: G is worse
        (0.0, 1.0, 0.5, True),  # d_cost 1.003 >= log 2
        (2.0, -0.5, 0.5, False),  # d_cost 0.301 < log 2
        # D calls everything fake with one confident logit: it is at chance (d_cost 1.127), even
        # though G's cross-entropy (2.127) is larger; a rule comparing the two would pick G.
        (-2.0, -2.0, 0.5, True),
        # A hair ahead of chance (d_cost 0.678): ahead of the equilibrium, not of a 60/40 D.
        (0.03, -0.03, 0.5, False),
        (0.03, -0.03, 0.6, True),
        # Either side of the 60/40 reference (d_cost = -log 0.6 = 0.511): 0.554, D; 0.474, G.
        (0.3, -0.3, 0.6, True),
        (0.5, -0.5, 0.6, False),
    ],
)
def test_worse_network_is_the_one_behind(real, fake, d_confidence, d_is_worse):
    d_cost = 0.5 * (_softplus(-real) + _softplus(fake))
    assert (d_cost >= -np.log(d_confidence)) == d_is_worse  # the hand computation
    decision = schedules.worse_network_is_discriminator(
        tf.fill([3, 1], real), tf.fill([3, 1], fake), d_confidence
    )
    assert decision.dtype == tf.bool and decision.shape == ()
    assert bool(decision) == d_is_worse


def test_worse_network_averages_over_the_batch():
    # One confident and one fooled example per side: the means decide, not any single example.
    real = tf.constant([[4.0], [-1.0]])
    fake = tf.constant([[-4.0], [1.0]])
    d_cost = 0.5 * (np.mean(_softplus(-real.numpy())) + np.mean(_softplus(fake.numpy())))
    assert -np.log(0.6) < d_cost < np.log(2.0)
    assert not bool(schedules.worse_network_is_discriminator(real, fake, 0.5))
    assert bool(schedules.worse_network_is_discriminator(real, fake, 0.6))
