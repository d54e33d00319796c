"""How every tfgan tool reads its flags, prints its help and reports a bad command line.

Each tool defines its flags in its own `absl.flags.FlagValues` (so the tools import side by
side) and runs through `run_tool`, which gives them one behaviour:

- `--help` (`-h`, `--helpshort`) prints the tool's description and its own flags in groups,
  each with its default; `--helpfull` adds absl's, TensorFlow's and tensorflow-datasets'
  flags, which are accepted too (`--verbosity=0` shows TensorFlow's log lines again).
- `--version` prints the tool's name and tfgan's version.
- A bad flag, value or stray argument is one `error: ...` line that names the flag and says
  what it takes (an unknown flag gets the closest names), and exit status 2 before anything
  is done.
- `--mnist_path` defaults to the `MNIST_PATH` environment variable when it is set.
- TensorFlow's and tensorflow-datasets' log lines below ERROR are held back.

The flags of a config dataclass (`TrainConfig`) are generated from its fields.
"""

import dataclasses
import difflib
import logging
import os
import re
import sys
import textwrap

import tensorflow as tf
from absl import app, flags
from absl import logging as absl_logging

import tfgan
from tfgan import presets
from tfgan.cli.errors import FAILURE, USAGE, describe, fail

# Flags whose default an environment variable sets, in every tool that has them.
ENV_DEFAULTS = {"mnist_path": "MNIST_PATH"}
_DEFINED_DEFAULTS = {}  # flag -> its default as defined, kept across runs in one process
_HELP_FLAGS = ("-h", "-?", "--help", "--helpshort")
_HELPFULL_FLAG = "--helpfull"
_VERSION_FLAG = "--version"
_HELP_WIDTH = 100
OTHER_GROUP = "other"


def _flag_fields(config_class):
    """(flag name, field) of each field of `config_class` that is a flag.

    A field's flag is named after it unless its metadata says `flag="name"`; `flag=None`
    makes a field that only Python callers set.
    """
    for field in dataclasses.fields(config_class):
        name = field.metadata.get("flag", field.name)
        if name is not None:
            yield name, field


def define_flags(config_class, flag_values):
    """Defines one absl flag per field of `config_class` (str, int, float, bool, tuple).

    Field metadata: `help`, `flag` (see `_flag_fields`), `lower_bound` / `upper_bound`.
    """
    for name, field in _flag_fields(config_class):
        help_text = field.metadata.get("help", name)
        bounds = {key: field.metadata[key] for key in ("lower_bound", "upper_bound")
                  if key in field.metadata}
        default = field.default
        if isinstance(default, bool):
            flags.DEFINE_bool(name, default, help_text, flag_values=flag_values)
        elif isinstance(default, int):
            flags.DEFINE_integer(name, default, help_text, flag_values=flag_values, **bounds)
        elif isinstance(default, float):
            flags.DEFINE_float(name, default, help_text, flag_values=flag_values, **bounds)
        elif isinstance(default, tuple):
            flags.DEFINE_list(name, [str(v) for v in default], help_text,
                              flag_values=flag_values)
        else:
            flags.DEFINE_string(name, default, help_text, flag_values=flag_values)


def define_fidelity_flags(flag_values):
    """`--truncation` and `--rejection`, the sampling inputs of `tfgan-sample` and
    `tfgan-evaluate` (checked by `check_fidelity_flags`)."""
    flags.DEFINE_float("truncation", 1.0, "Truncation psi in (0, 1]: z comes from the prior "
                       "truncated to its central psi of probability mass per component (fewer, "
                       "more typical samples as psi falls); 1 is off.", flag_values=flag_values)
    flags.DEFINE_float("rejection", None, "Guided exports (tfgan-export "
                       "--rejection_candidates=K, K candidates per sample): the strength r >= 0 "
                       "(1: Discriminator Rejection Sampling, 0: off, more: only what the "
                       "discriminator rates best). Default: the export's, 1.",
                       flag_values=flag_values)


