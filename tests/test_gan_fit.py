"""`GAN.fit` with Keras' own callbacks: a fit cut short resumes where BackupAndRestore left it."""

import keras
import pytest

from tfgan import training
from tfgan.config import TrainConfig

CONFIG = TrainConfig(workdir="unused", dataset="gaussian_1d", z_dim=1, g_hidden_units=(8,),
                     d_hidden_units=(8,), output_activation="linear", batch_size=16)


class _StopAtEpoch(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt


def test_backup_and_restore_resumes_a_fit_cut_short(tmp_path):
    dataset, spec = training.load_data(CONFIG)
    gan = training.build_gan(CONFIG, spec)
    backup = keras.callbacks.BackupAndRestore(str(tmp_path / "backup"))
    with pytest.raises(KeyboardInterrupt):
        gan.fit(dataset, epochs=4, steps_per_epoch=5, verbose=0,
                callbacks=[backup, _StopAtEpoch(2)])
    assert int(gan.step.numpy()) == 10

    fresh = training.build_gan(CONFIG, spec)  # a new process, as after a crash
    history = fresh.fit(dataset, epochs=4, steps_per_epoch=5, verbose=0, callbacks=[
        keras.callbacks.BackupAndRestore(str(tmp_path / "backup")),
        keras.callbacks.TensorBoard(str(tmp_path / "tensorboard"))])
    assert len(history.history["d_loss"]) == 2  # epochs 2 and 3 only
    assert int(fresh.step.numpy()) == 20  # restored at step 10, not started again from 0
    assert (tmp_path / "tensorboard" / "train").is_dir()
