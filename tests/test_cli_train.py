import dataclasses
import json
import os

import pytest

from script_fixtures import ROOT, run_script
from tfds_fixtures import unreachable
from tfgan import presets
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


def test_a_preset_by_name_with_later_flags_overriding_it(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as caught:
        train.run(["tfgan-train", "--steps=1", "--preset=gaussian_1d", "--steps=20",
                   "--sample_every=10", "--log_every=10", "--workdir=run"])
    assert caught.value.code is None  # app.run's exit after a main that returns
    options = json.loads((tmp_path / "run" / "options.json").read_text())
    assert dataclasses.replace(presets.config("gaussian_1d"), steps=20, sample_every=10,
                               log_every=10, workdir="run") == TrainConfig.from_dict(options)
    assert capsys.readouterr().out.strip().endswith("Done: run")


def test_an_unknown_preset_is_one_line_listing_the_presets(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as caught:
        train.run(["tfgan-train", "--preset=mnist_gan", "--workdir=run"])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert err == (f"error: --preset=mnist_gan: no such preset; one of "
                   f"{', '.join(presets.names())}\n")
    assert not list(tmp_path.iterdir())


def test_help_lists_every_preset_on_one_line(capsys):
    with pytest.raises(SystemExit) as caught:
        train.run(["tfgan-train", "--help"])
    assert caught.value.code == 0
    listing = capsys.readouterr().out.split("presets (--preset=NAME):\n")[1].split("\n\n")[0]
    assert [line.split()[0] for line in listing.splitlines()] == list(presets.names())
    assert "  gaussian_1d " in listing and presets.summary("gaussian_1d") in listing


def test_offline_mnist_fails_in_one_line_and_leaves_nothing(tmp_path, monkeypatch, capsys):
    tried = unreachable(monkeypatch)
    monkeypatch.delenv("MNIST_PATH", raising=False)
    with pytest.raises(SystemExit) as caught:
        train.run(["tfgan-train", "--preset=mnist_mlp",
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