def check_fidelity_flags(flag_values):
    """Fails in one line (status 2) on a `--truncation` or `--rejection` out of range."""
    truncation, rejection = flag_values.truncation, flag_values.rejection
    if not 0.0 < truncation <= 1.0:  # NaN too
        fail(f"--truncation={truncation}: psi must be in (0, 1] (1 is off)", USAGE)
    if rejection is not None and not 0.0 <= rejection < float("inf"):
        fail(f"--rejection={rejection}: the strength must be a finite number >= 0 "
             "(0: off, 1: DRS)", USAGE)


def define_preset_flag(flag_values, help_text):
    """Defines `--preset`, the name of one of `tfgan.presets.names()`; `--help` lists them."""
    flags.DEFINE_string("preset", "", help_text, flag_values=flag_values)


def check_preset(name):
    """Exits with status 2 and one line listing the presets unless `name` is one of them."""
    try:
        return presets.path(name)
    except presets.PresetError:
        fail(f"--preset={name}: no such preset; one of {', '.join(presets.names())}", USAGE)


def expand_preset(argv):
    """`argv` with the preset's flag file read where `--preset=NAME` stands.

    Flags after `--preset` override the preset's, as after a `--flagfile`.

    Args:
        argv: list of str, the command line (`argv[0]` the program).

    Returns:
        list of str, with `--flagfile=<the preset's file>` after each `--preset=NAME`.
    """
    expanded = []
    for arg in argv:
        expanded.append(arg)
        if arg.startswith("--preset="):
            expanded.append(f"--flagfile={check_preset(arg.split('=', 1)[1])}")
    return expanded


def config_from_flags(config_class, flag_values):
    """Reads the parsed flags back into a `config_class` instance.

    A field's `from_flag` metadata, a callable, turns the flag's value into the field's.

    Raises:
        ValueError: a list flag holds an item of the wrong type.
    """
    kwargs = {}
    for name, field in _flag_fields(config_class):
        value = flag_values[name].value
        if isinstance(field.default, tuple):
            item_type = field.metadata.get("item_type", str)
            try:
                value = tuple(item_type(item) for item in value)
            except ValueError:
                raise ValueError(
                    f"--{name} takes a comma-separated list of {item_type.__name__}; "
                    f"got {','.join(value)!r}"
                ) from None
        kwargs[field.name] = field.metadata.get("from_flag", lambda v: v)(value)
    return config_class(**kwargs)


def _takes(flag):
    """What a flag takes, in words: `an integer >= 1`, `one of a, b`, `true or false`, ..."""
    parser = flag.parser
    if isinstance(flag, flags.BooleanFlag):
        return f"true or false (--{flag.name} or --no{flag.name})"
    enum_values = getattr(parser, "enum_values", None)
    if enum_values:
        return f"one of {', '.join(enum_values)}"
    kind = {"int": "an integer", "float": "a number"}.get(flag.flag_type(), None)
    if kind is None:
        return "a comma-separated list" if flag.flag_type() == "list" else "a string"
    low = getattr(parser, "lower_bound", None)
    high = getattr(parser, "upper_bound", None)
    if low is not None and high is not None:
        return f"{kind} in [{low}, {high}]"
    if low is not None:
        return f"{kind} >= {low}"
    if high is not None:
        return f"{kind} <= {high}"
    return kind


def _default_text(flag):
    value = flag.default
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None or value == "" or value == []:
        return "unset"
    if isinstance(value, (list, tuple)):
        return ",".join(str(item) for item in value)
    return str(value)


def _flag_help(flag):
    prefix = "--[no]" if isinstance(flag, flags.BooleanFlag) else "--"
    head = f"  {prefix}{flag.name} (default: {_default_text(flag)})"
    env = ENV_DEFAULTS.get(flag.name)
    body = flag.help + (f" Default: the {env} environment variable when set." if env else "")
    enum_values = getattr(flag.parser, "enum_values", None)
    if enum_values and not all(value in body for value in enum_values):
        body += f" One of {', '.join(enum_values)}."
    wrapped = textwrap.fill(body, _HELP_WIDTH, initial_indent="      ",
                            subsequent_indent="      ")
    return f"{head}\n{wrapped}"


