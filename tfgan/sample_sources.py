"""Draws the same generated samples from a checkpoint, an exported SavedModel or a server.

Three places hold a trained generator, and each `SampleSource` draws from one of them with
the export's `sample` semantics, so the same seed gives the same samples (to float round-off)
whichever is asked; a fourth source holds samples another program already drew:

- `CheckpointSource(workdir)`: a training run directory, rebuilt by
  `tfgan.training.load_run`; samples come from `tfgan.export.sample_from_seed` on the
  generator its export serves (`tfgan.training.served_networks`: the EMA copy when the run
  has one, drawing its classes when the run has `draw_labels`), the very computation the
  export's `sample` signature runs.
- `SavedModelSource(path)`: an exported version directory (or a model directory, meaning its
  latest version), through `tf.saved_model.load(path).signatures["sample"]`.
- `ServerSource(url, model_name)`: a running TF Serving compatible server (the stock one or
  tfgan's), through `tfgan.serving.connect(url)` and the `sample` signature with columnar
  inputs; more samples than the server takes per request are split into requests that give
  the same samples.
- `ArraySource(path, dataset)`: a `.npy` array of samples saved by any program (a baseline
  outside tfgan, say); `sample(n, seed)` returns its first `n` rows and the seed does not
  apply.
- `RealSource()`: real MNIST training digits, of the classes asked for: the figures real data
  reaches, to compare a generator's with.

`sample(num_samples, seed)` returns float32 numpy arrays: images in [0, 1] `[n, H, W, C]`,
points `[n, d]` in data units; `sample(..., truncation=psi)` draws from the truncated prior
(`tfgan.priors.truncate`) as the `sample` signature's `truncation` input does, where the
source can (a checkpoint, or an export or server whose `sample` signature takes it). An export
made with discriminator-guided sampling (`guided`: its signature takes `rejection`) is asked
with `sample(..., rejection=r)`, the strength `tfgan.guided_sampling` describes (`None`: the
signature's default, 1). A class-conditional generator (`conditional` is True) is asked
for `labels` too, one per sample or one for all, exactly as its `sample` signature takes them;
`class_names` names its classes when the source knows them (a checkpoint's `dataset.json`, an
export's metadata; a server's model only through its data set's own classes). Each source also
says what it learned: `dataset` (a `tfgan.data` name), `kind` (`"image"` or `"points"`),
`data_shape` and, when known,
the training `step`. A checkpoint records them in `options.json` / `dataset.json`, an export in
`assets.extra/tfgan.json`. A server has no endpoint for that metadata: `kind` and
`data_shape` come from the shape of the `sample` signature's `samples` output (the model's
signature metadata), and `dataset` from the `dataset` argument or else the model name when it
is a `tfgan.data` data set name (an export is named after its data set unless
`--model_name` says otherwise); the step is unknown. An array records nothing: `dataset` is
required, `kind` and `data_shape` come from its shape, the step is unknown.
"""

import os
import re

import numpy as np
import tensorflow as tf
from tensorflow.core.protobuf import error_codes_pb2
from tensorflow_serving.apis import get_model_metadata_pb2

from tfgan import export, guided_sampling, priors, training
from tfgan.data import DATASETS, TOYS
from tfgan.data.mnist import CLASS_NAMES as MNIST_CLASS_NAMES
from tfgan.data.mnist import MNIST_SHAPE, load_mnist_arrays
from tfgan.data.toys import LABELLED_TOYS
from tfgan.data.stacked_mnist import STACKED_SHAPE
from tfgan.serving import ServingError, connect
from tfgan.serving.protocol import DEFAULT_SIGNATURE, SIGNATURE_DEF_FIELD

SAMPLE_SIGNATURE = "sample"
LABELS_INPUT = export.LABELS_INPUT
TRUNCATION_INPUT = export.TRUNCATION_INPUT
REJECTION_INPUT = guided_sampling.REJECTION_INPUT
# The classes of the labelled data sets whose classes do not depend on options.
DATA_CLASS_NAMES = {"mnist": MNIST_CLASS_NAMES,
                    **{name: tuple(str(k) for k in range(TOYS[name].num_classes))
                       for name in LABELLED_TOYS}}
# The shape of one sample of each data set whose shape does not depend on options.
DATA_SHAPES = {**{name: toy.data_shape for name, toy in TOYS.items()},
               "mnist": MNIST_SHAPE, "stacked_mnist": STACKED_SHAPE}


