"""Tests for tfgan.presets: the presets by name, the same options as the command line reads."""

import os

import pytest
from absl import flags

from script_fixtures import ROOT
from tfgan import presets
from tfgan.cli.flags import config_from_flags, define_flags
from tfgan.config import TrainConfig


def test_the_presets_are_the_repository_configs():
    configs = sorted(name[:-len(".flags")] for name in os.listdir(os.path.join(ROOT, "configs")))
    assert list(presets.names()) == configs
    assert os.path.realpath(presets.path("gaussian_1d")) == os.path.join(
        os.path.realpath(ROOT), "configs", "gaussian_1d.flags")


@pytest.mark.parametrize("name", presets.names())
def test_a_preset_reads_as_the_command_line_reads_its_file(name):
    values = flags.FlagValues()
    define_flags(TrainConfig, values)
    values(["tfgan-train", f"--flagfile={presets.path(name)}"])
    assert presets.config(name) == config_from_flags(TrainConfig, values)


def test_overrides_replace_the_preset_options():
    config = presets.config("gaussian_1d", steps=7, g_hidden_units=[4, 4], workdir="run")
    assert (config.steps, config.g_hidden_units, config.workdir) == (7, (4, 4), "run")
    assert config.minibatch and config.dataset == "gaussian_1d"  # the rest is the preset's


@pytest.mark.parametrize("call, message", [
    (lambda: presets.config("no_such"), r"unknown preset 'no_such'; the presets are gaussian_1d, "),
    (lambda: presets.config("gaussian_1d", stpes=3), r"TrainConfig has no option stpes\. "),
    (lambda: presets.parse_flags(["--minibatch=maybe"]), r"--minibatch takes true or false"),
    (lambda: presets.parse_flags(["--no_such=1"]), r"is not a tfgan-train option"),
    (lambda: presets.parse_flags(["steps=3"]), r"is not a tfgan-train option"),
    (lambda: presets.parse_flags(["--steps=many"]), r"'--steps=many': invalid literal"),
])
def test_bad_names_and_lines_raise_one_line(call, message):
    with pytest.raises(presets.PresetError, match=message):
        call()


def test_format_flags_writes_what_parse_flags_reads():
    options = {"minibatch": True, "ema_warmup": False, "g_hidden_units": (16, 16),
               "learning_rate": 2e-4, "loss": "hinge", "steps": 200}
    words = presets.format_flags(options)
    assert words == ["--minibatch", "--noema_warmup", "--g_hidden_units=16,16",
                     "--learning_rate=0.0002", "--loss=hinge", "--steps=200"]
    assert presets.parse_flags(["# a comment", "", *words]) == options


def test_summary_is_one_line_naming_data_remedies_and_steps():
    assert presets.summary("gaussian_1d") == (
        "gaussian_1d data, mlp networks, minibatch discrimination, 5000 steps")
    assert presets.summary("grid") == "grid data, mlp networks, r1 penalty, EMA generator, 60000 steps"