def tool_help(flag_values, doc, groups=None, full=False):
    """The text of `--help` (or with `full`, of `--helpfull`).

    Args:
        flag_values: the tool's `absl.flags.FlagValues`.
        doc: str, the tool's description (its module docstring).
        groups: dict of group name -> flag names, in the order to print; flags in no group
            are printed last under "other" (or "flags" when there are no groups). Defaults
            to `None`.
        full: bool, add absl's, TensorFlow's and tensorflow-datasets' flags.
    """
    groups = dict(groups or {})
    grouped = {name for names in groups.values() for name in names}
    rest = sorted(name for name in flag_values if name not in grouped)
    if rest:
        groups[OTHER_GROUP if groups else "flags"] = rest
    sections = [doc.strip()]
    for group, names in groups.items():
        lines = [_flag_help(flag_values[name]) for name in names if name in flag_values]
        if lines:
            sections.append(f"{group}:\n" + "\n".join(lines))
    if "preset" in flag_values:
        sections.append("presets (--preset=NAME):\n" + "\n".join(
            f"  {name:<28} {presets.summary(name)}" for name in presets.names()))
    if full:
        sections.append("absl's, TensorFlow's and tensorflow-datasets' flags:\n"
                        + flags.FLAGS.get_help())
    else:
        sections.append("--helpfull also lists absl's, TensorFlow's and tensorflow-datasets' "
                        "flags (--verbosity, ...).")
    return "\n\n".join(sections)


def _suggestions(name, flag_values):
    """The tool's flag names closest to a misspelled `name` (absl's own as a fallback)."""
    for candidates in (list(flag_values), list(flags.FLAGS)):
        matches = difflib.get_close_matches(name, candidates, n=3, cutoff=0.6)
        if matches:
            return matches
    return []


def unknown_flag_message(arg, flag_values):
    """`unknown flag --stpes; did you mean --steps? ...` for an argument no flag takes."""
    name = arg.lstrip("-").split("=", 1)[0]
    matches = _suggestions(name, flag_values)
    hint = f"; did you mean {' or '.join('--' + m for m in matches)}?" if matches else ""
    return f"unknown flag --{name}{hint} (--help lists the flags)"


_PARSE_FAILURES = ("invalid literal", "could not convert", "Non-boolean", "not a valid")


def bad_value_message(error, flag_values):
    """absl's `IllegalFlagValueError` as one line naming the flag and what it takes."""
    text = " ".join(str(error).split())
    match = re.match(r"flag --([\w-]+)=(.*?): (.*)$", text)
    if not match or match.group(1) not in flag_values:
        return text
    name, value, reason = match.groups()
    if any(failure in reason for failure in _PARSE_FAILURES):
        reason = f"--{name} takes {_takes(flag_values[name])}"
    return f"--{name}={value}: {reason}"  # absl's own reasons say what is valid


def _parse_error_message(error, flag_values):
    if isinstance(error, flags.CantOpenFlagFileError):
        path = re.search(r"'([^']*)'\s*$", str(error))
        where = f"={path.group(1)}" if path else ""
        return (f"--flagfile{where}: cannot read it (a preset such as "
                f"configs/mnist_mlp.flags)")
    if isinstance(error, flags.IllegalFlagValueError):
        return bad_value_message(error, flag_values)
    missing = re.match(r"Missing value for flag --([\w-]+)", str(error))
    if missing and missing.group(1) in flag_values:
        name = missing.group(1)
        return f"--{name} needs a value: --{name}=<{_takes(flag_values[name])}>"
    return " ".join(str(error).split())


