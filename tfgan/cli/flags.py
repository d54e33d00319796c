"""absl flags for tfgan's tools: generated from a config dataclass (defaults and help in one
place), and the parser every tool's `app.run` uses."""

import dataclasses

from absl import flags

from tfgan.cli.errors import USAGE, fail


def define_flags(config_class, flag_values=flags.FLAGS):
    """Defines one absl flag per field of `config_class` (str, int, float, bool, tuple)."""
    for field in dataclasses.fields(config_class):
        help_text = field.metadata.get("help", field.name)
        default = field.default
        if isinstance(default, bool):
            flags.DEFINE_bool(field.name, default, help_text, flag_values=flag_values)
        elif isinstance(default, int):
            flags.DEFINE_integer(field.name, default, help_text, flag_values=flag_values)
        elif isinstance(default, float):
            flags.DEFINE_float(field.name, default, help_text, flag_values=flag_values)
        elif isinstance(default, tuple):
            flags.DEFINE_list(field.name, [str(v) for v in default], help_text,
                              flag_values=flag_values)
        else:
            flags.DEFINE_string(field.name, default, help_text, flag_values=flag_values)


def config_from_flags(config_class, flag_values=flags.FLAGS):
    """Reads the parsed flags back into a `config_class` instance.

    Raises:
        ValueError: a list flag holds an item of the wrong type.
    """
    kwargs = {}
    for field in dataclasses.fields(config_class):
        value = flag_values[field.name].value
        if isinstance(field.default, tuple):
            item_type = field.metadata.get("item_type", str)
            try:
                value = tuple(item_type(item) for item in value)
            except ValueError:
                raise ValueError(
                    f"--{field.name} takes a comma-separated list of {item_type.__name__}; "
                    f"got {','.join(value)!r}"
                ) from None
        kwargs[field.name] = value
    return config_class(**kwargs)


_HELP_FLAGS = ("-h", "-?", "--help", "--helpshort", "--helpfull")


def flags_parser(flag_values, doc):
    """An `app.run` flags parser over a private `FlagValues`.

    `--help` prints `doc` and the flags; a bad flag or a stray argument is one `error: ...`
    line and exit status 2, as every tfgan tool reports usage errors.

    Args:
        flag_values: `absl.flags.FlagValues` holding the tool's flags.
        doc: str, the tool's description (its module docstring).

    Returns:
        callable taking argv and returning `[argv[0]]`.
    """

    def parse(argv):
        if any(arg in _HELP_FLAGS for arg in argv[1:]):
            print(doc.strip() + "\n\nflags:\n" + flag_values.get_help())
            raise SystemExit(0)
        flag_values.unparse_flags()  # back to the defaults if run() is called again
        try:
            rest = flag_values(argv)
        except flags.Error as error:
            fail(str(error), USAGE)
        flags.FLAGS.mark_as_parsed()  # absl's own flags keep their defaults
        if len(rest) > 1:
            fail(f"unexpected arguments: {' '.join(rest[1:])}", USAGE)
        return rest[:1]

    return parse
