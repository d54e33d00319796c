"""Draws samples from a served tfgan model and saves a picture: `tfgan-sample`.

    tfgan-sample --server=http://127.0.0.1:8501 --model_name=mnist --num_samples=16 --seed=7 \\
        --out=grid.png

Calls the model's `sample` signature (`num_samples`, `seed`; columnar inputs over REST) on the
stock server or the embedded one, over REST (`http://`) or gRPC (`grpc://`), and draws the
`samples` output: an image grid, or a scatter plot for points. The same seed gives the same
samples. A server that cannot be reached is one error line and exit status 1; no file is
written then.
"""

from absl import flags

from tfgan.cli.errors import FAILURE, USAGE, fail
from tfgan.cli.flags import run_tool
from tfgan.serving import ServingError, connect

FLAGS = flags.FlagValues()
flags.DEFINE_string("server", "http://127.0.0.1:8501", "http://host:port (REST) or "
                    "grpc://host:port (gRPC).", flag_values=FLAGS)
flags.DEFINE_string("model_name", None, "Served model name.", flag_values=FLAGS)
flags.DEFINE_integer("num_samples", 16, "How many samples to draw.", lower_bound=1,
                     flag_values=FLAGS)
flags.DEFINE_integer("seed", 7, "Seed of the latent draw (same seed, same samples).",
                     flag_values=FLAGS)
flags.DEFINE_string("out", "grid.png", "PNG file to write.", flag_values=FLAGS)
flags.DEFINE_string("signature_name", "sample", "Signature taking num_samples and seed.",
                    flag_values=FLAGS)
flags.DEFINE_integer("version", None, "Model version (default: the latest).", lower_bound=0,
                     flag_values=FLAGS)
flags.DEFINE_float("timeout", 60.0, "Seconds to wait for the server.", flag_values=FLAGS)
GROUPS = {"model": ("server", "model_name", "version", "signature_name", "timeout"),
          "run": ("num_samples", "seed", "out")}


def main(argv):
    del argv  # flags_parser refuses positional arguments
    if not FLAGS.model_name:
        fail("--model_name is required", USAGE)
    try:
        client = connect(FLAGS.server, timeout=FLAGS.timeout)
    except ValueError as error:
        fail(str(error), USAGE)
    with client:
        try:
            outputs = client.predict(
                FLAGS.model_name,
                {"num_samples": FLAGS.num_samples, "seed": FLAGS.seed},
                signature_name=FLAGS.signature_name,
                version=FLAGS.version,
            )
        except ServingError as error:
            fail(" ".join(str(error).split()), FAILURE)
    if "samples" not in outputs:
        fail(f"signature {FLAGS.signature_name} has no samples output; it has "
             f"{', '.join(sorted(outputs))}", FAILURE)
    from tfgan import plots  # matplotlib loads only once there is something to draw

    plots.save_samples(outputs["samples"], FLAGS.out)
    print(f"wrote {len(outputs['samples'])} samples to {FLAGS.out}")


def run(argv=None):
    """The `tfgan-sample` entry point."""
    run_tool(main, FLAGS, __doc__, argv=argv, groups=GROUPS)


if __name__ == "__main__":
    run()
