"""Export trained generators as SavedModels that the stock TensorFlow Serving binary serves.

A published version lives at `<export_base>/<model_name>/<version>/` (`saved_model.pb`,
`variables/`, `assets.extra/tfgan.json`, `assets.extra/tf_serving_warmup_requests`), the
layout `tensorflow_model_server` polls. It is built only with `keras.export.ExportArchive` and has these signatures:

- `serving_default`: `z` float32 `[batch, z_dim]` -> `samples`. Batchable.
- `sample`: `num_samples` int32 scalar, `seed` int64 scalar, `truncation` float32 scalar ->
  `samples`, `z`.
- `sample_seeds`: `seeds` int64 `[batch]`, `truncation` float32 `[batch]` or `[1]` (one for
  all) -> `samples`, `z`, one row per seed. Batchable.
- `sample_png` (images only): `num_samples`, `seed`, `truncation` -> `png_bytes` string
  `[batch]`, one PNG per sample.
- `discriminate` (with a discriminator): `samples` float32 `[batch, *data_shape]` in the
  exported range -> `probability_real`, `logits` float32 `[batch]`. Batchable.
- `real_samples` (with `real_data`, the toys): `num_samples`, `seed` -> `samples` drawn in the
  graph from the training data's distribution, so a client can draw the real data too.

`samples` are float32 `[batch, *data_shape]`: images in [0, 1] whatever the generator's own
range, points in data units. `z` in `sample` is `tfgan.priors.stateless_prior(num_samples, ...,
seed, truncation)` and in `sample_seeds` row i is `tfgan.priors.stateless_prior_per_seed` of
`seeds[i]`, so training code, an export and a server give the same samples for the same seed
(within one TensorFlow version: the metadata records it); `sample_from_seed` is the `sample`
signature's computation for a generator in memory.

`truncation` is the truncation trick's psi in [0, 1] (`tfgan.priors.truncate`): `z` comes from
the prior truncated to its central psi of probability mass per component; 1 is off and gives
exactly the untruncated samples, and a value outside [0, 1] (or NaN) fails the signature
itself with INVALID_ARGUMENT. Its SignatureDef default is 1, which the stock server and the v1
session loader apply to a gRPC request that leaves it out; REST requests must name every input
(the stock server's JSON reader), and `tf.saved_model.load(...).signatures` apply no defaults,
so those callers pass it (1.0 for untruncated samples).

An export made with `rejection_candidates=K` (and a discriminator) guides `sample`,
`sample_seeds` and `sample_png` by the discriminator: each sample is one of K candidates drawn
from its seed, kept by Discriminator Rejection Sampling (`tfgan.guided_sampling`), at K
generator and K discriminator passes per sample. Those signatures then also take `rejection`
float32 (a scalar; `[batch]` or `[1]` in `sample_seeds`), the strength r >= 0 with default 1
(DRS's rule; 0 gives the unguided samples), and the metadata records `rejection` (K and the
burn-in's D_M).

A class-conditional generator (`num_classes > 0`) is exported with a `labels` int32 input
beside each of the above: `[batch]` in `serving_default`, `sample_seeds` and `discriminate`
(one label per row), `[num_samples]` or `[1]` (one label for all) in `sample` and
`sample_png`. A label outside `[0, num_classes)` fails the signature itself with
INVALID_ARGUMENT (a `tf.debugging` assertion, so the stock server refuses it too), and the
class names are in `assets.extra/tfgan.json` (`class_names`). Unconditional exports have no
`labels` input and no `class_names`.

"Batchable" signatures take and return only tensors whose first dimension is the batch: they
work with REST row requests (`instances`) and with the server's `--enable_batching`. `sample`
and `sample_png` take scalars, so they need columnar requests (`inputs`) and a server with
batching off; `export_generator(..., batchable_only=True)` leaves them out for a model that is
served with batching on. Points models have no `sample_png`: a point in data units is not an
image, and a scatter plot of a batch is a figure, not one PNG per sample.
"""

import datetime
import inspect
import json
import os
import re
import shutil

import keras
import numpy as np
import tensorflow as tf
from tensorflow.core.protobuf import saved_model_pb2

import tfgan
from tfgan import guided_sampling, priors

VALUE_RANGES = ((0.0, 1.0), (-1.0, 1.0))
METADATA_PATH = os.path.join("assets.extra", "tfgan.json")
WARMUP_PATH = os.path.join("assets.extra", "tf_serving_warmup_requests")
PNG_CHANNELS = (1, 3, 4)
FORBIDDEN_OPS = ("PyFunc", "EagerPyFunc", "PyFuncStateless")
FORBIDDEN_OP_PREFIX = "Xla"
XLA_COMPILE_ATTR = "_XlaMustCompile"
SERVING_INPUT_DTYPES = (tf.float32, tf.int32, tf.int64)
SERVING_OUTPUT_DTYPES = SERVING_INPUT_DTYPES + (tf.string,)

