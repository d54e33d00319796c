"""Layers held in a list, made visible to `tf.train.Checkpoint`."""


def track_layers(model, layers, prefix):
    """Names each layer of a list as an attribute of `model`: `<prefix>_<index>`.

    Keras 3 follows a list attribute for `weights`, but tf.train.Checkpoint does not: the
    layers' trainable weights were saved only through the optimizer's references to them, so
    a copy that no optimizer trains (the EMA generator) or state that no optimizer reaches
    (batch-norm statistics, spectral norm's power-iteration vectors) came back from a
    checkpoint as initialized.

    Args:
        model: the `keras.Layer` / `keras.Model` holding the list.
        layers: iterable of `keras.Layer`.
        prefix: str, the attribute names' stem.
    """
    for index, layer in enumerate(layers):
        setattr(model, f"{prefix}_{index}", layer)
