"""tfgan.cli.flags: one flag style for every tool: importable together, grouped help, one-line
errors with exit status 2, typo suggestions, `MNIST_PATH` as the default of --mnist_path."""

import logging

import pytest
import tensorflow as tf
from absl import flags

import tfgan
from script_fixtures import run_script
from tfgan.cli import evaluate, export, flags as cli_flags, sample, serve, train, train_classifier

TOOLS = {
    "train": train, "export": export, "serve": serve, "sample": sample, "evaluate": evaluate,
    "train_classifier": train_classifier,
}


def run_tool(tool, *args):
    with pytest.raises(SystemExit) as caught:
        tool.run([f"tfgan-{tool.__name__.rsplit('.', 1)[-1]}", *args])
    return caught.value.code


def test_every_tool_imports_beside_the_others():
    # This module imported them all: each tool has its own FlagValues, none uses absl's global.
    assert len({id(tool.FLAGS) for tool in TOOLS.values()}) == len(TOOLS)
    assert "workdir" in train.FLAGS and "workdir" in export.FLAGS
    assert "workdir" not in flags.FLAGS


@pytest.mark.parametrize("name", sorted(TOOLS))
def test_a_misspelled_flag_is_one_line_with_a_suggestion_and_status_2(name, capsys, tmp_path):
    tool = TOOLS[name]
    wanted = "seed" if "seed" in tool.FLAGS else "model_name"
    code = run_tool(tool, f"--{wanted[:-1]}x={tmp_path}")
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.startswith(f"error: unknown flag --{wanted[:-1]}x; did you mean --{wanted}")
    assert err.endswith("? (--help lists the flags)") and len(err.splitlines()) == 1
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("tool, args, message", [
    (train, ["--steps=many"], "error: --steps=many: --steps takes an integer"),
    (train, ["--minibatch=3"], "error: --minibatch=3: --minibatch takes true or false "
                               "(--minibatch or --nominibatch)"),
    (train, ["--steps"], "error: --steps needs a value: --steps=<an integer>"),
    (train, ["--flagfile=no_such.flags"],
     "error: --flagfile=no_such.flags: cannot read it (a preset such as "
     "configs/mnist_mlp.flags)"),
    (train, ["stray"], "error: unexpected arguments: stray (every option is a --flag; "
                       "--help lists them)"),
    (train, ["--", "--steps=3"], "error: unexpected arguments after --: --steps=3"),
    (sample, ["--model_name=m", "--timeout=soon"], "error: --timeout=soon: --timeout takes a "
                                                   "number"),
    (serve, ["--port=-1"], "error: --port=-1: -1 is not an integer in the range [0, 65535]"),
    (export, ["--workdir=no_such_run", "--export_dir=x"],
     "error: --workdir=no_such_run: no such file or directory; expected a run directory "
     "written by tfgan-train"),
    (export, [], "error: --workdir is required: a run directory written by tfgan-train"),
    (train_classifier, ["--mnist_path=no_such.npz"],
     "error: --mnist_path=no_such.npz: no such file or directory; expected a Keras-layout "
     "mnist.npz or a folder with the four MNIST idx .gz files"),
])
def test_bad_values_are_one_line_naming_the_flag_and_status_2(tool, args, message, capsys,
                                                                tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run_tool(tool, *args) == 2
    assert capsys.readouterr().err.strip() == message
    assert not list(tmp_path.iterdir())


def test_help_groups_the_tools_own_flags_with_defaults(capsys):
    assert run_tool(train, "--help") == 0
    out = capsys.readouterr().out
    assert out.startswith("Trains a GAN")
    headings = [line[:-1] for line in out.splitlines() if line.endswith(":")
                and not line.startswith(" ")]
    assert headings == ["preset", "data", "model", "loss", "schedule", "optimizer", "run",
                        "export", "presets (--preset=NAME)"]
    assert "  --steps (default: 10000)\n      Total training iterations" in out
    assert "  --[no]minibatch (default: false)" in out
    assert "logtostderr" not in out and "--helpfull also lists" in out


@pytest.mark.parametrize("name", sorted(TOOLS))
def test_every_tool_prints_its_version(capsys, name):
    assert run_tool(TOOLS[name], "--version", "--no_such_flag") == 0
    expected = (f"tfgan-{name} {tfgan.__version__}\n" if name != "serve" else  # the stock lines
                f"TensorFlow ModelServer: tfgan-serve {tfgan.__version__}\nTensorFlow Library: ")
    assert capsys.readouterr().out.startswith(expected)


def test_helpfull_adds_absls_flags_after_the_tools_own(capsys):
    assert run_tool(export, "--helpfull") == 0
    out = capsys.readouterr().out
    assert out.index("--export_dir") < out.index("logtostderr")


def test_absls_own_flags_are_accepted(monkeypatch):
    parse = cli_flags.flags_parser(sample.FLAGS, sample.__doc__)
    assert parse(["tfgan-sample", "--model_name=m", "--verbosity=1"]) == ["tfgan-sample"]
    assert flags.FLAGS["verbosity"].present and sample.FLAGS.model_name == "m"
    parse(["tfgan-sample"])
    assert not flags.FLAGS["verbosity"].present and sample.FLAGS.model_name is None


@pytest.mark.parametrize("tool", [train, evaluate, train_classifier])
def test_mnist_path_defaults_to_the_environment(tool, monkeypatch):
    monkeypatch.setenv("MNIST_PATH", "/data/mnist.npz")
    cli_flags.flags_parser(tool.FLAGS, tool.__doc__)(["tool"])
    assert tool.FLAGS.mnist_path == "/data/mnist.npz"
    cli_flags.flags_parser(tool.FLAGS, tool.__doc__)(["tool", "--mnist_path=other.npz"])
    assert tool.FLAGS.mnist_path == "other.npz"
    # A later run in the same process (a new parser, as each run() makes) without the
    # variable gets the flag's own default back.
    monkeypatch.delenv("MNIST_PATH")
    cli_flags.flags_parser(tool.FLAGS, tool.__doc__)(["tool"])
    assert not tool.FLAGS.mnist_path


def test_arguments_after_a_double_dash_pass_through_when_asked():
    values = flags.FlagValues()
    flags.DEFINE_integer("seed", 0, "Seed.", flag_values=values)
    parse = cli_flags.flags_parser(values, "A tool.", pass_through=True)
    assert parse(["tool", "--seed=3", "--", "--steps=9", "x"]) == ["tool", "--steps=9", "x"]
    assert values.seed == 3


def test_a_script_outside_the_package_reports_the_same_way(tmp_path):
    result = run_script("mode_collapse_study.py", "--dataset=ring", "--remdy=plain",
                        cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == ("error: unknown flag --remdy; did you mean --remedy? "
                                     "(--help lists the flags)")


def test_quiet_logs_hold_back_libraries_but_not_tfgan():
    cli_flags.quiet_library_logs()
    assert not logging.getLogger("absl").isEnabledFor(logging.WARNING)
    assert not logging.getLogger("tensorflow").isEnabledFor(logging.WARNING)
    assert logging.getLogger("tfgan.serving").isEnabledFor(logging.WARNING)


@pytest.mark.parametrize("error, line", [
    (PermissionError(13, "Permission denied", "out/report.json"),
     "error: out/report.json: Permission denied\n"),
    (OSError(28, "No space left on device"), "error: No space left on device\n"),
    (tf.errors.ResourceExhaustedError(None, None, "ckpt-5_temp; No space left on device\nmore"),
     "error: ckpt-5_temp; No space left on device\n"),
])
def test_a_file_system_error_of_any_tool_is_one_line_and_status_1(capsys, error, line):
    def main(argv):
        raise error

    with pytest.raises(SystemExit) as caught:
        cli_flags.run_tool(main, flags.FlagValues(), "A tool.", argv=["tfgan-tool"])
    assert caught.value.code == 1
    assert capsys.readouterr().err == line
