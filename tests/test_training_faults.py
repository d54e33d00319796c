"""Training survives what happens to long runs: kills, corrupt checkpoints, NaN, a bad disk."""

import csv
import dataclasses
import errno
import glob
import os
import shutil
import signal
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from script_fixtures import ROOT
from tfgan import callbacks, divergence, presets, training
from tfgan import export as export_lib
from tfgan.cli import export as export_cli
from tfgan.cli import train as train_cli
from tfgan.config import ConfigError, TrainConfig


def _config(workdir, **overrides):
    options = dict(
        workdir=str(workdir), dataset="gaussian_1d", architecture="mlp", z_dim=1,
        g_hidden_units=(8,), d_hidden_units=(8,), activation="leaky_relu",
        output_activation="linear", optimizer="adam", learning_rate=1e-3, batch_size=32,
        steps=20, sample_every=10, log_every=10, checkpoint_every=10, num_grid_samples=50,
        steps_per_execution=5, seed=1,
    )
    options.update(overrides)
    return TrainConfig(**options)


def _history_steps(workdir):
    with open(os.path.join(workdir, "history.csv"), newline="") as f:
        return [int(row["step"]) for row in csv.DictReader(f)]


def _checkpoint_steps(workdir):
    return sorted(int(p.split("-")[-1].split(".")[0])
                  for p in glob.glob(os.path.join(workdir, "checkpoints", "ckpt-*.index")))


class _InterruptAt(keras.callbacks.Callback):
    def __init__(self, step):
        super().__init__()
        self.step = step

    def on_train_batch_end(self, batch, logs=None):
        if int(self.model.step.numpy()) == self.step:
            raise KeyboardInterrupt


def test_interrupt_saves_its_step_and_history_stays_contiguous(tmp_path):
    workdir = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        training.train(_config(workdir, steps=30), callbacks=[_InterruptAt(15)])
    assert _checkpoint_steps(workdir) == [10, 15]
    assert _history_steps(workdir) == [10, 15]  # the interrupted step has its row
    assert os.path.exists(workdir / "samples" / "000015.png")
    gan, _ = training.train(_config(workdir, steps=30))
    assert int(gan.step.numpy()) == 30
    assert _history_steps(workdir) == [10, 15, 20, 30]


def _train_command(workdir, steps):
    """`tfgan-train` of this checkout on the options of `_config`, checkpoints every 20 steps."""
    return [sys.executable, "-m", "tfgan.cli.train", f"--workdir={workdir}",
            "--dataset=gaussian_1d", "--architecture=mlp", "--z_dim=1", "--g_hidden_units=8",
            "--d_hidden_units=8", "--output_activation=linear", "--batch_size=32",
            f"--steps={steps}", "--sample_every=1000000", "--log_every=10",
            "--checkpoint_every=20", "--num_grid_samples=50", "--steps_per_execution=5",
            "--seed=1"]


