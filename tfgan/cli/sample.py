"""Draws samples from a trained tfgan generator and saves a picture: `tfgan-sample`.

    tfgan-sample --server=http://127.0.0.1:8501 --model_name=mnist --num_samples=16 --seed=7 \\
        --out=grid.png
    tfgan-sample --saved_model=export/mnist --labels=7,7,3 --out=sevens.png
    tfgan-sample --checkpoint=runs/mnist_conditional --labels=all --num_samples=8
    tfgan-sample --saved_model=export/mnist --truncation=0.7 --out=truncated.png

Calls the model's `sample` signature (`num_samples`, `seed`; columnar inputs over REST) on the
stock server or the embedded one, over REST (`http://`) or gRPC (`grpc://`), or draws the same
samples from an export (`--saved_model`) or a training run (`--checkpoint`), and draws the
`samples` output: an image grid, or a scatter plot for points. The same seed gives the same
samples. `--truncation=psi` (0 < psi <= 1) draws `z` from the prior truncated to its central
psi of mass per component (the truncation trick: less variety, more typical samples; 1 is
off). An export made with `tfgan-export --rejection_candidates=K` guides its samples by the
discriminator (each costs K generator and K discriminator passes); `--rejection=r` sets the
strength (1, the default: Discriminator Rejection Sampling; 0: the unguided samples). A
class-conditional model takes `--labels`: class indices or names, one per sample
(`7,7,3`) or one for all (`7`), or `all`: a row of `--num_samples` samples per class. A server
that cannot be reached is one error line and exit status 1; no file is written then.
"""

import numpy as np
from absl import flags

from tfgan.cli.errors import FAILURE, USAGE, fail
from tfgan.cli.flags import check_fidelity_flags, define_fidelity_flags, run_tool
from tfgan.serving import ServingError, connect

FLAGS = flags.FlagValues()
flags.DEFINE_string("server", "http://127.0.0.1:8501", "http://host:port (REST) or "
                    "grpc://host:port (gRPC).", flag_values=FLAGS)
flags.DEFINE_string("model_name", None, "Served model name.", flag_values=FLAGS)
flags.DEFINE_string("saved_model", None, "Sample an export instead of a server: a version or "
                    "model directory.", flag_values=FLAGS)
flags.DEFINE_string("checkpoint", None, "Sample a training run's latest checkpoint instead of "
                    "a server: its --workdir.", flag_values=FLAGS)
flags.DEFINE_integer("num_samples", 16, "How many samples to draw (--labels=all: per class).",
                     lower_bound=1, flag_values=FLAGS)
flags.DEFINE_integer("seed", 7, "Seed of the latent draw (same seed, same samples).",
                     flag_values=FLAGS)
flags.DEFINE_string("labels", None, "Conditional models: the classes to draw, indices or "
                    "names, one per sample (7,7,3) or one for all (7), or 'all' for a row per "
                    "class.", flag_values=FLAGS)
define_fidelity_flags(FLAGS)
flags.DEFINE_string("out", "grid.png", "PNG file to write.", flag_values=FLAGS)
flags.DEFINE_string("signature_name", "sample", "Signature taking num_samples and seed.",
                    flag_values=FLAGS)
flags.DEFINE_integer("version", None, "Model version (default: the latest).", lower_bound=0,
                     flag_values=FLAGS)
flags.DEFINE_float("timeout", 60.0, "Seconds to wait for the server.", flag_values=FLAGS)
GROUPS = {"model": ("server", "model_name", "version", "signature_name", "timeout",
                    "saved_model", "checkpoint"),
          "run": ("num_samples", "seed", "labels", "truncation", "rejection", "out")}


def _labels(class_names):
    """`(labels or None, num_samples, num_columns)` from --labels and --num_samples."""
    if FLAGS.labels is None:
        return None, FLAGS.num_samples, None
    from tfgan import labels as labels_lib  # noqa: PLC0415

    try:
        labels = labels_lib.parse_labels(FLAGS.labels, class_names, FLAGS.num_samples)
    except ValueError as error:
        fail(str(error), USAGE)
    if FLAGS.labels.strip() == "all":
        return labels, len(labels), FLAGS.num_samples
    return labels, (FLAGS.num_samples if len(labels) == 1 else len(labels)), None


