import numpy as np
import pytest
import tensorflow as tf

from tfgan import schedules


def test_defaults_and_config_round_trip():
    schedule = schedules.Schedule()
    assert schedule.get_config() == {"kind": "alternating", "d_steps": 1, "g_steps": 1}
    seed_002 = schedules.Schedule("alternating", d_steps=1, g_steps=2)
    assert schedules.Schedule.from_config(seed_002.get_config()) == seed_002


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
    ],
)
def test_invalid_arguments_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        schedules.Schedule(**kwargs)


def _softplus(x):
    return np.log1p(np.exp(x))


@pytest.mark.parametrize(
    "real, fake, d_is_worse",
    [
        (0.0, 0.0, True),  # chance: d_cost = log 2, ties go to D
        (-5.0, 5.0, True),  # D fooled on both sides
        (5.0, -5.0, False),  # D wins: G is worse
        (0.0, 1.0, True),  # d_cost 1.003 >= log 2
        (2.0, -0.5, False),  # d_cost 0.301 < log 2
        # D calls everything fake with one confident logit: it is at chance (d_cost 1.13), even
        # though G's cross-entropy (2.13) is larger; a rule comparing the two would pick G.
        (-2.0, -2.0, True),
    ],
)
def test_worse_network_is_the_one_losing_the_game(real, fake, d_is_worse):
    d_cost = 0.5 * (_softplus(-real) + _softplus(fake))
    assert (d_cost >= np.log(2.0)) == d_is_worse  # the hand computation behind each case
    decision = schedules.worse_network_is_discriminator(
        tf.fill([3, 1], real), tf.fill([3, 1], fake)
    )
    assert decision.dtype == tf.bool and decision.shape == ()
    assert bool(decision) == d_is_worse


def test_worse_network_averages_over_the_batch():
    # One confident and one fooled example per side: the means decide, not any single example.
    real = tf.constant([[4.0], [-1.0]])
    fake = tf.constant([[-4.0], [1.0]])
    d_cost = 0.5 * (np.mean(_softplus(-real.numpy())) + np.mean(_softplus(fake.numpy())))
    assert d_cost < np.log(2.0)
    assert not bool(schedules.worse_network_is_discriminator(real, fake))
    assert bool(schedules.worse_network_is_discriminator(-real, -fake))
