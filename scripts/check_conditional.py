"""Issue 30's acceptance: ask a conditional MNIST export for each digit by five routes.

    python scripts/check_conditional.py --export_dir=runs/export --model_name=mnist_conditional
    python scripts/check_conditional.py --export_dir=runs/export --model_name=mnist_conditional \
        --rest_url=http://127.0.0.1:8501 --grpc_url=grpc://127.0.0.1:8500

Asks the latest version of `<export_dir>/<model_name>` for one sample of every class, in
order (labels 0..9), through each route a user has:

- REST: a plain JSON `:predict` on the `sample` signature (columnar `inputs`);
- gRPC: `PredictionService.Predict` with tensorflow-serving-api's own stubs;
- tfgan-sample: the tool, run as a command against the REST server, its PNG grid read back;
- tf.saved_model.load: a Python program that imports TensorFlow and never tfgan;
- TF1 session loader: `tf.compat.v1.saved_model.loader.load` in a `Session` on
  `sample_seeds`, the path the stock model server takes.

The committed MNIST classifier (`tfgan.metrics.classifier`) judges every sample. One line per
route gives the judged labels, and one more whether the four routes on `sample` gave the same
samples (tfgan-sample's within its PNG's 8 bits). The exit status is 1 when a route fails,
judges other labels than those asked, or gives other samples than the rest.
Without `--rest_url` and `--grpc_url` the embedded server is started on free loopback ports;
with them, any TF Serving compatible server serving the model (the stock one too) is asked.
"""

import dataclasses
import json
import math
import os
import subprocess
import sys
import tempfile
import textwrap
import urllib.request

import _checkout  # noqa: F401  (this checkout's tfgan first)
from absl import flags

from tfgan.cli.quiet import import_tensorflow_quietly

import_tensorflow_quietly()  # before anything imports TensorFlow
import grpc  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from PIL import Image  # noqa: E402
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc  # noqa: E402

from tfgan import export  # noqa: E402
from tfgan.cli.errors import FAILURE, USAGE, fail  # noqa: E402
from tfgan.cli.flags import run_tool  # noqa: E402
from tfgan.metrics import classifier as classifier_lib  # noqa: E402
from tfgan.serving import BackgroundServer, ServerOptions, single_model_config  # noqa: E402

SCRIPTS = os.path.dirname(os.path.realpath(__file__))
TIMEOUT_SECONDS = 300

FLAGS = flags.FlagValues()
flags.DEFINE_string("export_dir", None, "Holds the model's directory (tfgan-export's "
                    "--export_dir).", flag_values=FLAGS)
flags.DEFINE_string("model_name", "mnist_conditional", "The model: <export_dir>/<model_name> "
                    "and its name on the server.", flag_values=FLAGS)
flags.DEFINE_string("rest_url", None, "http://host:port of a server serving the model; unset "
                    "(with --grpc_url): start the embedded server.", flag_values=FLAGS)
flags.DEFINE_string("grpc_url", None, "grpc://host:port of the same server.", flag_values=FLAGS)
flags.DEFINE_integer("seed", 7, "The seed of the samples (sample_seeds: seed + i for row i).",
                     lower_bound=0, flag_values=FLAGS)


@dataclasses.dataclass(frozen=True)
class Target:
    """A served conditional export: where its files are, what it is called, who serves it."""

    model_name: str
    version_dir: str
    rest_url: str
    grpc_url: str