def _sample_from_server():
    if not FLAGS.model_name:
        fail("--model_name is required", USAGE)
    labels, num_samples, num_columns = _labels(None)
    try:
        client = connect(FLAGS.server, timeout=FLAGS.timeout)
    except ValueError as error:
        fail(str(error), USAGE)
    inputs = {"num_samples": num_samples, "seed": FLAGS.seed}
    if labels is not None:
        inputs["labels"] = labels
    with client:
        try:
            inputs.update(_sampling_inputs(_signature_inputs(client)))
            outputs = client.predict(FLAGS.model_name, inputs,
                                     signature_name=FLAGS.signature_name, version=FLAGS.version)
        except ServingError as error:
            fail(" ".join(str(error).split()), FAILURE)
    if "samples" not in outputs:
        fail(f"signature {FLAGS.signature_name} has no samples output; it has "
             f"{', '.join(sorted(outputs))}", FAILURE)
    return outputs["samples"], num_columns


def _sampling_inputs(taken):
    """`truncation` and `rejection` as the signature takes them: REST requests must name every
    input, and a value the signature cannot take is refused here, not silently dropped."""
    inputs = {}
    for name, value, default, off in (("truncation", FLAGS.truncation, 1.0, 1.0),
                                      ("rejection", FLAGS.rejection, 1.0, 0.0)):
        if name in taken:
            inputs[name] = np.float32(default if value is None else value)
        elif value not in (None, off):
            fail(f"--{name}={value}: signature {FLAGS.signature_name} of model "
                 f"{FLAGS.model_name} has no {name} input", USAGE)
    return inputs


def _signature_inputs(client):
    """The input names of the served signature (older exports lack the sampling ones)."""
    from tensorflow_serving.apis import get_model_metadata_pb2  # noqa: PLC0415

    from tfgan.serving.protocol import SIGNATURE_DEF_FIELD  # noqa: PLC0415

    signature_map = get_model_metadata_pb2.SignatureDefMap()
    response = client.metadata(FLAGS.model_name, FLAGS.version)
    response.metadata[SIGNATURE_DEF_FIELD].Unpack(signature_map)
    signature = signature_map.signature_def.get(FLAGS.signature_name)
    return set(signature.inputs) if signature is not None else set()


def _sample_from_source():
    from tfgan import sample_sources  # noqa: PLC0415  (TensorFlow loads only when needed)

    try:
        source = (sample_sources.CheckpointSource(FLAGS.checkpoint) if FLAGS.checkpoint
                  else sample_sources.SavedModelSource(FLAGS.saved_model))
    except (FileNotFoundError, ValueError) as error:
        fail(" ".join(str(error).split()), USAGE)
    if source.conditional and FLAGS.labels is None:
        fail("this model is class-conditional: pass --labels (indices, names or all)", USAGE)
    labels, num_samples, num_columns = _labels(source.class_names)
    try:
        samples = source.sample(num_samples, FLAGS.seed, labels, FLAGS.truncation,
                                FLAGS.rejection)
    except ValueError as error:
        fail(" ".join(str(error).split()), USAGE)
    return samples, num_columns


def main(argv):
    del argv  # flags_parser refuses positional arguments
    if FLAGS.checkpoint and FLAGS.saved_model:
        fail("pass at most one of --checkpoint and --saved_model", USAGE)
    check_fidelity_flags(FLAGS)
    if FLAGS.checkpoint or FLAGS.saved_model:
        samples, num_columns = _sample_from_source()
    else:
        samples, num_columns = _sample_from_server()
    from tfgan import plots  # matplotlib loads only once there is something to draw

    plots.save_samples(np.asarray(samples), FLAGS.out, num_columns=num_columns)
    print(f"wrote {len(samples)} samples to {FLAGS.out}")


def run(argv=None):
    """The `tfgan-sample` entry point."""
    run_tool(main, FLAGS, __doc__, argv=argv, groups=GROUPS)


if __name__ == "__main__":
    run()
