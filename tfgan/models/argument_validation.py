"""Argument checks shared by the network families.

Each check raises a one-line `ValueError` ending in "Received: name=value", as Keras layers do.
They live here, not in `registry.py`, because `registry.py` imports the families.
"""

import numbers

import keras

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


def check_num_classes(num_classes, allow_zero=True):
    """Returns `num_classes` as an int; raises `ValueError` unless it is >= 2 (or 0, meaning
    unconditional, when `allow_zero`)."""
    if not _is_int(num_classes) or num_classes < 0 or num_classes == 1 or (
            num_classes == 0 and not allow_zero):
        allowed = "0 (unconditional) or an integer >= 2" if allow_zero else "an integer >= 2"
        raise ValueError(f"num_classes must be {allowed}. Received: num_classes={num_classes!r}")
    return int(num_classes)


def split_labelled(inputs, num_classes):
    """`(x, labels)` of a network's input: `x` alone (labels None) when `num_classes` is 0,
    else the pair `[x, labels]`, labels cast to int32.

    A conditional network takes its two inputs as one list, as Keras multi-input models do,
    so that Keras and SavedModel see every input of `call`.

    Raises:
        ValueError: a conditional network is given no labels, or an unconditional one some.
    """
    if not num_classes:
        if isinstance(inputs, (list, tuple)):
            raise ValueError("An unconditional network takes one input, no labels. "
                             f"Received: {len(inputs)} inputs")
        return inputs, None
    if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
        raise ValueError("A class-conditional network takes [inputs, labels]: call it as "
                         "network([x, labels]). Received: one input")
    x, labels = inputs
    return x, keras.ops.cast(labels, "int32")