def rest_route(target, labels, seed):
    """The `sample` signature through a plain REST request (no tfgan client); REST names
    every input, `truncation` 1 (off) too."""
    body = {"signature_name": "sample",
            "inputs": {"num_samples": len(labels), "seed": seed, "labels": list(labels),
                       "truncation": 1.0}}
    request = urllib.request.Request(
        f"{target.rest_url}/v1/models/{target.model_name}:predict",
        data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:
        return json.loads(answer.read())["outputs"]["samples"]


def grpc_route(target, labels, seed):
    """The `sample` signature through tensorflow-serving-api's PredictionService stub."""
    request = predict_pb2.PredictRequest()
    request.model_spec.name = target.model_name
    request.model_spec.signature_name = "sample"
    for name, value in (("num_samples", np.int32(len(labels))), ("seed", np.int64(seed)),
                        ("labels", np.asarray(labels, np.int32))):
        request.inputs[name].CopyFrom(tf.make_tensor_proto(value))
    with grpc.insecure_channel(target.grpc_url.removeprefix("grpc://")) as channel:
        answer = prediction_service_pb2_grpc.PredictionServiceStub(channel).Predict(
            request, timeout=TIMEOUT_SECONDS)
    return tf.make_ndarray(answer.outputs["samples"])


def tfgan_sample_route(target, labels, seed):
    """`tfgan-sample --labels=0,1,...` against the REST server; the PNG grid cut into tiles.

    The grid is `plots.image_grid_figure`'s documented layout: ceil(sqrt(n)) columns of
    28x28 tiles with a 1-pixel white border, everything upscaled by one integer factor.
    """
    with tempfile.TemporaryDirectory() as scratch:
        out = os.path.join(scratch, "grid.png")
        _run("tfgan-sample", [
            sys.executable, os.path.join(SCRIPTS, "sample.py"), f"--server={target.rest_url}",
            f"--model_name={target.model_name}", f"--labels={','.join(map(str, labels))}",
            f"--seed={seed}", f"--out={out}"], cwd=scratch)
        with Image.open(out) as image:
            grid = np.asarray(image.convert("L"), np.float32) / 255.0
    columns, side = math.ceil(math.sqrt(len(labels))), 28
    scale = grid.shape[1] // (columns * (side + 1) + 1)
    tiles = []
    for index in range(len(labels)):
        row, column = divmod(index, columns)
        top, left = scale * (1 + row * (side + 1)), scale * (1 + column * (side + 1))
        tiles.append(grid[top:top + side * scale:scale, left:left + side * scale:scale])
    return np.stack(tiles)[..., np.newaxis]


# A program that has TensorFlow and never tfgan: it loads the export, samples, saves an .npy.
_NO_TFGAN_PROGRAM = textwrap.dedent("""
    import sys

    import numpy as np
    import tensorflow as tf

    path, seed, out, *labels = sys.argv[1:]
    samples = tf.saved_model.load(path).signatures["sample"](
        num_samples=tf.constant(len(labels), tf.int32), seed=tf.constant(int(seed), tf.int64),
        labels=tf.constant([int(label) for label in labels], tf.int32),
        truncation=tf.constant(1.0))["samples"]
    if any(name.split(".")[0] == "tfgan" for name in sys.modules):
        sys.exit("tfgan was imported")
    np.save(out, samples.numpy())
""")


def saved_model_route(target, labels, seed):
    """`tf.saved_model.load` in a fresh Python that has no tfgan on its path."""
    with tempfile.TemporaryDirectory() as scratch:
        out = os.path.join(scratch, "samples.npy")
        env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
        _run("the program without tfgan", [
            sys.executable, "-c", _NO_TFGAN_PROGRAM, target.version_dir, str(seed), out,
            *map(str, labels)], cwd=scratch, env=env)
        return np.load(out)


def session_loader_route(target, labels, seed):
    """`sample_seeds` (seed + i per row) in a TF1 `Session`, fed and fetched by tensor name."""
    v1 = tf.compat.v1
    graph = tf.Graph()
    with graph.as_default(), v1.Session(graph=graph) as session:
        signature = v1.saved_model.loader.load(
            session, ["serve"], target.version_dir).signature_def["sample_seeds"]
        feeds = {signature.inputs["seeds"].name: seed + np.arange(len(labels), dtype=np.int64),
                 signature.inputs["labels"].name: np.asarray(labels, np.int32)}
        return session.run(signature.outputs["samples"].name, feeds)


# (name, route, signature): the routes on `sample` with one seed must give the same pixels.
ROUTES = (
    ("REST", rest_route, "sample"),
    ("gRPC", grpc_route, "sample"),
    ("tfgan-sample", tfgan_sample_route, "sample"),
    ("tf.saved_model.load (no tfgan)", saved_model_route, "sample"),
    ("TF1 session loader", session_loader_route, "sample_seeds"),
)
# tfgan-sample's PNG holds 8-bit gray levels of a 256-entry colour map.
PNG_TOLERANCE = 2 / 255


def _run(name, command, cwd, env=None):
    completed = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                               timeout=TIMEOUT_SECONDS)
    if completed.returncode:
        last = (completed.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise RuntimeError(f"{name} exited {completed.returncode}: {last}")


def digit_judge():
    """`judge(images) -> list of int`: the committed MNIST classifier's argmax per image."""
    classifier = classifier_lib.load_classifier()

    def judge(images):
        images = classifier_lib.check_images(images)
        logits, _ = classifier_lib.classifier_outputs(classifier, images)
        return [int(label) for label in logits.argmax(axis=1)]

    return judge


@dataclasses.dataclass
class RouteResult:
    """What one route gave: its samples and their judged labels, or why it failed."""

    name: str
    signature: str
    samples: object = None  # float array [n, 28, 28, 1]
    judged: list = None
    error: str = None


def judge_routes(target, labels, seed, judge, routes=ROUTES):
    """A `RouteResult` per route of `routes` (`(name, route, signature)`), in order."""
    results = []
    for name, route, signature in routes:
        result = RouteResult(name, signature)
        try:
            result.samples = np.asarray(route(target, labels, seed), np.float32)
            result.judged = judge(result.samples)
        except Exception as error:  # a failing route is reported; the others still run
            result.error = " ".join(f"{type(error).__name__}: {error}".split())
        results.append(result)
    return results


def report(results, labels, seed):
    """The lines to print, and whether every route gave `labels` and the same pixels."""
    width = max(len("asked"), *(len(result.name) for result in results))
    lines = [f"{'asked':<{width}}  {' '.join(map(str, labels))}"]
    ok = True
    for result in results:
        if result.error:
            lines.append(f"{result.name:<{width}}  FAILED: {result.error}")
            ok = False
            continue
        verdict = "ok" if result.judged == list(labels) else "MISMATCH"
        ok = ok and verdict == "ok"
        lines.append(f"{result.name:<{width}}  {' '.join(map(str, result.judged))}  {verdict}")
    same_draw = [r for r in results if r.signature == "sample" and r.error is None]
    if len(same_draw) > 1:
        first = same_draw[0]
        differ = [r.name for r in same_draw[1:]
                  if r.samples.shape != first.samples.shape
                  or not np.allclose(r.samples, first.samples, rtol=0, atol=(
                      PNG_TOLERANCE if r.name == "tfgan-sample" else 1e-5))]
        names = ", ".join(r.name for r in same_draw)
        if differ:
            lines.append(f"the same draw (sample, seed {seed}) differs from {first.name} in: "
                         f"{', '.join(differ)}")
            ok = False
        else:
            lines.append(f"the same samples from {names} (signature sample, seed {seed})")
    return lines, ok


def embedded_server(model_name, model_dir):
    """A started `BackgroundServer` (context manager) on free loopback REST and gRPC ports."""
    return BackgroundServer(ServerOptions(
        single_model_config(model_name, os.path.abspath(model_dir)), grpc_port=0, rest_port=0,
        file_system_poll_wait_seconds=-1))


def main(argv):
    del argv
    if not FLAGS.export_dir:
        fail("--export_dir is required", USAGE)
    if (FLAGS.rest_url is None) != (FLAGS.grpc_url is None):
        fail("pass both --rest_url and --grpc_url (one server), or neither", USAGE)
    # Absolute: the routes run their programs from scratch directories.
    model_dir = os.path.abspath(os.path.join(FLAGS.export_dir, FLAGS.model_name))
    version = export.latest_version(model_dir)
    if version is None:
        fail(f"{model_dir} holds no exported version", USAGE)
    version_dir = os.path.join(model_dir, str(version))
    class_names = export.read_metadata(version_dir).get("class_names")
    if class_names is None or len(class_names) != 10:
        fail(f"{version_dir} is not a conditional export of the ten MNIST digits "
             f"(class_names={class_names})", USAGE)
    labels = list(range(len(class_names)))
    judge = digit_judge()
    print(f"{FLAGS.model_name} version {version}, labels 0..9, seed {FLAGS.seed}, judged by "
          "the committed MNIST classifier")
    if FLAGS.rest_url is None:
        with embedded_server(FLAGS.model_name, model_dir) as server:
            target = Target(FLAGS.model_name, version_dir, server.rest_url, server.grpc_url)
            results = judge_routes(target, labels, FLAGS.seed, judge)
    else:
        target = Target(FLAGS.model_name, version_dir, FLAGS.rest_url.rstrip("/"),
                        FLAGS.grpc_url)
        results = judge_routes(target, labels, FLAGS.seed, judge)
    lines, ok = report(results, labels, FLAGS.seed)
    print("\n".join(lines))
    if not ok:
        fail("a route failed, or gave other digits than asked or other samples than the rest",
             FAILURE)


def run(argv=None):
    """Runs the check as a tool (flags from `argv`, default `sys.argv`); exits with its status."""
    run_tool(main, FLAGS, __doc__, argv=argv)


if __name__ == "__main__":
    run()
