import keras
import numpy as np
import pytest

from tfgan.learning_rates import WarmupDecay, learning_rate


def _rates(schedule, steps):
    return [float(schedule(step)) for step in steps]


def test_warmup_climbs_linearly_to_the_rate():
    # rate * (t + 1) / W: 1/100, 50/100, 100/100 of it, then the rate itself.
    schedule = WarmupDecay(1e-3, "constant", warmup_steps=100)
    np.testing.assert_allclose(_rates(schedule, [0, 49, 99, 100, 5000]),
                               [1e-5, 5e-4, 1e-3, 1e-3, 1e-3], rtol=1e-6)


def test_linear_decay_reaches_zero_at_total_steps():
    # After W = 100, p = (t - 100) / 900: p = 0.25 at t = 325, 1 at t = 1000 and beyond.
    schedule = WarmupDecay(1e-3, "linear", total_steps=1000, warmup_steps=100)
    np.testing.assert_allclose(_rates(schedule, [100, 325, 1000, 2000]),
                               [1e-3, 7.5e-4, 0.0, 0.0], rtol=1e-6, atol=1e-12)


def test_cosine_decay_halves_at_mid_run():
    # (1 + cos(pi p)) / 2: 1 at p = 0, 1/2 at p = 1/2, (1 + cos(pi/4)) / 2 at p = 1/4, 0 at 1.
    schedule = WarmupDecay(2e-3, "cosine", total_steps=400)
    np.testing.assert_allclose(
        _rates(schedule, [0, 100, 200, 400]),
        [2e-3, 1e-3 * (1 + np.cos(np.pi / 4)), 1e-3, 0.0], rtol=1e-6, atol=1e-12)


def test_optimizer_calls_the_schedule_with_its_update_count():
    # SGD on a loss of slope 1 moves the weight by exactly the rate of each update: t = 0, 1, 2.
    schedule = WarmupDecay(1.0, "constant", warmup_steps=4)
    weight = keras.Variable(0.0)
    optimizer = keras.optimizers.SGD(schedule)
    moves = []
    for _ in range(3):
        before = float(weight.numpy())
        optimizer.apply([keras.ops.ones(())], [weight])
        moves.append(before - float(weight.numpy()))
    np.testing.assert_allclose(moves, [0.25, 0.5, 0.75], rtol=1e-6)


def test_a_constant_rate_stays_a_float():
    assert learning_rate(1e-3) == 1e-3
    assert isinstance(learning_rate(1e-3, "constant", 10, warmup_steps=2), WarmupDecay)
    assert isinstance(learning_rate(1e-3, "cosine", 10), WarmupDecay)


def test_config_round_trip():
    schedule = WarmupDecay(1e-3, "cosine", total_steps=1000, warmup_steps=100)
    revived = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(schedule))
    assert isinstance(revived, WarmupDecay) and revived.get_config() == schedule.get_config()


@pytest.mark.parametrize("kwargs, message", [
    (dict(decay="step"), r"Received: decay='step'$"),
    (dict(learning_rate=0.0), r"Received: learning_rate=0.0$"),
    (dict(total_steps=0), r"Received: total_steps=0$"),
    (dict(decay="linear", total_steps=10, warmup_steps=10), r"Received: warmup_steps=10$"),
    (dict(warmup_steps=-1), r"Received: warmup_steps=-1$"),
])
def test_invalid_arguments_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        WarmupDecay(**{"learning_rate": 1e-3, **kwargs})
