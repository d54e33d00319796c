"""Tests for tfgan.study: flags of a row, measurements, the table, one tiny end-to-end row."""

import dataclasses
import json
import os
import runpy

import numpy as np
import pytest

from script_fixtures import ROOT
from tfgan import presets, study
from tfgan.config import TrainConfig
from tfgan.data import grid_modes, ring_modes

# A ring GAN small enough to train in a test.
TINY_PRESET = TrainConfig(
    dataset="ring", architecture="mlp", z_dim=2, prior="normal", g_hidden_units=(8,),
    d_hidden_units=(8,), output_activation="linear", batch_size=8, steps=6, sample_every=3,
    num_grid_samples=10, log_every=3, checkpoint_every=3)


def _preset_config(name):
    return dataclasses.asdict(presets.config(name))


def test_every_study_data_set_has_a_preset_that_trains_its_data():
    for name, data_set in study.STUDY_DATA.items():
        assert _preset_config(name)["dataset"] == data_set


def _preset_changes(base, preset):
    """The options in which `configs/<preset>.flags` differs from `configs/<base>.flags`."""
    base, preset = _preset_config(base), _preset_config(preset)
    return {key: preset[key] for key in preset if preset[key] != base[key]}


_STACKED_RECIPE = {"gradient_penalty": "r1", "gradient_penalty_weight": 1.0, "ema_decay": 0.999,
                   "ema_warmup": True}


@pytest.mark.parametrize("data_set, recipe", [
    ("ring", {"gradient_penalty": "r1", "gradient_penalty_weight": 0.1, "lr_schedule": "linear",
              "steps": 90000}),
    ("grid", {"gradient_penalty": "r1", "gradient_penalty_weight": 0.1, "ema_decay": 0.999,
              "ema_warmup": True, "steps": 60000}),
    ("stacked_mnist", {**_STACKED_RECIPE, "steps": 36000}),
    ("stacked_mnist_hard", {**_STACKED_RECIPE, "steps": 18000}),
])
def test_the_presets_are_the_tutorials_gan_plus_their_recipe(data_set, recipe):
    assert _preset_changes(f"{data_set}_tutorial", data_set) == recipe


@pytest.mark.parametrize("suffix, also_changed", [("_tutorial", {}), ("", {"steps": 18000})])
def test_the_hard_stacked_mnist_presets_narrow_the_discriminator(suffix, also_changed):
    assert _preset_changes(f"stacked_mnist{suffix}", f"stacked_mnist_hard{suffix}") == {
        "d_width": 0.0625, **also_changed}


def _result(seed, modes, quality=None, kl=0.1, seconds=60.0):
    return study.RunResult(seed=seed, steps=100, modes_captured=modes,
                           high_quality_fraction=quality, kl=kl, train_seconds=seconds)


