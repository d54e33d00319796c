"""Presets: the training recipes of `configs/*.flags`, by name, as `TrainConfig`s.

A preset is a flag file of `tfgan-train` options, one `--option=value` a line (`--option` and
`--nooption` for booleans) with `#` comments. The repository keeps them in `configs/`;
`tfgan/configs` links there and the wheel ships the linked files, so `tfgan-train
--preset=NAME`, `tfgan-train --flagfile=configs/NAME.flags` and `config(NAME)` all read the
same file.

Example:

```python
config = tfgan.presets.config("mnist_dcgan", steps=2000, workdir="runs/dcgan")
```
"""

import dataclasses
import os

from tfgan.config import TrainConfig

DIRECTORY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "configs")
SUFFIX = ".flags"
_FIELDS = {field.name: field for field in dataclasses.fields(TrainConfig)}


class PresetError(ValueError):
    """An unknown preset, or a preset file with a line that is not a `TrainConfig` option."""


def names():
    """The names of the presets, sorted: `("gaussian_1d", "grid", ...)`."""
    return tuple(sorted(entry[:-len(SUFFIX)] for entry in os.listdir(DIRECTORY)
                        if entry.endswith(SUFFIX)))


def path(name):
    """The flag file of preset `name`.

    Raises:
        PresetError: `name` is not a preset; the message lists them.
    """
    if name not in names():
        raise PresetError(f"unknown preset {name!r}; the presets are {', '.join(names())}")
    return os.path.join(DIRECTORY, name + SUFFIX)


def _value(field, text):
    """The option `field` as written in a flag file, as the type of its default."""
    default = field.default
    if isinstance(default, bool):
        if text.lower() not in ("true", "false", "1", "0"):
            raise ValueError(f"--{field.name} takes true or false")
        return text.lower() in ("true", "1")
    if isinstance(default, tuple):
        return tuple(field.metadata.get("item_type", str)(item) for item in text.split(","))
    return type(default)(text)


def parse_flags(lines):
    """The options that `--option=value` lines (a flag file, or arguments) set.

    Args:
        lines: iterable of str, `--option=value`, `--option` or `--nooption` for booleans;
            blank lines and `#` comments are skipped.

    Returns:
        dict of `TrainConfig` field -> value of the field's type (tuples for lists).

    Raises:
        PresetError: a line that sets no `TrainConfig` option, or a value of the wrong type.
    """
    options = {}
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, has_value, text = line.removeprefix("--").partition("=")
        if not has_value:  # a boolean: --option or --nooption
            negated = name.startswith("no") and name[2:] in _FIELDS
            name, text = (name[2:], "false") if negated else (name, "true")
        if not line.startswith("--") or name not in _FIELDS:
            raise PresetError(f"{line!r} is not a tfgan-train option")
        try:
            options[name] = _value(_FIELDS[name], text)
        except ValueError as error:
            raise PresetError(f"{line!r}: {error}") from None
    return options


def config(name, **overrides):
    """The `TrainConfig` of preset `name`, with `overrides` replacing its options.

    Args:
        name: str, one of `names()`.
        **overrides: `TrainConfig` fields, e.g. `steps=2000, workdir="runs/dcgan"`; lists
            are taken as tuples.

    Returns:
        `TrainConfig`, not yet validated (`tfgan.train` validates it).

    Raises:
        PresetError: unknown `name`, or an override that is no `TrainConfig` field.
    """
    unknown = sorted(set(overrides) - set(_FIELDS))
    if unknown:
        raise PresetError(f"TrainConfig has no option {', '.join(unknown)}. "
                          f"Received: overrides={overrides}")
    with open(path(name)) as f:
        options = parse_flags(f)
    options.update({key: tuple(value) if isinstance(value, list) else value
                    for key, value in overrides.items()})
    return TrainConfig(**options)


def format_flags(options):
    """The `--option=value` arguments that set `options`, as `parse_flags` reads them.

    Args:
        options: dict of `TrainConfig` field -> value.

    Returns:
        list of str, e.g. `["--minibatch", "--g_hidden_units=16,16", "--steps=200"]`.
    """
    words = []
    for name, value in options.items():
        if isinstance(value, bool):
            words.append(f"--{name}" if value else f"--no{name}")
        elif isinstance(value, (tuple, list)):
            words.append(f"--{name}={','.join(str(item) for item in value)}")
        else:
            words.append(f"--{name}={value}")
    return words


def summary(name):
    """One line saying what preset `name` trains, for `tfgan-train --help`."""
    preset = config(name)
    remedies = [f"{preset.gradient_penalty} penalty" if preset.gradient_penalty_weight else "",
                "minibatch discrimination" if preset.minibatch else "",
                "EMA generator" if preset.ema_decay else "",
                f"{preset.schedule} schedule" if preset.schedule != "alternating" else ""]
    return ", ".join([f"{preset.dataset} data", f"{preset.architecture} networks",
                      *filter(None, remedies), f"{preset.steps} steps"])
