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
        class_names: sequence of str, the model's classes.
        per_class: int >= 1, samples of each class for `"all"`. Defaults to `1`.

    Returns:
        int32 array of labels, one per sample.

    Raises:
        ValueError: an item is neither a class index nor a class name, or the list is empty.
    """
    class_names = [str(name) for name in class_names]
    if text.strip() == "all":
        return class_rows(len(class_names), per_class)
    labels = []
    for item in (part.strip() for part in text.split(",")):
        if item in class_names:
            labels.append(class_names.index(item))
        elif item.isdigit() and int(item) < len(class_names):
            labels.append(int(item))
        else:
            raise ValueError(
                f"Each label must be a class index in [0, {len(class_names)}) or one of the "
                f"class names {class_names}, or the list 'all'. Received: labels={text!r}")
    if not labels:
        raise ValueError(f"labels must not be empty. Received: labels={text!r}")
    return np.asarray(labels, np.int32)
