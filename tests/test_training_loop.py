import csv

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgan import callbacks, schedules, training_loop
from tfgan.data import toys
from tfgan.gan import GAN
from tfgan.models import MLPDiscriminator, MLPGenerator

BATCH = 16


def make_gan(schedule="alternating", seed=3):
    keras.utils.set_random_seed(seed)
    generator = MLPGenerator(z_dim=2, data_shape=(2,), hidden_units=(16,),
                             output_activation="linear")
    discriminator = MLPDiscriminator(data_shape=(2,), hidden_units=(16,))
    gan = GAN(generator, discriminator, prior="normal", schedule=schedules.make_schedule(schedule),
              ema_decay=0.9, seed=seed)
    gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3))
    gan.build_all((2,))
    return gan


def ring_batches():
    return toys.load_toy("ring", batch_size=BATCH, seed=0)[0]


def all_weights(gan):
    variables = (gan.generator.weights + gan.discriminator.weights + gan.ema_generator.weights
                 + gan.d_optimizer.variables + gan.g_optimizer.variables)
    return [v.numpy() for v in variables]


class StepRecorder(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.steps = []

    def on_train_batch_end(self, batch, logs=None):
        self.steps.append(int(self.model.step.numpy()))


class EveryThree(callbacks.EveryNSteps):
    def __init__(self):
        super().__init__(3)
        self.acted_at = []

    def on_interval(self, step, logs):
        self.acted_at.append(step)


@pytest.mark.parametrize("schedule", ["alternating", "simultaneous", "worse"])
@pytest.mark.parametrize("jit_compile", [False, True])
def test_one_block_of_n_steps_equals_n_blocks_of_one_step(schedule, jit_compile):
    blocks_of_one, one_block = make_gan(schedule), make_gan(schedule)
    recorder = StepRecorder()
    training_loop.run_steps(blocks_of_one, ring_batches(), 12, [recorder],
                            steps_per_execution=1, jit_compile=jit_compile)
    assert recorder.steps == list(range(1, 13))
    recorder = StepRecorder()
    training_loop.run_steps(one_block, ring_batches(), 12, [recorder],
                            steps_per_execution=100, jit_compile=jit_compile)
    assert recorder.steps == [12]
    for a, b in zip(all_weights(blocks_of_one), all_weights(one_block)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    untrained = all_weights(make_gan(schedule))
    assert any(not np.allclose(a, b) for a, b in zip(all_weights(one_block), untrained))


def test_blocks_end_where_callbacks_act_and_at_the_last_step():
    gan = make_gan()
    every_three, recorder = EveryThree(), StepRecorder()
    training_loop.run_steps(gan, ring_batches(), 10, [every_three, recorder],
                            steps_per_execution=100)
    assert every_three.acted_at == [3, 6, 9]
    assert recorder.steps == [3, 6, 9, 10]
    # A resumed run goes on from the model's step.
    recorder = StepRecorder()
    training_loop.run_steps(gan, ring_batches(), 13, [every_three, recorder],
                            steps_per_execution=2)
    assert recorder.steps == [12, 13]
    assert every_three.acted_at == [3, 6, 9, 12]


def test_feature_space_plot_stops_one_step_before_each_multiple():
    plot = callbacks.FeatureSpacePlot("unused", 5, np.zeros((4, 2), "float32"),
                                      np.zeros((4, 2), "float32"))
    assert [plot.next_stop(step) for step in (0, 3, 4, 5, 9)] == [4, 4, 5, 9, 10]


def test_history_rows_are_the_means_over_each_log_interval(tmp_path):
    def history(every, steps_per_execution):
        path = tmp_path / f"history_{every}_{steps_per_execution}.csv"
        training_loop.run_steps(
            make_gan(), ring_batches(), 8,
            [callbacks.HistoryCSV(str(path), every=every), callbacks.ResetMetricsEvery(every)],
            steps_per_execution=steps_per_execution)
        with open(path, newline="") as f:
            return list(csv.DictReader(f))

    per_step = history(every=1, steps_per_execution=1)
    per_four = history(every=4, steps_per_execution=8)
    assert [row["step"] for row in per_four] == ["4", "8"]
    for row, steps in zip(per_four, (per_step[:4], per_step[4:])):
        for name in ("d_loss", "g_loss", "d_real", "d_fake"):
            expected = np.mean([float(step_row[name]) for step_row in steps])
            assert float(row[name]) == pytest.approx(expected, rel=1e-5)


def test_auto_steps_per_execution_follows_the_step_flops():
    assert training_loop.auto_steps_per_execution(5e10) == 1  # a DCGAN step
    assert training_loop.auto_steps_per_execution(2e8) == 10  # seed 003's MLP
    assert training_loop.auto_steps_per_execution(1e5) == training_loop.MAX_STEPS_PER_EXECUTION


@pytest.mark.parametrize("steps_per_execution", [0, -1, 1.5, True])
def test_steps_per_execution_must_be_a_positive_int(steps_per_execution):
    with pytest.raises(ValueError, match="steps_per_execution must be a positive int"):
        training_loop.run_steps(make_gan(), ring_batches(), 2,
                                steps_per_execution=steps_per_execution)

