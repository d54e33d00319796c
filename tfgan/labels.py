"""The labels a conditional generator is asked for: a row per class, balanced mixtures, flags.

A class-conditional generator makes one sample per `(z, label)` pair; these helpers say which
labels a picture, an evaluation or a command line asks for. Labels are int32 class indices in
`[0, num_classes)`; `class_names[k]` names class k.
"""

import numpy as np


def class_rows(num_classes, per_class):
    """Labels for a grid with one row per class: `[0]*per_class + [1]*per_class + ...`.

    Args:
        num_classes: int >= 1.
        per_class: int >= 1, samples (columns) per class.

    Returns:
        int32 array `[num_classes * per_class]`.

    Example:

    >>> class_rows(3, 2)
    array([0, 0, 1, 1, 2, 2], dtype=int32)
    """
    return np.repeat(np.arange(num_classes, dtype=np.int32), per_class)


def balanced_labels(num_samples, num_classes):
    """Labels of the class-balanced mixture: `k mod num_classes` for sample k.

    Every class gets `num_samples // num_classes` samples, the first `num_samples mod
    num_classes` classes one more, so a conditional generator asked for these labels samples
    the mixture of its classes with equal weights.

    Args:
        num_samples: int >= 0.
        num_classes: int >= 1.

    Returns:
        int32 array `[num_samples]`.

    Example:

    >>> balanced_labels(5, 3)
    array([0, 1, 2, 0, 1], dtype=int32)
    """
    return (np.arange(num_samples) % num_classes).astype(np.int32)


def parse_labels(text, class_names, per_class=1):
    """Reads a `--labels` flag: `"7,7,3"` (indices or class names) or `"all"`.

    Args:
        text: str, comma-separated class indices or names, or `"all"` for `class_rows` with
            `per_class` samples of every class.
        class_names: sequence of str, the model's classes, or `None` when they are not known
            (a served model): then only indices are read, and the model checks them.
        per_class: int >= 1, samples of each class for `"all"`. Defaults to `1`.

    Returns:
        int32 array of labels, one per sample.

    Raises:
        ValueError: an item is neither a class index nor a class name, the list is empty, or
            it is `"all"` and the classes are not known.
    """
    if text.strip() == "all":
        if class_names is None:
            raise ValueError("labels 'all' needs the model's classes, which this source does "
                             f"not show; list the labels. Received: labels={text!r}")
        return class_rows(len(class_names), per_class)
    names = [] if class_names is None else [str(name) for name in class_names]
    labels = []
    for item in (part.strip() for part in text.split(",")):
        if item in names:
            labels.append(names.index(item))
        elif item.isdigit() and (class_names is None or int(item) < len(names)):
            labels.append(int(item))
        else:
            allowed = ("class indices" if class_names is None else
                       f"class indices in [0, {len(names)}) or the class names {names}")
            raise ValueError(f"Each label must be one of the {allowed}, or the list 'all'. "
                             f"Received: labels={text!r}")
    return np.asarray(labels, np.int32)