# The range each generator `output_activation` produces; other activations are not checked.
_ACTIVATION_RANGES = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0), "linear": None}
# Metadata keys that export_generator computes; a caller's `metadata` may not override them.
_COMPUTED_KEYS = (
    "model_name", "version", "prior", "z_dim", "data_shape", "value_range", "output_range",
    "signatures", "exported_at", "tfgan_version", "tensorflow_version", "keras_version",
    "class_names", "rejection",
)
# The signature input that carries a conditional generator's class indices.
LABELS_INPUT = "labels"
# The sampling signatures' input that carries the truncation psi (tfgan.priors.truncate).
TRUNCATION_INPUT = "truncation"
_VERSION_NAME = re.compile(r"[0-9]+")
_MODEL_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


def export_generator(
    generator,
    *,
    export_base,
    model_name,
    prior,
    value_range,
    discriminator=None,
    class_names=None,
    version=None,
    overwrite=False,
    metadata=None,
    batchable_only=False,
    real_data=None,
    rejection_candidates=0,
):
    """Exports a generator as a new version of a TF Serving model and publishes it atomically.

    The version is written under a hidden sibling directory (`.tmp-<version>-<pid>`), synced,
    checked with `verify_saved_model`, then renamed to its integer name, so a polling server
    never sees a half-written version. On any failure the temporary directory is removed and
    nothing is published. With `overwrite=True` the old version is renamed aside and removed
    after the new one is in place; note that a running server keeps the copy of a version it
    has already loaded, so publish a new version to roll out a change.

    Args:
        generator: `keras.Model` with `z_dim`, `data_shape` and `output_activation`; maps
            float32 `z` `[batch, z_dim]` to `[batch, *data_shape]`.
        export_base: str, the directory holding one subdirectory per model.
        model_name: str, the model's directory name and TF Serving model name.
        prior: str, the latent prior, `"uniform"` or `"normal"`.
        value_range: tuple `(0, 1)` or `(-1, 1)`, the generator's image range (samples are
            exported in [0, 1]), or `None` for points in data units (no rescaling, no PNG).
        discriminator: optional `keras.Model` mapping `[batch, *data_shape]` in the
            generator's range to logits `[batch, 1]`; adds the `discriminate` signature.
            Defaults to `None`.
        class_names: sequence of str, one per class of a conditional generator (whose
            `num_classes` it must match), stored in the metadata; `None` for an unconditional
            one. Defaults to `None`.
        version: optional positive int. Defaults to `None`: one more than the highest
            existing integer version, starting at 1.
        overwrite: bool, replace an existing version. Defaults to `False`.
        metadata: optional JSON-serializable dict stored in `assets.extra/tfgan.json`, e.g.
            `{"dataset": "mnist", "architecture": "mlp", "step": 5000}`. Defaults to `None`.
        batchable_only: bool, export only the signatures whose inputs and outputs all have a
            batch dimension (`serving_default`, `sample_seeds`, `discriminate`), for a server
            started with `--enable_batching`. Defaults to `False`.
        real_data: optional callable `(num_samples, seed) -> float32 [num_samples,
            *data_shape]` in TensorFlow ops (`tfgan.data.toys.toy_samples`); adds the
            `real_samples` signature unless `batchable_only`. Defaults to `None`.
        rejection_candidates: int K, guide `sample`, `sample_seeds` and `sample_png` by the
            discriminator: Discriminator Rejection Sampling over K candidates per sample
            (`tfgan.guided_sampling`; K generator and K discriminator evaluations per
            sample), with a `rejection` strength input and D_M estimated here on
            `tfgan.guided_sampling.BURN_IN_SAMPLES` generated samples. Needs
            `discriminator`. Defaults to `0` (0 and 1: off).

    Returns:
        str, the path of the published version directory.

    Raises:
        ValueError: if an argument is invalid or the SavedModel fails `verify_saved_model`.
        FileExistsError: if the version exists and `overwrite` is `False`.

    Example:

    ```python
    path = export_generator(generator, export_base="export", model_name="mnist_mlp",
                            prior="uniform", value_range=(-1, 1))
    samples = tf.saved_model.load(path).signatures["sample"](
        num_samples=tf.constant(16), seed=tf.constant(0, tf.int64),
        truncation=tf.constant(1.0))["samples"]
    ```
    """
    value_range = _validate_value_range(value_range)
    priors.validate_prior(prior)
    if not isinstance(model_name, str) or not _MODEL_NAME.fullmatch(model_name):
        raise ValueError(
            "model_name must be letters, digits, '_', '.' or '-', not starting with '.' or "
            f"'-'. Received: model_name={model_name!r}"
        )
    metadata = dict(metadata or {})
    _validate_metadata(metadata)

    model_dir = os.path.join(export_base, model_name)
    if version is None:
        version = (latest_version(model_dir) or 0) + 1
    elif isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValueError(f"version must be a positive int. Received: version={version!r}")
    target = os.path.join(model_dir, str(version))
    if os.path.lexists(target) and not overwrite:
        raise FileExistsError(
            f"Version {version} of model {model_name!r} already exists at {target}; pass "
            "overwrite=True to replace it."
        )

    num_classes = _num_classes(generator)
    if len(class_names or ()) != num_classes:
        raise ValueError(
            f"class_names must name the generator's {num_classes} classes (None when it is "
            f"unconditional). Received: class_names={class_names!r}")
    guide = make_guide(generator, discriminator, prior=prior, candidates=rejection_candidates)
    archive = build_export_archive(
        generator,
        prior=prior,
        value_range=value_range,
        discriminator=discriminator,
        batchable_only=batchable_only,
        real_data=real_data,
        guide=guide,
    )
    info = {
        "dataset": None,
        "architecture": type(generator).__name__,
        "step": None,
        **metadata,
        "model_name": model_name,
        "version": version,
        "prior": prior,
        "z_dim": int(generator.z_dim),
        "data_shape": [int(d) for d in generator.data_shape],
        "value_range": list(value_range) if value_range else None,
        "output_range": [0.0, 1.0] if value_range else None,
        **({"class_names": [str(name) for name in class_names]} if num_classes else {}),
        **({"rejection": {"method": "drs", "candidates": guide.candidates,
                          "max_logit": guide.max_logit,
                          "burn_in_samples": guided_sampling.BURN_IN_SAMPLES,
                          "burn_in_seed": guided_sampling.BURN_IN_SEED}} if guide else {}),
        "exported_at": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "tfgan_version": tfgan.__version__,
        "tensorflow_version": tf.__version__,
        "keras_version": keras.__version__,
    }

    os.makedirs(model_dir, exist_ok=True)
    staging = os.path.join(model_dir, f".tmp-{version}-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        archive.write_out(staging, verbose=False)
        info["signatures"] = _signature_summary(_read_saved_model(staging))
        os.makedirs(os.path.join(staging, "assets.extra"), exist_ok=True)
        with open(os.path.join(staging, METADATA_PATH), "w") as f:
            json.dump(info, f, indent=2, sort_keys=True)
        write_warmup_requests(staging, model_name)
        _sync_tree(staging)
        verify_saved_model(staging)
        _publish(staging, target, overwrite=overwrite)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def build_export_archive(
    generator, *, prior, value_range, discriminator=None, batchable_only=False, real_data=None,
    guide=None,
):
    """Builds the `ExportArchive` holding tfgan's serving signatures.

    Every endpoint takes named float32 / int32 / int64 `tf.TensorSpec`s and returns a dict of
    float32 (or string) tensors, whatever the models' dtype policy; none is XLA-compiled.
    A conditional generator's endpoints also take `labels` (see the module docstring).

    Args:
        generator: `keras.Model`, see `export_generator`. Built on a zero `z` if unbuilt.
        prior: str, `"uniform"` or `"normal"`.
        value_range: tuple `(0, 1)` or `(-1, 1)` for images, or `None` for points.
        discriminator: optional `keras.Model`, see `export_generator`. Defaults to `None`.
        batchable_only: bool, see `export_generator`. Defaults to `False`.
        real_data: optional callable, see `export_generator`. Defaults to `None`.
        guide: optional `tfgan.guided_sampling.Guide` (`make_guide`): the sampling signatures
            keep a candidate by bounded DRS and take a `rejection` strength. Defaults to
            `None`.

    Returns:
        `keras.export.ExportArchive` ready for `write_out`.

    Raises:
        ValueError: if an argument is invalid or a model's output shape breaks the contract.
    """
    value_range = _validate_value_range(value_range)
    priors.validate_prior(prior)
    z_dim = int(generator.z_dim)
    data_shape = tuple(int(d) for d in generator.data_shape)
    num_classes = _num_classes(generator)
    _check_generator(generator, z_dim, data_shape, value_range)
    if discriminator is not None:
        _check_discriminator(discriminator, data_shape, num_classes)

    def generate(z, labels=None):
        return _to_output_range(_call(generator, z, labels), value_range)

    def serving_default(z, labels=None):
        return {"samples": generate(z, _checked_labels(labels, num_classes))}

    def sample(num_samples, seed, truncation, labels=None, rejection=None):
        return sample_from_seed(generator, num_samples, seed, prior=prior,
                                value_range=value_range, labels=labels, truncation=truncation,
                                guide=guide, rejection=rejection)

    def sample_seeds(seeds, truncation, labels=None, rejection=None):
        rows = tf.shape(seeds)[:1]
        psi = tf.broadcast_to(priors.checked_truncation(truncation), rows)
        labels = _checked_labels(labels, num_classes)
        if guide is None:
            z = priors.stateless_prior_per_seed(seeds, z_dim, prior, psi)
            return {"samples": generate(z, labels), "z": z}
        candidates = [priors.stateless_prior_per_seed(seeds, z_dim, prior, psi, stream=k)
                      for k in range(guide.candidates)]
        z, samples = _guided(generator, guide, candidates, labels,
                             guided_sampling.acceptance_draws_per_seed(seeds, guide.candidates),
                             tf.broadcast_to(guided_sampling.checked_strength(rejection), rows))
        return {"samples": _to_output_range(samples, value_range), "z": z}

    def sample_png(num_samples, seed, truncation, labels=None, rejection=None):
        images = sample(num_samples, seed, truncation, labels, rejection)["samples"]
        pixels = tf.cast(tf.round(images * 255.0), tf.uint8)
        png_bytes = tf.map_fn(
            tf.io.encode_png, pixels, fn_output_signature=tf.TensorSpec([], tf.string)
        )
        return {"png_bytes": png_bytes}

    def discriminate(samples, labels=None):
        if value_range is not None:
            low, high = value_range
            samples = samples * (high - low) + low
        logits = _call(discriminator, samples, _checked_labels(labels, num_classes))
        logits = tf.reshape(tf.cast(logits, tf.float32), [-1])
        return {"probability_real": tf.sigmoid(logits), "logits": logits}

    # A conditional model's signatures take one label per row (or, seeded, per sample).
    labels_specs = ([tf.TensorSpec([None], tf.int32, name=LABELS_INPUT)] if num_classes
                    else [])
    z_spec = tf.TensorSpec([None, z_dim], tf.float32, name="z")
    seed_specs = [tf.TensorSpec([], tf.int32, name="num_samples"),
                  tf.TensorSpec([], tf.int64, name="seed")]
    # The sampling inputs, with the defaults the SignatureDef records (see the module docstring).
    seeded_specs = [*seed_specs, *labels_specs,
                    tf.TensorSpec([], tf.float32, name=TRUNCATION_INPUT)]
    seeded_defaults = {TRUNCATION_INPUT: tf.constant(priors.NO_TRUNCATION)}
    per_seed_specs = [tf.TensorSpec([None], tf.int64, name="seeds"), *labels_specs,
                      tf.TensorSpec([None], tf.float32, name=TRUNCATION_INPUT)]
    per_seed_defaults = {TRUNCATION_INPUT: tf.constant([priors.NO_TRUNCATION])}
    if guide is not None:  # the strength: one for all samples, or one per seed
        strength = guided_sampling.REJECTION_INPUT
        seeded_specs.append(tf.TensorSpec([], tf.float32, name=strength))
        seeded_defaults[strength] = tf.constant(guided_sampling.DEFAULT_STRENGTH)
        per_seed_specs.append(tf.TensorSpec([None], tf.float32, name=strength))
        per_seed_defaults[strength] = tf.constant([guided_sampling.DEFAULT_STRENGTH])
    endpoints = [("serving_default", serving_default, [z_spec, *labels_specs])]
    if not batchable_only:
        endpoints.append(("sample", _with_defaults(sample, seeded_specs, seeded_defaults),
                          seeded_specs))
    endpoints.append(("sample_seeds", _with_defaults(sample_seeds, per_seed_specs,
                                                     per_seed_defaults), per_seed_specs))
    if value_range is not None and not batchable_only:
        endpoints.append(("sample_png", _with_defaults(sample_png, seeded_specs,
                                                       seeded_defaults), seeded_specs))
    if discriminator is not None:
        samples_spec = tf.TensorSpec([None, *data_shape], tf.float32, name="samples")
        endpoints.append(("discriminate", discriminate, [samples_spec, *labels_specs]))
    if real_data is not None and not batchable_only:
        endpoints.append(("real_samples", lambda num_samples, seed: {
            "samples": tf.cast(real_data(num_samples, seed), tf.float32)}, seed_specs))

    archive = keras.export.ExportArchive()
    archive.track(generator)
    if discriminator is not None:
        archive.track(discriminator)
    for name, fn, input_signature in endpoints:
        archive.add_endpoint(name, fn, input_signature=input_signature)
    return archive


def sample_from_seed(generator, num_samples, seed, *, prior, value_range, labels=None,
                     truncation=priors.NO_TRUNCATION, guide=None,
                     rejection=guided_sampling.DEFAULT_STRENGTH):
    """What the `sample` signature computes, for a generator in memory.

    `z = tfgan.priors.stateless_prior(num_samples, z_dim, prior, seed, truncation)`, then the
    generator's output (inference mode) mapped to the exported range: images from
    `value_range` onto [0, 1] (clipped against round-off), points unchanged. A checkpoint, its
    export and a server serving it therefore give the same samples for the same seed (and
    labels and truncation). With a `guide`, each sample is the candidate that bounded DRS
    keeps among K drawn from the seed (`tfgan.guided_sampling`), and `z` is that candidate's.

    Args:
        generator: `keras.Model` with `z_dim`; maps `z` `[batch, z_dim]` to
            `[batch, *data_shape]`.
        num_samples: int or scalar int32 tensor.
        seed: int or scalar int64 tensor.
        prior: str, `"uniform"` or `"normal"`.
        value_range: tuple `(lo, hi)` of the generator's image range, or `None` for points.
        labels: int32 `[num_samples]` or `[1]` (one label for all) for a conditional
            generator, else `None`. Defaults to `None`.
        truncation: float or scalar float32 tensor, psi in [0, 1] (see
            `tfgan.priors.truncate`). Defaults to `1.0` (off: the untruncated samples).
        guide: optional `tfgan.guided_sampling.Guide` (`make_guide`). Defaults to `None`.
        rejection: float or scalar float32 tensor, the guide's strength r >= 0 (0: off,
            1: DRS). Defaults to `1.0`; unused without a guide.

    Returns:
        dict with `samples`, float32 tensor `[num_samples, *data_shape]`, and `z`, float32
        tensor `[num_samples, z_dim]`.

    Raises:
        ValueError: if `prior` is unknown.
        tf.errors.InvalidArgumentError: a label is outside the generator's classes, there
            are neither 1 nor `num_samples` labels, `truncation` is outside [0, 1], or
            `rejection` is negative or not finite.
    """
    if not (isinstance(truncation, (int, float)) and truncation == priors.NO_TRUNCATION):
        truncation = priors.checked_truncation(truncation)
    z_dim = int(generator.z_dim)
    z = priors.stateless_prior(num_samples, z_dim, prior, seed, truncation)
    num_classes = _num_classes(generator)
    if num_classes:
        labels = tf.broadcast_to(_checked_labels(labels, num_classes), tf.shape(z)[:1])
    if guide is None:
        samples = _call(generator, z, labels)
    else:
        candidates = [z] + [priors.stateless_prior(num_samples, z_dim, prior, seed, truncation,
                                                   stream=k)
                            for k in range(1, guide.candidates)]
        z, samples = _guided(generator, guide, candidates, labels,
                             guided_sampling.acceptance_draws(num_samples, guide.candidates, seed),
                             guided_sampling.checked_strength(rejection))
    return {"samples": _to_output_range(samples, value_range), "z": z}


def make_guide(generator, discriminator, *, prior, candidates):
    """The `tfgan.guided_sampling.Guide` of an export with `candidates` per sample, or `None`.

    D_M is the largest logit the discriminator gives `guided_sampling.BURN_IN_SAMPLES` samples
    of the (untruncated) prior from `guided_sampling.BURN_IN_SEED`, classes in turn for a
    conditional generator: the burn-in of Discriminator Rejection Sampling.

    Args:
        generator: `keras.Model`, see `export_generator`.
        discriminator: `keras.Model` or `None`, see `export_generator`.
        prior: str, `"uniform"` or `"normal"`.
        candidates: int K; 0 and 1 mean no guidance.

    Returns:
        `tfgan.guided_sampling.Guide`, or `None` when `candidates` < 2.

    Raises:
        ValueError: `candidates` is not an int >= 0, or guidance is asked without a
            discriminator.
    """
    guided_sampling.validate_candidates(candidates)
    if candidates < 2:
        return None
    if discriminator is None:
        raise ValueError("Discriminator-guided sampling needs the discriminator, and this "
                         f"export has none. Received: rejection_candidates={candidates}")
    num_classes = _num_classes(generator)
    logits = []
    for start in range(0, guided_sampling.BURN_IN_SAMPLES, 250):
        count = min(250, guided_sampling.BURN_IN_SAMPLES - start)
        z = priors.stateless_prior(count, int(generator.z_dim), prior,
                                   guided_sampling.BURN_IN_SEED + start)
        labels = tf.range(start, start + count) % num_classes if num_classes else None
        logits.append(tf.cast(_call(discriminator, _call(generator, z, labels), labels),
                              tf.float32))
    max_logit = float(tf.reduce_max(tf.concat(logits, axis=0)))
    if not np.isfinite(max_logit):
        raise ValueError("The discriminator's burn-in logits are not finite; cannot guide "
                         f"sampling by them. Received: max_logit={max_logit}")
    return guided_sampling.Guide(discriminator, candidates, max_logit)


def _guided(generator, guide, candidates, labels, draws, strength):
    """`(z, samples)` of the candidate bounded DRS keeps in each row.

    `candidates` is K float32 `[batch, z_dim]` tensors (candidate k of every row), `draws`
    the acceptance draws `[batch, K]`; `samples` are in the generator's range.
    """
    count = len(candidates)
    z = tf.concat(candidates, axis=0)  # candidate-major: row k * batch + i
    tiled = None if labels is None else tf.tile(labels, [count])
    samples = _call(generator, z, tiled)
    logits = tf.reshape(tf.cast(_call(guide.discriminator, samples, tiled), tf.float32),
                        [count, -1])
    kept = guided_sampling.choose(tf.transpose(logits), draws, guide.max_logit, strength)
    rows = tf.shape(kept)[0]
    index = kept * rows + tf.range(rows)
    return tf.gather(z, index), tf.gather(samples, index)


def _with_defaults(fn, specs, defaults):
    """`fn` with the Python signature of `specs` (their names, in order) and `defaults`.

    `tf.saved_model` records an endpoint's tensor-valued Python defaults in its SignatureDef
    (`defaults`) and feeds them through `PlaceholderWithDefault`, so gRPC requests and the v1
    session loader may leave those inputs out. The signature is built here because which
    inputs an endpoint takes depends on the export; those with defaults come last in `specs`.
    """
    signature = inspect.Signature([
        inspect.Parameter(spec.name, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                          default=defaults.get(spec.name, inspect.Parameter.empty))
        for spec in specs])

    def endpoint(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        return fn(**bound.arguments)

    endpoint.__signature__ = signature
    return endpoint


def _num_classes(generator):
    return int(getattr(generator, "num_classes", 0))


def _call(network, inputs, labels):
    """Inference-mode `network(inputs)`, with `labels` when it is conditional."""
    if labels is None:
        return network(inputs, training=False)
    return network([inputs, labels], training=False)


def _checked_labels(labels, num_classes):
    """`labels` as int32, each asserted in `[0, num_classes)` (an InvalidArgumentError in the
    graph, which the stock server returns as INVALID_ARGUMENT); None when unconditional."""
    if not num_classes:
        return None
    if labels is None:
        raise ValueError("A conditional generator needs labels. Received: labels=None")
    labels = tf.cast(labels, tf.int32)
    message = f"labels must be class indices in [0, {num_classes})"
    checks = [tf.debugging.assert_non_negative(labels, message=message),
              tf.debugging.assert_less(labels, num_classes, message=message)]
    with tf.control_dependencies(checks):
        return tf.identity(labels)


def _to_output_range(samples, value_range):
    """Float32 samples: images from `value_range` onto [0, 1] (clipped), points unchanged."""
    samples = tf.cast(samples, tf.float32)
    if value_range is None:
        return samples
    low, high = value_range
    return tf.clip_by_value((samples - low) / (high - low), 0.0, 1.0)


def verify_saved_model(path):
    """Checks that the stock model server can load and run a SavedModel.

    Refuses ops that only Python or XLA can run (`PyFunc`, `EagerPyFunc`, `PyFuncStateless`,
    any `Xla*` op) and functions marked `_XlaMustCompile`, anywhere in the GraphDef or its
    function library; refuses signature inputs or outputs of a dtype REST cannot carry; then
    loads the `serve` MetaGraph with TensorFlow's v1 session loader in a fresh graph (the
    server's own path) and runs every signature by its tensor names on small inputs (each
    unknown dimension 2, integers 2, floats 0.5).

    Args:
        path: str, a SavedModel directory.

    Raises:
        ValueError: naming the first forbidden op, attribute, dtype or failing signature.
    """
    saved_model = _read_saved_model(path)
    for meta_graph in saved_model.meta_graphs:
        _check_graph_ops(meta_graph.graph_def)
        for name, signature in _serving_signatures(meta_graph):
            _check_signature_dtypes(name, signature)
    graph = tf.Graph()
    with graph.as_default(), tf.compat.v1.Session(graph=graph) as session:
        meta_graph = _load_with_session_loader(session, path)
        signatures = dict(_serving_signatures(meta_graph))
        if "serving_default" not in signatures:
            raise ValueError(
                "SavedModel has no serving_default signature. "
                f"Received: signatures={sorted(signatures)}"
            )
        for name, signature in signatures.items():
            feeds = {info.name: _example_input(info, alias)
                     for alias, info in signature.inputs.items()}
            fetches = {key: info.name for key, info in signature.outputs.items()}
            try:
                session.run(fetches, feeds)
            except tf.errors.OpError as error:
                first_line = str(error.message).strip().splitlines()[0]
                raise ValueError(
                    f"Signature {name!r} fails in the session loader ({first_line}). "
                    f"Received: signature={name!r}"
                ) from error


def write_warmup_requests(path, model_name):
    """Writes `assets.extra/tf_serving_warmup_requests`: one small request per signature.

    TF Serving (`--enable_model_warmup`, on by default) and tfgan's server replay these
    `PredictionLog`s when they load the version, before it serves, so no client pays the
    first call of a signature. Inputs are those `verify_saved_model` runs (each unknown
    dimension 2, integers 2, floats 0.5).

    Args:
        path: str, a SavedModel directory.
        model_name: str, the model name the requests carry.

    Returns:
        str, the file written.
    """
    from tensorflow_serving.apis import predict_pb2, prediction_log_pb2  # noqa: PLC0415

    file = os.path.join(path, WARMUP_PATH)
    os.makedirs(os.path.dirname(file), exist_ok=True)
    meta_graph = next(m for m in _read_saved_model(path).meta_graphs
                      if set(m.meta_info_def.tags) == {"serve"})
    with tf.io.TFRecordWriter(file) as writer:
        for name, signature in _serving_signatures(meta_graph):
            request = predict_pb2.PredictRequest()
            request.model_spec.name = model_name
            request.model_spec.signature_name = name
            for alias, info in signature.inputs.items():
                request.inputs[alias].CopyFrom(
                    tf.make_tensor_proto(_example_input(info, alias)))
            log = prediction_log_pb2.PredictionLog(
                predict_log=prediction_log_pb2.PredictLog(request=request))
            writer.write(log.SerializeToString())
    return file


def _load_with_session_loader(session, path):
    """The model server's loading path, without its Python deprecation notice."""
    logger = tf.get_logger()
    level = logger.level
    logger.setLevel("ERROR")
    try:
        return tf.compat.v1.saved_model.loader.load(session, ["serve"], path)
    finally:
        logger.setLevel(level)


def read_metadata(version_dir):
    """Reads the `assets.extra/tfgan.json` metadata of an exported version.

    Args:
        version_dir: str, a version directory written by `export_generator`.

    Returns:
        dict with `model_name`, `version`, `dataset`, `architecture`, `step`, `prior`,
        `z_dim`, `data_shape`, `value_range`, `output_range`, `signatures` (per signature:
        `inputs` and `outputs` as `{name: {"dtype", "shape"}}` and `batchable`), the library
        versions, and the caller's `metadata` keys.
    """
    with open(os.path.join(version_dir, METADATA_PATH)) as f:
        return json.load(f)


def latest_version(model_dir):
    """Returns the highest integer version directory in `model_dir`, or `None` if there is none.

    Only directories whose names are all digits count, as for TF Serving; temporary
    directories of exports in progress and other names are ignored.

    Args:
        model_dir: str, `<export_base>/<model_name>`; may not exist yet.

    Returns:
        int or `None`.
    """
    if not os.path.isdir(model_dir):
        return None
    versions = [
        int(entry.name)
        for entry in os.scandir(model_dir)
        if _VERSION_NAME.fullmatch(entry.name) and entry.is_dir()
    ]
    return max(versions, default=None)


def _validate_value_range(value_range):
    if value_range is None:
        return None
    try:
        normalized = tuple(float(v) for v in value_range)
    except (TypeError, ValueError):
        normalized = None
    if normalized not in VALUE_RANGES:
        raise ValueError(
            f"value_range must be (0, 1), (-1, 1) or None. Received: value_range={value_range!r}"
        )
    return normalized


def _validate_metadata(metadata):
    reserved = sorted(set(metadata) & set(_COMPUTED_KEYS))
    if reserved:
        raise ValueError(
            f"metadata may not set keys that export_generator computes. Received: keys={reserved}"
        )
    try:
        json.dumps(metadata)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"metadata must be JSON-serializable ({error}). Received: metadata={metadata!r}"
        ) from error


def _check_generator(generator, z_dim, data_shape, value_range):
    activation = getattr(generator, "output_activation", None)
    if activation in _ACTIVATION_RANGES and _ACTIVATION_RANGES[activation] != value_range:
        raise ValueError(
            f"value_range does not match the generator's output_activation={activation!r}, "
            f"which gives {_ACTIVATION_RANGES[activation]}. Received: value_range={value_range}"
        )
    if value_range is not None and (len(data_shape) != 3 or data_shape[-1] not in PNG_CHANNELS):
        raise ValueError(
            "Image generators must have data_shape (height, width, channels) with 1, 3 or 4 "
            f"channels. Received: data_shape={data_shape}"
        )
    labels = tf.zeros([1], tf.int32) if _num_classes(generator) else None
    outputs = _call(generator, tf.zeros([1, z_dim], tf.float32), labels)
    if tuple(outputs.shape) != (1, *data_shape):
        raise ValueError(
            f"The generator must map z [1, {z_dim}] to [1, *data_shape] = {[1, *data_shape]}. "
            f"Received: output_shape={list(outputs.shape)}"
        )


def _check_discriminator(discriminator, data_shape, num_classes):
    labels = tf.zeros([1], tf.int32) if num_classes else None
    logits = _call(discriminator, tf.zeros([1, *data_shape], tf.float32), labels)
    if tuple(logits.shape) != (1, 1):
        raise ValueError(
            "The discriminator must map [1, *data_shape] to logits [1, 1]. "
            f"Received: output_shape={list(logits.shape)}"
        )


def _read_saved_model(path):
    saved_model = saved_model_pb2.SavedModel()
    with open(os.path.join(path, "saved_model.pb"), "rb") as f:
        saved_model.ParseFromString(f.read())
    return saved_model


def _serving_signatures(meta_graph):
    """Yields `(name, SignatureDef)`, leaving out SavedModel's own `__saved_model_init_op`."""
    for name, signature in sorted(meta_graph.signature_def.items()):
        if not name.startswith("__"):
            yield name, signature


def _check_graph_ops(graph_def):
    places = [("the graph", graph_def.node, {})]
    places += [
        (f"function {function.signature.name}", function.node_def, function.attr)
        for function in graph_def.library.function
    ]
    for where, nodes, function_attrs in places:
        if XLA_COMPILE_ATTR in function_attrs and function_attrs[XLA_COMPILE_ATTR].b:
            _refuse_xla_attr(where)
        for node in nodes:
            if node.op in FORBIDDEN_OPS or node.op.startswith(FORBIDDEN_OP_PREFIX):
                raise ValueError(
                    f"SavedModel uses an op the stock model server cannot run, in {where} "
                    f"(node {node.name}). Received: op={node.op!r}"
                )
            if XLA_COMPILE_ATTR in node.attr and node.attr[XLA_COMPILE_ATTR].b:
                _refuse_xla_attr(f"{where}, node {node.name}")


def _refuse_xla_attr(where):
    raise ValueError(
        "SavedModel asks for XLA compilation, which the stock model server has off by "
        f"default, in {where}. Received: attr={XLA_COMPILE_ATTR!r}"
    )


def _check_signature_dtypes(name, signature):
    for kind, tensors, allowed in (
        ("input", signature.inputs, SERVING_INPUT_DTYPES),
        ("output", signature.outputs, SERVING_OUTPUT_DTYPES),
    ):
        for key, info in tensors.items():
            dtype = tf.dtypes.as_dtype(info.dtype)
            if dtype not in allowed:
                raise ValueError(
                    f"Signature {name!r} {kind} {key!r} has a dtype REST cannot carry; allowed: "
                    f"{[d.name for d in allowed]}. Received: dtype={dtype.name!r}"
                )


def _example_input(info, alias):
    shape = [2 if dim.size < 0 else dim.size for dim in info.tensor_shape.dim]
    dtype = tf.dtypes.as_dtype(info.dtype)
    # Labels 0: class 0 exists in every conditional model, class 2 not in one of two classes.
    value = 0.5 if dtype.is_floating else 0 if alias == LABELS_INPUT else 2
    return np.full(shape, value, dtype=dtype.as_numpy_dtype)


def _signature_summary(saved_model):
    def describe(tensors):
        return {
            key: {
                "dtype": tf.dtypes.as_dtype(info.dtype).name,
                "shape": [None if dim.size < 0 else dim.size for dim in info.tensor_shape.dim],
            }
            for key, info in sorted(tensors.items())
        }

    summary = {}
    for name, signature in _serving_signatures(saved_model.meta_graphs[0]):
        tensors = list(signature.inputs.values()) + list(signature.outputs.values())
        summary[name] = {
            "inputs": describe(signature.inputs),
            "outputs": describe(signature.outputs),
            "batchable": all(
                len(info.tensor_shape.dim) > 0 and info.tensor_shape.dim[0].size < 0
                for info in tensors
            ),
        }
    return summary


def _sync_tree(root):
    """fsyncs every file and directory under `root`, so a rename publishes complete data."""
    for directory, _, files in os.walk(root, topdown=False):
        for name in files:
            with open(os.path.join(directory, name), "rb") as f:
                os.fsync(f.fileno())
        _sync_directory(directory)


def _sync_directory(path):
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _publish(staging, target, *, overwrite):
    """Renames `staging` to `target`; with `overwrite`, the old `target` is moved aside first."""
    model_dir = os.path.dirname(target)
    aside = None
    if overwrite and os.path.lexists(target):
        aside = os.path.join(model_dir, f".old-{os.path.basename(target)}-{os.getpid()}")
        shutil.rmtree(aside, ignore_errors=True)
        os.rename(target, aside)
    try:
        os.rename(staging, target)
    except OSError as error:
        if aside is not None:
            os.rename(aside, target)
            raise
        if os.path.lexists(target):
            raise FileExistsError(
                f"Version directory {target} appeared while exporting; not replaced."
            ) from error
        raise
    if aside is not None:
        if os.path.isdir(aside) and not os.path.islink(aside):
            shutil.rmtree(aside)
        else:
            os.remove(aside)
    _sync_directory(model_dir)
