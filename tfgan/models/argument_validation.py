"""Argument checks shared by the network families.

Each check raises a one-line `ValueError` ending in "Received: name=value", as Keras layers do.
They live here, not in `registry.py`, because `registry.py` imports the families.
"""

import numbers

OUTPUT_ACTIVATIONS = ("sigmoid", "tanh", "linear")


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_positive_int(name, value):
    """Returns `value` as an int; raises `ValueError` unless it is an integer > 0."""
    if not _is_int(value) or value <= 0:
        raise ValueError(f"{name} must be a positive integer. Received: {name}={value!r}")
    return int(value)


def check_choice(name, value, choices):
    """Raises `ValueError` unless `value` is one of `choices`."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}. Received: {name}={value!r}")


def check_positive_ints(name, values, allow_empty=False):
    """Returns `values` as a tuple of ints; raises `ValueError` unless all are > 0."""
    try:
        ints = tuple(values)
    except TypeError:
        ints = None
    if (ints is None or (not ints and not allow_empty)
            or not all(_is_int(v) and v > 0 for v in ints)):
        kind = "a sequence" if allow_empty else "a non-empty sequence"
        raise ValueError(
            f"{name} must be {kind} of positive integers. Received: {name}={values!r}")
    return tuple(int(v) for v in ints)


def check_minibatch(minibatch_kernels, minibatch_kernel_dim):
    """Raises `ValueError` unless `minibatch_kernels >= 0` and `minibatch_kernel_dim > 0`."""
    if not _is_int(minibatch_kernels) or minibatch_kernels < 0:
        raise ValueError(
            "minibatch_kernels must be an integer >= 0 (0 turns minibatch discrimination "
            f"off). Received: minibatch_kernels={minibatch_kernels!r}"
        )
    check_positive_int("minibatch_kernel_dim", minibatch_kernel_dim)


def check_bool(name, value):
    """Returns `value`; raises `ValueError` unless it is a bool."""
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False. Received: {name}={value!r}")
    return value