def _print_help(text):
    """Prints `text`; a reader that stops early (`--help | head`) is no error."""
    try:
        print(text, flush=True)
    except BrokenPipeError:
        # Python's advice: point stdout at devnull so that the exit's flush does not fail.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def flags_parser(flag_values, doc, groups=None, pass_through=False, version_text=None):
    """An `app.run` flags parser over a tool's own `FlagValues`.

    Args:
        flag_values: `absl.flags.FlagValues` holding the tool's flags.
        doc: str, the tool's description (its module docstring).
        groups: dict of group name -> flag names for `--help`. Defaults to `None`.
        pass_through: bool, hand the arguments after a `--` to `main` (for a tool that
            passes them on); without it they are refused. Defaults to `False`.
        version_text: callable returning what `--version` prints, or `None`: the tool's
            name and tfgan's version. Defaults to `None`.

    Returns:
        callable taking argv and returning `[argv[0], *arguments after --]`.
    """
    def set_env_defaults():
        for name, variable in ENV_DEFAULTS.items():
            if name in flag_values:
                # The flag's own default, as it was before any environment replaced it.
                default = _DEFINED_DEFAULTS.setdefault(flag_values[name],
                                                       flag_values[name].default)
                flag_values.set_default(name, os.environ.get(variable) or default)

    def parse(argv):
        argv = list(argv)
        options = argv[1:argv.index("--")] if "--" in argv else argv[1:]
        flag_values.unparse_flags()  # back to the defaults if run() is called again
        set_env_defaults()
        if _HELPFULL_FLAG in options or any(arg in _HELP_FLAGS for arg in options):
            _print_help(tool_help(flag_values, doc, groups, full=_HELPFULL_FLAG in options))
            raise SystemExit(0)
        if _VERSION_FLAG in options:
            _print_help(version_text() if version_text else
                        f"{os.path.basename(argv[0])} {tfgan.__version__}")
            raise SystemExit(0)
        try:
            rest = flag_values(argv, known_only=True)
            flags.FLAGS.unparse_flags()
            rest = flags.FLAGS(rest, known_only=True)  # absl's own: --verbosity, ...
        except flags.Error as error:
            fail(_parse_error_message(error, flag_values), USAGE)
        after = rest.index("--") if "--" in rest else len(rest)
        for arg in rest[1:after]:
            if arg.startswith("-"):
                fail(unknown_flag_message(arg, flag_values), USAGE)
        if after > 1:
            fail(f"unexpected arguments: {' '.join(rest[1:after])} (every option is a "
                 f"--flag; --help lists them)", USAGE)
        passed = rest[after + 1:]
        if passed and not pass_through:
            fail(f"unexpected arguments after --: {' '.join(passed)}", USAGE)
        return [argv[0], *passed]

    return parse


def quiet_library_logs():
    """Holds back TensorFlow's, Keras' and tensorflow-datasets' log lines below ERROR.

    absl's verbosity is the switch that holds: TensorFlow sets and restores it around some
    calls (saving a SavedModel), which would undo a level set on the `absl` logger alone.
    tfgan's own loggers (`tfgan.*`) keep WARNING.
    """
    absl_logging.set_verbosity(absl_logging.ERROR)
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    logging.getLogger("tfgan").setLevel(logging.WARNING)


def run_tool(main, flag_values, doc, argv=None, groups=None, pass_through=False,
             version_text=None):
    """Runs `main` as a tfgan tool: `app.run` with `flags_parser`, quiet library logs.

    A file-system or TensorFlow error that `main` lets through (a read-only or full disk) is
    one `error:` line and status 1, not a traceback.

    Args:
        main: callable taking `[argv[0], *arguments after --]`.
        flag_values, doc, groups, pass_through, version_text: see `flags_parser`.
        argv: list of str or `None` (`sys.argv`). Defaults to `None`.
    """

    def main_with_quiet_logs(args):
        if not flags.FLAGS["verbosity"].present:
            quiet_library_logs()
        try:
            return main(args)
        except (OSError, tf.errors.OpError) as error:  # a read-only or full disk, ...
            fail(describe(error), FAILURE)

    app.run(main_with_quiet_logs, argv=argv,
            flags_parser=flags_parser(flag_values, doc, groups, pass_through, version_text))
