"""absl flags generated from a config dataclass, so defaults and help live in one place."""

import dataclasses

from absl import flags


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