def test_a_run_killed_with_sigkill_resumes_from_its_last_checkpoint(tmp_path):
    workdir = tmp_path / "run"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    process = subprocess.Popen(_train_command(workdir, 10**6), stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True, cwd=ROOT, env=env)
    try:
        # Progress is printed before the checkpoint of the same step is saved, so once step
        # 50 is printed the checkpoint at 40, the second one, is on disk.
        for line in process.stdout:
            if line.startswith("step 50/"):
                break
        else:
            pytest.fail(f"tfgan-train ended with status {process.wait()} before step 50")
        assert 40 in _checkpoint_steps(workdir)
        process.send_signal(signal.SIGKILL)  # no callback gets to clean up
        assert process.wait(timeout=30) == -signal.SIGKILL
    finally:
        process.kill()
        process.wait()

    latest = tf.train.latest_checkpoint(str(workdir / "checkpoints"))
    restored_step = int(latest.split("-")[-1])
    steps = restored_step + 40
    result = subprocess.run(_train_command(workdir, steps), capture_output=True, text=True,
                            cwd=ROOT, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"Resumed from {latest} at step {restored_step}\n" in result.stdout
    assert restored_step >= 40 and _checkpoint_steps(workdir)[-1] == steps
    with open(workdir / "history.csv", newline="") as f:
        header, *rows = list(csv.reader(f))
    assert all(len(row) == len(header) and all(np.isfinite(float(cell)) for cell in row)
               for row in rows), rows
    assert [int(row[0]) for row in rows] == list(range(10, steps + 1, 10))


def test_a_truncated_newest_checkpoint_falls_back_to_the_one_before(tmp_path, capfd):
    workdir = tmp_path / "run"
    training.train(_config(workdir))
    (data_file,) = glob.glob(str(workdir / "checkpoints" / "ckpt-20.data-*"))
    with open(data_file, "r+b") as f:
        f.truncate(os.path.getsize(data_file) // 2)

    gan, _, _ = training.load_run(str(workdir))  # what export.py does
    assert int(gan.step.numpy()) == 10
    gan, _ = training.train(_config(workdir, steps=30))
    assert int(gan.step.numpy()) == 30
    warnings = [line for line in capfd.readouterr().err.splitlines() if "ckpt-20" in line]
    assert warnings and all(line.startswith("warning: checkpoint") for line in warnings)
    assert _history_steps(workdir) == [10, 20, 30]


def test_no_readable_checkpoint_is_one_clear_error(tmp_path):
    workdir = tmp_path / "run"
    training.train(_config(workdir))
    for data_file in glob.glob(str(workdir / "checkpoints" / "ckpt-*.data-*")):
        with open(data_file, "r+b") as f:
            f.truncate(4)
    with pytest.raises(FileNotFoundError, match="none of the 2 checkpoints .* can be read"):
        training.load_run(str(workdir))


def test_a_diverging_run_stops_and_keeps_its_last_good_checkpoint(tmp_path):
    workdir = tmp_path / "run"
    training.train(_config(workdir, steps=10))
    # Far too large a step size: the losses and weights blow up within a few steps.
    config = _config(workdir, steps=200, learning_rate=1e30, checkpoint_every=5)
    with pytest.raises(training.DivergedError, match=r"at step \d+; the latest checkpoint, "
                       r".*ckpt-10, is the last good one"):
        training.train(config)
    assert tf.train.latest_checkpoint(str(workdir / "checkpoints")).endswith("ckpt-10")
    gan, _, _ = training.load_run(str(workdir))
    assert all(np.all(np.isfinite(w.numpy())) for w in gan.generator.weights)
    # A generator with a non-finite weight is never exported.
    gan.generator.weights[0].assign(np.full(gan.generator.weights[0].shape, np.nan))
    with pytest.raises(training.DivergedError, match="has diverged: weight .* reaches nan"):
        training.export_gan(gan, str(tmp_path / "export"), "toy", config=config)
    assert not os.path.exists(tmp_path / "export")


def test_losses_past_the_divergence_bound_stop_the_run_before_a_checkpoint(tmp_path):
    workdir = tmp_path / "run"
    training.train(_config(workdir, steps=10))
    # Every loss of a GAN is above 0.001: the first block past step 10 counts as diverged.
    with pytest.raises(training.DivergedError,
                       match=r"_loss is .* \(past the divergence bound 0.001\) at step 1\d; "
                             r"the latest checkpoint, .*ckpt-10, is the last good one"):
        training.train(_config(workdir, steps=40, divergence_bound=1e-3))
    assert _checkpoint_steps(workdir) == [10]


def test_export_refuses_weights_past_the_divergence_bound(tmp_path, capsys):
    workdir = tmp_path / "run"
    training.train(_config(workdir, steps=10))
    gan, config, _ = training.load_run(str(workdir))
    gan.generator.weights[0].assign(np.full(gan.generator.weights[0].shape, 1.2e12))
    manager = tf.train.CheckpointManager(tf.train.Checkpoint(gan=gan),
                                         str(workdir / "checkpoints"), max_to_keep=3)
    manager.save(checkpoint_number=11)
    with pytest.raises(SystemExit) as caught:
        export_cli.run(["tfgan-export", f"--workdir={workdir}",
                        f"--export_dir={tmp_path / 'export'}"])
    assert caught.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("error: the generator at step 10 has diverged: weight ")
    assert err.endswith(" reaches 1.2e+12 (divergence bound 1e+06); not exported\n")
    assert not os.path.exists(tmp_path / "export" / "gaussian_1d" / "1")


def test_rollback_resumes_from_the_last_good_checkpoint(tmp_path, monkeypatch, capfd):
    failures = []
    check = callbacks.StopOnDivergence.on_train_batch_end

    def fail_once_at_15(self, batch, logs=None):
        step = int(self.model.step.numpy())
        if step == 15 and not failures:
            failures.append(step)
            raise divergence.DivergenceError(step, "d_loss is nan")
        check(self, batch, logs)

    monkeypatch.setattr(callbacks.StopOnDivergence, "on_train_batch_end", fail_once_at_15)
    workdir = tmp_path / "run"
    gan, _ = training.train(_config(workdir, steps=30, on_nan="rollback"))
    assert failures == [15] and int(gan.step.numpy()) == 30
    assert "rolled back to" in capfd.readouterr().err
    assert _history_steps(workdir) == [10, 20, 30]


def test_an_unwritable_workdir_fails_before_anything_is_written(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(ConfigError, match="--workdir=.* is not writable"):
        training.train(_config(blocker / "run"))


def test_a_full_disk_fails_before_anything_is_written(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(1, 1, 1))
    with pytest.raises(ConfigError, match="MB free; this run's checkpoints need about"):
        training.train(_config(tmp_path / "run"))
    assert os.listdir(tmp_path / "run") == []


@pytest.mark.parametrize("damage", ["garbage {{{", None])  # unreadable, or deleted
def test_a_damaged_checkpoint_state_is_rebuilt_from_the_checkpoints_on_disk(tmp_path, capfd,
                                                                              damage):
    workdir = tmp_path / "run"
    training.train(_config(workdir, steps=30))
    state = workdir / "checkpoints" / "checkpoint"
    if damage is None:
        state.unlink()
    else:
        state.write_text(damage)
    gan, _, _ = training.load_run(str(workdir))  # read-only: the export's view
    assert int(gan.step.numpy()) == 30
    capfd.readouterr()
    gan, _ = training.train(_config(workdir, steps=40))
    out, err = capfd.readouterr()
    assert "checkpoints on disk (newest ckpt-30)" in err
    assert f"Resumed from {workdir}/checkpoints/ckpt-30 at step 30\n" in out
    assert int(gan.step.numpy()) == 40 and _history_steps(workdir) == [10, 20, 30, 40]
    assert tf.train.latest_checkpoint(str(workdir / "checkpoints")).endswith("ckpt-40")
    assert _checkpoint_steps(workdir) == [20, 30, 40]  # the manager knows and rotates them


def _variable_bytes(workdir):
    gan, _, _ = training.load_run(str(workdir))
    return sum(int(np.prod(v.shape)) * np.dtype(v.dtype).itemsize for v in gan.variables)


def test_the_disk_check_counts_what_a_resume_needs(tmp_path, monkeypatch):
    workdir = tmp_path / "run"
    training.train(_config(workdir, steps=20))
    held = sum(os.path.getsize(path) for path in glob.glob(str(workdir / "checkpoints" / "ckpt-*")))
    new_run_needs = training._FREE_SPACE_FACTOR * _variable_bytes(workdir)
    free = new_run_needs - held // 2  # less than a new run needs, more than the resume
    monkeypatch.setattr(shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(1, 1, free))
    gan, _ = training.train(_config(workdir, steps=30))
    assert int(gan.step.numpy()) == 30
    with pytest.raises(ConfigError, match="MB free; this run's checkpoints need about"):
        training.train(_config(tmp_path / "new"))


def _enospc(path):
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), path)


@pytest.mark.parametrize("writer", ["loss_plot", "checkpoint"])
def test_a_disk_that_fills_during_training_is_one_line_and_the_run_resumes(
        tmp_path, monkeypatch, capsys, writer):
    workdir = tmp_path / "run"
    argv = ["tfgan-train", f"--workdir={workdir}", *presets.format_flags(
        dataclasses.asdict(_config(workdir, steps=40)))[1:]]
    if writer == "loss_plot":
        def save_loss_plot(history, path):
            raise _enospc(path + ".tmp")

        monkeypatch.setattr(callbacks.plots, "save_loss_plot", save_loss_plot)
        expected = f"error: {workdir}/losses.png.tmp: No space left on device; "
    else:
        save = tf.train.CheckpointManager.save

        def save_until_20(self, checkpoint_number=None, **kwargs):
            if checkpoint_number > 20:  # the disk fills while the writer writes its parts
                unfinished = workdir / "checkpoints" / f"ckpt-{checkpoint_number}_temp"
                unfinished.mkdir()
                (unfinished / "part-00000-of-00001.data-00000-of-00001").write_bytes(b"\0")
                raise tf.errors.ResourceExhaustedError(
                    None, None, f"{unfinished}; No space left on device")
            return save(self, checkpoint_number=checkpoint_number, **kwargs)

        monkeypatch.setattr(tf.train.CheckpointManager, "save", save_until_20)
        expected = f"error: {workdir}/checkpoints/ckpt-30_temp; No space left on device; "
    with pytest.raises(SystemExit) as caught:
        train_cli.run(argv)
    assert caught.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith(expected) and err.endswith(
        "the latest checkpoint is kept: run the same command to resume once that is fixed\n")
    assert len(err.splitlines()) == 1
    assert not glob.glob(str(workdir / "**" / "*.tmp"), recursive=True)
    assert not glob.glob(str(workdir / "checkpoints" / "*_temp"))
    kept = _checkpoint_steps(workdir)
    monkeypatch.undo()  # space is freed: the same command finishes the run
    with pytest.raises(SystemExit) as caught:
        train_cli.run(argv)
    assert caught.value.code is None
    assert f"Resumed from {workdir}/checkpoints/ckpt-{kept[-1]}" in capsys.readouterr().out
    assert _checkpoint_steps(workdir)[-1] == 40 and _history_steps(workdir)[-1] == 40


@pytest.mark.parametrize("fault", ["read_only", "under_a_file"])
def test_an_export_that_cannot_be_written_is_one_line_and_publishes_nothing(
        tmp_path, monkeypatch, capsys, fault):
    workdir = tmp_path / "run"
    training.train(_config(workdir, steps=10))
    export_dir = tmp_path / "export"
    if fault == "read_only":  # as root, chmod does not stop writes: the error is injected
        def read_only(root):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(root))

        monkeypatch.setattr(export_lib, "_sync_tree", read_only)
        message = "Read-only file system"
    else:
        (tmp_path / "file").write_text("not a directory")
        export_dir = tmp_path / "file" / "export"
        message = "Not a directory"
    with pytest.raises(SystemExit) as caught:
        export_cli.run(["tfgan-export", f"--workdir={workdir}", f"--export_dir={export_dir}"])
    assert caught.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.endswith(f": {message}\n") and err.count("\n") == 1
    if fault == "read_only":
        assert os.listdir(export_dir / "gaussian_1d") == []  # no version, no staging directory
