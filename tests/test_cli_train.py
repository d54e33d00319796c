import dataclasses
import os

import pytest

from script_fixtures import ROOT, run_script
from tfds_fixtures import unreachable
from tfgan.cli import train
from tfgan.config import TrainConfig


def _train(*args, cwd):
    return run_script("train.py", *args, cwd=cwd)


@pytest.mark.parametrize("flags, message", [
    (["--dataset=nonexistent_set"], "nonexistent_set"),
    (["--dataset=quadratic", "--steps=0"], "--steps must be a positive integer, got 0"),
    (["--dataset=quadratic", "--z_dim=-3"], "--z_dim must be a positive integer, got -3"),
    (["--dataset=quadratic", "--output_activation=linear", "--architecture=dcgan"],
     "--architecture=dcgan"),
    (["--dataset=quadratic", "--g_hidden_units=16,x"], "--g_hidden_units takes"),
])
def test_bad_flags_exit_2_with_one_line_and_write_nothing(tmp_path, monkeypatch, capsys, flags,
                                                          message):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as caught:
        train.run(["tfgan-train", "--workdir=run", *flags])
    assert caught.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and message in err, err
    assert not os.path.exists(tmp_path / "run")


def test_preset_flagfile_trains_and_leaves_plots(tmp_path):
    result = _train(f"--flagfile={ROOT}/configs/toy_quadratic.flags", "--workdir=run",
                    "--steps=40", "--sample_every=20", "--log_every=20", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stderr == ""  # no TensorFlow warnings or INFO lines, only progress on stdout
    run = tmp_path / "run"
    for artifact in ("losses.png", "progress.gif", "history.csv", "samples/000040.png",
                     "features/features_000040.png"):
        assert (run / artifact).exists(), artifact
    assert os.listdir(run / "tensorboard")


def test_offline_mnist_fails_in_one_line_and_leaves_nothing(tmp_path, monkeypatch, capsys):
    tried = unreachable(monkeypatch)
    monkeypatch.delenv("MNIST_PATH", raising=False)
    with pytest.raises(SystemExit) as caught:
        train.run(["tfgan-train", f"--flagfile={ROOT}/configs/mnist_mlp.flags",
                   f"--workdir={tmp_path / 'run'}", f"--data_dir={tmp_path / 'tfds'}"])
    assert caught.value.code == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: Could not download the tensorflow-datasets data set 'mnist': "
                          "cannot reach storage.googleapis.com:443 ")
    assert "--mnist_path=" in err and "MNIST_PATH" in err and "--data_dir=" in err
    assert len(err.splitlines()) == 1 and len(tried) == 1
    assert not list(tmp_path.iterdir())


def test_every_training_option_is_in_a_help_group():
    grouped = {name for names in train.GROUPS.values() for name in names}
    assert [f.name for f in dataclasses.fields(TrainConfig) if f.name not in grouped] == []