def _kind(data_shape):
    return "image" if len(data_shape) == 3 else "points"


def _resolve_dataset(recorded, requested, where):
    """The data set a source learned: the recorded one, checked against a requested one."""
    if recorded and requested and recorded != requested:
        raise ValueError(
            f"{where} was trained on {recorded!r}, not the requested data set. "
            f"Received: dataset={requested!r}")
    if not (recorded or requested):
        raise ValueError(f"{where} does not record its data set: pass it. Received: dataset=None")
    return recorded or requested


class SampleSource:
    """Samples of one trained generator, drawn by seed; use a subclass.

    Attributes:
        dataset: str, the data set the generator learned, e.g. `"mnist"` or `"ring"`.
        kind: str, `"image"` or `"points"`.
        data_shape: tuple of int, the shape of one sample.
        step: int or `None`, the training step of the weights when the source records it.
        conditional: bool, the generator is class-conditional and `sample` needs `labels`.
        class_names: tuple of str or `None`, the classes' names when known.
        location: dict, where the samples come from, for reports: `{"type": "checkpoint",
            "workdir": ...}`, `{"type": "saved_model", "path": ...}`, `{"type": "server",
            "url": ..., "model_name": ..., "version": ...}`, `{"type": "array", "path": ...}` or
            `{"type": "real_digits", "split": "train"}`.
    """

    dataset = None
    kind = None
    data_shape = None
    step = None
    location = None
    conditional = False
    class_names = None
    truncates = True
    guided = False

    def sample(self, num_samples, seed, labels=None, truncation=priors.NO_TRUNCATION,
               rejection=None):
        """Draws `num_samples` samples from `z = tfgan.priors.stateless_prior(..., seed)`.

        Args:
            num_samples: int >= 1.
            seed: int; the same seed gives the same samples from every source.
            labels: int sequence of `num_samples` class indices, or of one for all samples,
                for a conditional source; `None` otherwise. Defaults to `None`.
            truncation: float in [0, 1], the truncation psi (`tfgan.priors.truncate`).
                Defaults to `1.0` (off).
            rejection: float >= 0, the guided-sampling strength of a `guided` source (0: off,
                1: DRS), or `None` for the signature's default (1). Defaults to `None`.

        Returns:
            float32 numpy array `[num_samples, *data_shape]`: images in [0, 1], points in data
            units.

        Raises:
            ValueError: `num_samples` < 1, or (`ArraySource`) more than the array holds;
                labels missing for a conditional source, given to another, or neither one
                nor `num_samples` of them; `truncation` outside [0, 1], or other than 1 for
                a source that cannot truncate; `rejection` negative, or other than 0 for a
                source that is not `guided`.
            tf.errors.InvalidArgumentError, tfgan.serving.ServingError: a label outside the
                classes, refused by the signature (or the server).
            tfgan.serving.ServingError: (`ServerSource`) as the server answers.
        """
        if (isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer))
                or num_samples < 1):
            raise ValueError(
                f"num_samples must be a positive int. Received: num_samples={num_samples!r}")
        if (labels is None) == self.conditional:
            raise ValueError(
                "A conditional generator needs labels and an unconditional one takes none. "
                f"Received: labels={labels!r} for "
                f"{'a ' if self.conditional else 'an un'}conditional generator")
        if labels is not None:
            labels = np.asarray(labels, np.int32).reshape(-1)
            if len(labels) not in (1, num_samples):
                raise ValueError(f"Give one label for all samples or one per sample. Received: "
                                 f"{len(labels)} labels for num_samples={num_samples}")
            labels = np.broadcast_to(labels, (int(num_samples),))
        truncation = float(truncation)
        if not 0.0 <= truncation <= 1.0:  # NaN too
            raise ValueError(f"{priors.TRUNCATION_MESSAGE}. Received: truncation={truncation}")
        if truncation != priors.NO_TRUNCATION and not self.truncates:
            raise ValueError(
                f"{self.location} cannot truncate: its sample signature has no {TRUNCATION_INPUT}"
                f" input (an export from before truncation, or an array). Received: "
                f"truncation={truncation}")
        if rejection is not None and not 0.0 <= float(rejection) < float("inf"):
            raise ValueError(f"{guided_sampling.STRENGTH_MESSAGE}. Received: "
                             f"rejection={rejection}")
        if rejection not in (None, 0) and not self.guided:
            raise ValueError(
                f"{self.location} has no discriminator-guided sampling (its sample signature "
                f"has no {REJECTION_INPUT} input). Received: rejection={rejection}")
        inputs = {TRUNCATION_INPUT: np.float32(truncation)} if self.truncates else {}
        if self.guided:  # REST and tf.saved_model.load's signatures want every input named
            inputs[REJECTION_INPUT] = np.float32(
                guided_sampling.DEFAULT_STRENGTH if rejection is None else rejection)
        return np.asarray(self._sample(int(num_samples), int(seed), labels, truncation, inputs),
                          dtype=np.float32)

    def _sample(self, num_samples, seed, labels, truncation, inputs):
        """`inputs`: the sampling inputs besides `num_samples`, `seed` and `labels` that the
        source's signature takes (`truncation`, `rejection`), as it takes them."""
        raise NotImplementedError

    def close(self):
        """Releases what the source holds open (the server connection)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


class CheckpointSource(SampleSource):
    """Samples of the latest checkpoint of a training run directory.

    Args:
        workdir: str, a run directory written by `tfgan.training.train`.
        dataset: str or `None`, checked against the run's data set when given. Defaults to
            `None`.

    Attributes:
        gan: the restored `tfgan.gan.GAN`.
        config: the run's `tfgan.config.TrainConfig`.

    Raises:
        FileNotFoundError: `workdir` holds no options file or no checkpoint.
        ValueError: `dataset` is not the run's data set.
    """

    def __init__(self, workdir, dataset=None):
        self.gan, self.config, spec = training.load_run(workdir)
        self.dataset = _resolve_dataset(self.config.dataset, dataset, f"run {workdir}")
        self.kind = spec.kind
        self.data_shape = tuple(spec.data_shape)
        self.value_range = spec.value_range
        self.conditional = bool(spec.class_names) and not self.config.draw_labels
        self.class_names = spec.class_names if self.conditional else None
        self.generator, _ = training.served_networks(self.gan, self.config)
        self.step = int(self.gan.step.numpy())
        self.location = {"type": "checkpoint", "workdir": os.fspath(workdir)}

    def _sample(self, num_samples, seed, labels, truncation, inputs):
        outputs = export.sample_from_seed(
            self.generator, num_samples, seed, prior=self.config.prior,
            value_range=self.value_range, labels=labels, truncation=truncation)
        return outputs["samples"].numpy()


def version_directory(path):
    """A SavedModel version directory: `path` itself, or the latest version in it.

    Args:
        path: str, a version directory (holding `saved_model.pb`) or a model directory
            (`<export_base>/<model_name>`, holding integer version directories).

    Returns:
        str, the version directory.

    Raises:
        FileNotFoundError: `path` is neither.
    """
    path = os.fspath(path)
    if os.path.exists(os.path.join(path, "saved_model.pb")):
        return path
    version = export.latest_version(path)
    if version is None:
        raise FileNotFoundError(
            f"{path} is neither a SavedModel version directory nor a model directory with "
            "integer versions")
    return os.path.join(path, str(version))


class SavedModelSource(SampleSource):
    """Samples of an exported SavedModel, through its `sample` signature.

    Args:
        path: str, a version directory or a model directory (its latest version is used).
        dataset: str or `None`, the data set; required when the export's metadata
            (`assets.extra/tfgan.json`) does not name one, checked against it otherwise.
            Defaults to `None`.

    Raises:
        FileNotFoundError: `path` holds no SavedModel version.
        ValueError: the SavedModel has no `sample` signature, or `dataset` is missing or
            differs from the metadata's.
    """

    def __init__(self, path, dataset=None):
        self.path = version_directory(path)
        metadata_path = os.path.join(self.path, export.METADATA_PATH)
        metadata = export.read_metadata(self.path) if os.path.exists(metadata_path) else {}
        signatures = tf.saved_model.load(self.path).signatures
        if SAMPLE_SIGNATURE not in signatures:
            raise ValueError(
                f"{self.path} has no {SAMPLE_SIGNATURE!r} signature (exported with "
                f"batchable_only?). Received: signatures={sorted(signatures)}")
        self._signature = signatures[SAMPLE_SIGNATURE]
        self.dataset = _resolve_dataset(metadata.get("dataset"), dataset, self.path)
        shape = self._signature.structured_outputs["samples"].shape
        self.data_shape = tuple(int(d) for d in shape[1:])
        self.kind = _kind(self.data_shape)
        self.step = metadata.get("step")
        self.conditional = LABELS_INPUT in self._signature.structured_input_signature[1]
        self.truncates = TRUNCATION_INPUT in self._signature.structured_input_signature[1]
        self.guided = REJECTION_INPUT in self._signature.structured_input_signature[1]
        self.class_names = (tuple(metadata["class_names"]) if metadata.get("class_names")
                            else None)
        self.location = {"type": "saved_model", "path": self.path}

    def _sample(self, num_samples, seed, labels, truncation, inputs):
        inputs = {**_with_labels({"num_samples": num_samples, "seed": seed}, labels), **inputs}
        specs = self._signature.structured_input_signature[1]
        return self._signature(**{name: tf.constant(value, specs[name].dtype)
                                  for name, value in inputs.items()})["samples"].numpy()


class ServerSource(SampleSource):
    """Samples of a served model, through its `sample` signature (columnar inputs over REST).

    A server may take fewer samples per request than are asked for (tfgan's server refuses
    more than its `--max_samples_per_request`, answering INVALID_ARGUMENT with the limit in
    the message). Then the first request asks `sample` for as many as the server takes, and
    the rest go through `serving_default` with `z` drawn here exactly as `sample` draws it
    (`tfgan.priors.stateless_prior` of all `num_samples` rows, whose first rows are the ones
    the server returned; the `z` output of that first answer tells which prior the model
    uses), so the samples are those one `sample` request would return.

    Args:
        url: str, `http://host:port` (REST) or `grpc://host:port` (gRPC).
        model_name: str, the served model.
        dataset: str or `None`, the data set. Defaults to `None`: the model name when it is
            a `tfgan.data` data set name (exports are named after their data set by default).
        version: int or `None`, a model version. Defaults to `None` (the latest).
        timeout: float, seconds per request. Defaults to `120`.
        max_samples_per_request: int, the most samples to ask for in one request; 0 asks for
            all at once and learns the server's limit from its refusal. Defaults to `0`.
        progress_fn: callable taking `(samples_done, num_samples)` after each request when the
            samples take more than one, or `None`. Defaults to `None`.

    Raises:
        ValueError: a bad URL, no `sample` signature, or no data set known.
        tfgan.serving.ServingError: the server cannot be reached or does not serve the model.
    """

    def __init__(self, url, model_name, dataset=None, version=None, timeout=120.0,
                 max_samples_per_request=0, progress_fn=None):
        if max_samples_per_request < 0:
            raise ValueError("max_samples_per_request must be >= 0. "
                             f"Received: max_samples_per_request={max_samples_per_request}")
        self.client = connect(url, timeout=timeout)
        self.model_name = model_name
        self.version = version
        self.max_samples_per_request = max_samples_per_request
        self.progress_fn = progress_fn
        try:
            signature = self._sample_signature()
            if dataset is None and model_name in DATASETS:
                dataset = model_name
            self.dataset = _resolve_dataset(None, dataset, f"the server's model {model_name!r}")
        except BaseException:
            self.client.close()
            raise
        dims = signature.outputs["samples"].tensor_shape.dim
        self.data_shape = tuple(int(dim.size) for dim in dims[1:])
        self.kind = _kind(self.data_shape)
        self.conditional = LABELS_INPUT in signature.inputs
        self.truncates = TRUNCATION_INPUT in signature.inputs
        self.guided = REJECTION_INPUT in signature.inputs
        self.class_names = DATA_CLASS_NAMES.get(self.dataset) if self.conditional else None
        self.location = {"type": "server", "url": url, "model_name": model_name,
                         "version": version}

    def _sample_signature(self):
        signature_map = get_model_metadata_pb2.SignatureDefMap()
        response = self.client.metadata(self.model_name, self.version)
        response.metadata[SIGNATURE_DEF_FIELD].Unpack(signature_map)
        signatures = signature_map.signature_def
        if SAMPLE_SIGNATURE not in signatures:
            raise ValueError(
                f"model {self.model_name!r} has no {SAMPLE_SIGNATURE!r} signature (exported "
                f"with batchable_only?). Received: signatures={sorted(signatures)}")
        return signatures[SAMPLE_SIGNATURE]

    def _predict(self, inputs, signature_name):
        return self.client.predict(self.model_name, inputs, signature_name=signature_name,
                                   version=self.version)

    def _sample(self, num_samples, seed, labels, truncation, inputs):
        limit = self.max_samples_per_request
        if not limit or num_samples <= limit:
            try:
                return self._predict(
                    {**_with_labels({"num_samples": num_samples, "seed": seed}, labels),
                     **inputs}, SAMPLE_SIGNATURE)["samples"]
            except ServingError as error:
                limit = server_sample_limit(error)
                if limit is None or num_samples <= limit:
                    raise
            self.max_samples_per_request = limit
        if self.guided:
            raise ValueError(
                f"model {self.model_name!r} guides its sampling by the discriminator, which "
                "only its sample signature does, so the samples cannot be split into "
                f"requests; ask for at most {limit}. Received: num_samples={num_samples}")
        return self._sample_in_requests(num_samples, seed, labels, limit, truncation, inputs)

    def _sample_in_requests(self, num_samples, seed, labels, limit, truncation, inputs):
        first = self._predict(
            {**_with_labels({"num_samples": limit, "seed": seed},
                            None if labels is None else labels[:limit]), **inputs},
            SAMPLE_SIGNATURE)
        z = _matching_prior_z(first["z"], num_samples, seed, self.model_name, truncation)
        parts = [first["samples"]]
        self._progress(limit, num_samples)
        for start in range(limit, num_samples, limit):
            stop = min(start + limit, num_samples)
            inputs = _with_labels({"z": z[start:stop]},
                                  None if labels is None else labels[start:stop])
            parts.append(self._predict(inputs, DEFAULT_SIGNATURE)["samples"])
            self._progress(stop, num_samples)
        return np.concatenate(parts)

    def _progress(self, done, total):
        if self.progress_fn is not None:
            self.progress_fn(done, total)

    def close(self):
        self.client.close()


def _with_labels(inputs, labels):
    """`inputs` with a `labels` input when `labels` is not None."""
    return inputs if labels is None else {**inputs, LABELS_INPUT: labels}


_SERVER_LIMIT = re.compile(r"max_samples_per_request=(\d+)")


def server_sample_limit(error):
    """The per-request sample limit a server's refusal states, or `None`.

    Args:
        error: `tfgan.serving.ServingError`, e.g. tfgan's INVALID_ARGUMENT `num_samples=10000
            is more than this server's max_samples_per_request=1024`.

    Returns:
        int >= 1, or `None` when the error is not such a refusal.
    """
    if getattr(error, "code", None) != error_codes_pb2.INVALID_ARGUMENT:
        return None
    match = _SERVER_LIMIT.search(str(error))
    return int(match.group(1)) if match and int(match.group(1)) > 0 else None


def _matching_prior_z(first_z, num_samples, seed, model_name, truncation):
    """`z` of all `num_samples` rows, from the (truncated) prior whose first rows the server
    returned.

    Raises:
        ValueError: neither tfgan prior gives the server's `z` (not a tfgan export).
    """
    first_z = np.asarray(first_z, dtype=np.float32)
    z_dim = first_z.shape[-1]
    for prior in priors.PRIORS:
        z = priors.stateless_prior(num_samples, z_dim, prior, seed, truncation).numpy()
        if np.allclose(z[:len(first_z)], first_z, rtol=0.0, atol=1e-6):
            return z
    raise ValueError(
        f"model {model_name!r} draws z from neither of tfgan's priors, so its samples cannot be "
        f"split into requests; ask for at most {len(first_z)} samples. "
        f"Received: num_samples={num_samples}")


class ArraySource(SampleSource):
    """Samples saved as a `.npy` array by any program, e.g. a baseline written outside tfgan.

    The array is read and checked once. `sample(num_samples, seed)` returns its first
    `num_samples` rows; `seed` does not apply (the samples were drawn already).

    Args:
        path: str, a `.npy` file (`numpy.save`) of floats: images `[n, H, W, C]` in [0, 1] or
            points `[n, d]` in data units.
        dataset: str, the data set the samples imitate, e.g. `"mnist"`; required, since an
            array records none. Its one-sample shape is checked when the data set fixes it
            (the toys, `"mnist"` `(28, 28, 1)`, `"stacked_mnist"` `(28, 28, 3)`).

    Attributes:
        num_available: int, the number of samples the file holds.

    Raises:
        FileNotFoundError: no file at `path`.
        ValueError: `dataset` is missing; the file is not a `.npy` array of floats; it holds no
            samples, or samples that are neither `[n, H, W, C]` nor `[n, d]`, not of the data
            set's shape, not finite, or (images) outside [0, 1].
    """

    def __init__(self, path, dataset):
        path = os.fspath(path)
        self.dataset = _resolve_dataset(None, dataset, f"the array {path}")
        samples = self._load(path)
        if samples.ndim not in (2, 4) or len(samples) == 0:
            raise ValueError(
                f"{path} must hold images [n, H, W, C] or points [n, d] with n >= 1. "
                f"Received: shape={samples.shape}")
        self.data_shape = tuple(int(d) for d in samples.shape[1:])
        expected = DATA_SHAPES.get(self.dataset)
        if expected is not None and self.data_shape != expected:
            raise ValueError(
                f"{path} holds samples of shape {self.data_shape}, not {self.dataset}'s "
                f"{expected}. Received: shape={samples.shape}")
        if not np.isfinite(samples).all():
            raise ValueError(f"{path} holds NaN or infinite values. Received: shape="
                             f"{samples.shape}")
        self.kind = _kind(self.data_shape)
        low, high = float(samples.min()), float(samples.max())
        if self.kind == "image" and (low < 0.0 or high > 1.0):
            raise ValueError(
                f"{path} holds images outside [0, 1]. Received: value_range=({low}, {high})")
        self._samples = samples.astype(np.float32, copy=False)
        self.num_available = len(samples)
        self.location = {"type": "array", "path": path}
        self.truncates = False

    @staticmethod
    def _load(path):
        if not os.path.isfile(path):
            raise FileNotFoundError(f"{path} does not exist")
        try:
            samples = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as error:
            raise ValueError(f"{path} is not a .npy array ({error}). Received: path={path}"
                             ) from None
        if not isinstance(samples, np.ndarray):
            samples.close()
            raise ValueError(f"{path} is not a .npy array but a .npz archive. "
                             f"Received: path={path}")
        if not np.issubdtype(samples.dtype, np.floating):
            raise ValueError(
                f"{path} must hold floats (images in [0, 1], points in data units). "
                f"Received: dtype={samples.dtype}")
        return samples

    def _sample(self, num_samples, seed, labels, truncation, inputs):
        del seed, labels, truncation, inputs  # the samples were drawn by whoever saved them
        if num_samples > self.num_available:
            raise ValueError(
                f"{self.location['path']} holds only {self.num_available} samples. "
                f"Received: num_samples={num_samples}")
        return self._samples[:num_samples]


class RealSource(SampleSource):
    """Real MNIST training digits in place of generated ones: what each figure reaches on real
    data, the baseline a generator is compared with (e.g. each class's recall).

    A conditional source (as a perfect class-conditional generator would be): asked for
    `labels`, it returns, for each, a training digit of that class, drawn by `seed` without
    replacement; asked for none (`conditional=False`), `num_samples` training digits drawn by
    `seed`. The metrics compare them with the test split, as they compare generated digits.

    Args:
        mnist_path: str or `None`, a local MNIST (`tfgan.data.load_mnist_arrays`). Defaults
            to `None` (tensorflow-datasets).
        data_dir: str or `None`, the tensorflow-datasets data directory. Defaults to `None`.
        conditional: bool, whether `sample` takes labels. Defaults to `True`.

    Raises:
        tfgan.data.DatasetUnavailableError: MNIST cannot be read or downloaded.
    """

    dataset = "mnist"
    kind = "image"
    data_shape = MNIST_SHAPE
    class_names = MNIST_CLASS_NAMES
    truncates = False

    def __init__(self, mnist_path=None, data_dir=None, conditional=True):
        images, self._labels = load_mnist_arrays("train", mnist_path=mnist_path,
                                                 data_dir=data_dir)
        self._images = images.astype(np.float32) / 255.0
        self.conditional = bool(conditional)
        self.location = {"type": "real_digits", "split": "train"}

    def _sample(self, num_samples, seed, labels, truncation, inputs):
        del truncation, inputs  # real digits are not drawn from a prior
        order = np.random.default_rng(seed).permutation(len(self._labels))
        if labels is None:
            return self._images[order[:num_samples]]
        rows = np.empty(num_samples, np.int64)
        for label in np.unique(labels):
            wanted = np.flatnonzero(labels == label)
            of_class = order[self._labels[order] == label]
            if len(wanted) > len(of_class):
                raise ValueError(f"The training split holds {len(of_class)} digits of class "
                                 f"{label}. Received: {len(wanted)} asked for")
            rows[wanted] = of_class[:len(wanted)]
        return self._images[rows]