def test_training_config_is_preset_then_remedy_then_overrides():
    config = study.training_config("ring", "pack", TINY_PRESET, {"steps": 3})
    # The preset's batch of 8 becomes 4 x 8 samples: D still judges 8 (packs) per step.
    assert (config.dataset, config.pack, config.batch_size, config.steps) == ("ring", 4, 32, 3)
    assert config.g_hidden_units == (8,) and config.prior == "normal"
    assert study.training_config("ring", "pack", TINY_PRESET, {"batch_size": 16}).batch_size == 16
    assert study.training_config("ring", "plain", TINY_PRESET) == TINY_PRESET


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: study.training_config("mnist", "plain", TINY_PRESET),
         r"Received: dataset='mnist'$"),
        (lambda: study.training_config("ring", "unrolled", TINY_PRESET),
         r"Received: remedy='unrolled'$"),
        (lambda: study.format_row("ring", "plain", []), r"Received: results=\[\]$"),
    ],
)
def test_invalid_arguments_raise(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_measure_counts_modes_and_high_quality_samples():
    # 3 points on each of the first 6 ring modes, plus 2 points far from every mode.
    points = np.concatenate([np.repeat(ring_modes()[:6], 3, axis=0), [[0.0, 0.0], [5.0, 5.0]]])
    # Reverse KL of 6 equal modes of 8: sum 1/6 log(8/6) = log(4/3).
    assert study.measure(points, "ring") == {
        "modes_captured": 6, "high_quality_fraction": 18 / 20, "kl": pytest.approx(np.log(4 / 3))}
    # Offsets of 2.9 std stay high quality on the grid; 3.1 std do not.
    offsets = np.where(np.arange(25)[:, None] % 2 == 0, 2.9, 3.1) * 0.05 * np.array([[1.0, 0.0]])
    measured = study.measure(grid_modes() + offsets, "grid")
    assert measured["modes_captured"] == 13 and measured["high_quality_fraction"] == 13 / 25


def test_format_row_gives_mean_spread_each_seed_and_the_command():
    row = study.format_row("ring", "worse", [_result(0, 8, 0.98, kl=0.1, seconds=60),
                                             _result(1, 6, 0.96, kl=0.3, seconds=120)],
                           {"steps": 100})
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    # mean 7, sample std sqrt(2) = 1.41; 97 % +- 1.41 %.
    assert cells[:9] == ["ring", "worse", "0,1", "100", "7.0 ± 1.4 of 8", "97.0 ± 1.4 %",
                         "0.200 ± 0.141", "8 / 98.0 % / 0.100, 6 / 96.0 % / 0.300", "1.5"]
    assert cells[9] == ("`python scripts/mode_collapse_study.py --dataset=ring --remedy=worse "
                        "--seeds=0,1 -- --steps=100`")
    stacked = study.format_row("stacked_mnist", "plain", [_result(0, 990, kl=0.1),
                                                           _result(1, 1000, kl=0.3)])
    assert "| 995.0 ± 7.1 of 1000 | – | 0.20 ± 0.14 | 990 / 0.10, 1000 / 0.30 |" in stacked
    # The hard variant is its own row, measured on Stacked MNIST's 1000 modes.
    hard = study.format_row("stacked_mnist_hard", "plain", [_result(0, 990, kl=0.1)])
    assert hard.startswith("| stacked_mnist_hard | plain | 0 | 100 | 990.0 ± 0.0 of 1000 | – |")


def test_update_table_replaces_its_row_and_keeps_the_rest(tmp_path):
    path = str(tmp_path / "study.md")
    with open(path, "w") as f:
        f.write(f"# Study\n\nProse.\n\n{study.TABLE_BEGIN}\n{study.TABLE_END}\n\n## After\n")
    grid_row = study.format_row("grid", "plain", [_result(0, 25, 0.9)])
    study.update_table(path, grid_row)
    study.update_table(path, study.placeholder_row("ring", "pack", [0, 1]))
    study.update_table(path, study.format_row("ring", "plain", [_result(0, 5, 0.5)]))
    measured_pack = study.format_row("ring", "pack", [_result(0, 8, 0.97)])
    study.update_table(path, measured_pack)
    # A placeholder does not clobber a measured row.
    study.update_table(path, study.placeholder_row("ring", "pack", [0, 1]), replace=False)
    text = open(path).read()
    assert text.startswith("# Study\n\nProse.\n\n") and text.endswith("\n## After\n")
    table = text.split(study.TABLE_BEGIN)[1].split(study.TABLE_END)[0]
    rows = [line for line in table.splitlines() if line.startswith("| ring") or
            line.startswith("| grid")]
    assert [row.split("|")[1:3] for row in rows] == [
        [" ring ", " plain "], [" ring ", " pack "], [" grid ", " plain "]]
    assert rows[1] == measured_pack and rows[2] == grid_row
    assert table.count("| Data set |") == 1 and study.NOT_RUN not in table


def test_update_table_creates_a_missing_file(tmp_path):
    path = str(tmp_path / "new.md")
    row = study.placeholder_row("stacked_mnist", "plain", [0], {"mnist_path": "m.npz"})
    study.update_table(path, row)
    text = open(path).read()
    assert text == f"{study.TABLE_BEGIN}\n{study.TABLE_HEADER}{row}\n{study.TABLE_END}\n"
    assert "not run yet" in row and "-- --mnist_path=m.npz`" in row


def test_run_study_trains_measures_writes_the_row_and_reuses_finished_runs(
        tmp_path, monkeypatch):
    table = str(tmp_path / "table.md")
    lines = []
    results, row = study.run_study("ring", "pack", [3], str(tmp_path / "runs"), TINY_PRESET,
                                   table, overrides={"batch_size": 8}, num_samples=40,
                                   print_fn=lines.append)
    (result,) = results
    assert result.seed == 3 and result.steps == 6 and result.kl >= 0
    assert 0 <= result.modes_captured <= 8 and 0.0 <= result.high_quality_fraction <= 1.0
    workdir = tmp_path / "runs" / "ring" / "pack" / "seed3"
    options = json.loads((workdir / "options.json").read_text())
    assert (options["pack"], options["batch_size"], options["seed"]) == (4, 8, 3)
    # The packed discriminator's feature plots were drawn (packs of 4 of the 10 grid samples).
    assert sorted(os.listdir(workdir / "features")) == ["features_000003.png",
                                                          "features_000006.png"]
    saved = json.loads((workdir / study.RESULT_FILE).read_text())
    assert study.RunResult(**saved["result"]) == result and saved["num_samples"] == 40
    assert row in open(table).read()
    assert lines[:2] == [f"ring pack seed 3: training in {workdir}",
                         "ring pack seed 3: measuring 40 samples"]
    assert lines[2].startswith("ring pack seed 3: ")

    def no_training(config):
        raise AssertionError("a finished run was trained again")

    monkeypatch.setattr(study.training, "train", no_training)
    again, same_row = study.run_study("ring", "pack", [3], str(tmp_path / "runs"), TINY_PRESET,
                                      table, overrides={"batch_size": 8}, num_samples=40,
                                      print_fn=lines.append)
    assert again == results and same_row == row

    # A result saved before toys had a KL is measured again; its training time is kept.
    saved["result"].update(kl=None, train_seconds=100.0)
    (workdir / study.RESULT_FILE).write_text(json.dumps(saved))
    monkeypatch.undo()
    (remeasured,), _ = study.run_study("ring", "pack", [3], str(tmp_path / "runs"), TINY_PRESET,
                                       table, overrides={"batch_size": 8}, num_samples=40)
    assert remeasured.kl == result.kl and remeasured.steps == 6
    assert remeasured.train_seconds >= 100.0


@pytest.mark.parametrize("dataset, overrides, expected", [
    ("stacked_mnist", ["--steps=9"], ["--mnist_path=/data/mnist.npz", "--steps=9"]),
    ("stacked_mnist", ["--mnist_path=m.npz"], ["--mnist_path=m.npz"]),
    ("ring", ["--steps=9"], ["--steps=9"]),
])
def test_the_study_script_takes_mnist_path_from_the_environment(monkeypatch, dataset,
                                                                overrides, expected):
    monkeypatch.syspath_prepend(os.path.join(ROOT, "scripts"))  # as `python scripts/...` has it
    script = runpy.run_path(os.path.join(ROOT, "scripts", "mode_collapse_study.py"),
                            run_name="mode_collapse_study")
    monkeypatch.setenv("MNIST_PATH", "/data/mnist.npz")
    assert script["_with_mnist_path"](dataset, overrides) == expected
