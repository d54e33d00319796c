"""SavedModels with tfgan's serving signatures, built here so serving tests need no export module.

`export_model(path, seed)` writes, with `keras.export.ExportArchive`, a tiny generator
(`z` [n, 3] -> images [n, 4, 4, 1] in (0, 1)) and discriminator behind endpoints named and
shaped as tfgan's exports:

- `serving_default`: `z` float32 [-1, 3] -> `samples`
- `sample`: `num_samples` int32 [], `seed` int64 [] -> `samples`, `z`
- `sample_seeds`: `seeds` int64 [-1] -> `samples`, `z` (one row per seed)
- `sample_png`: `num_samples` int32 [], `seed` int64 [] -> `png_bytes` string [-1]
- `discriminate`: `samples` float32 [-1, 4, 4, 1] -> `probability_real`, `logits`

Each seed gives different weights, so two exports tell versions apart. `exported_model`
exports once per seed and pytest session; `install_version` copies an export into a model
base path the way writers must publish: under a temporary name, then renamed to the version.
"""

import os
import shutil
import socket
import urllib.error
import urllib.request

import keras
import numpy as np
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2

from tfgan.serving import single_model_config

MODEL_NAME = "toy"
Z_DIM = 3
DATA_SHAPE = (4, 4, 1)
_EXPORTS = {}


def build_networks(seed):
    """A generator and a discriminator with weights drawn from `seed`."""
    init = keras.initializers.RandomNormal(stddev=0.5, seed=seed)
    generator = keras.Sequential([
        keras.Input((Z_DIM,)),
        keras.layers.Dense(int(np.prod(DATA_SHAPE)), activation="sigmoid",
                           kernel_initializer=init, bias_initializer=init),
        keras.layers.Reshape(DATA_SHAPE),
    ])
    discriminator = keras.Sequential([
        keras.Input(DATA_SHAPE),
        keras.layers.Flatten(),
        keras.layers.Dense(1, kernel_initializer=init),
    ])
    return generator, discriminator


def latent(num_samples, seed):
    """`z` [num_samples, Z_DIM], a function of the seed only."""
    seed_pair = tf.stack([tf.cast(seed, tf.int64), tf.constant(0, tf.int64)])
    return tf.random.stateless_normal(tf.stack([num_samples, Z_DIM]), seed_pair)


def export_model(path, seed=1):
    """Writes the SavedModel described in the module docstring to `path`."""
    generator, discriminator = build_networks(seed)
    archive = keras.export.ExportArchive()
    archive.track(generator)
    archive.track(discriminator)

    def serving_default(z):
        return {"samples": generator(z, training=False)}

    def sample(num_samples, seed):
        z = latent(num_samples, seed)
        return {"samples": generator(z, training=False), "z": z}

    def sample_seeds(seeds):
        z = tf.map_fn(lambda s: latent(1, s)[0], seeds,
                      fn_output_signature=tf.TensorSpec([Z_DIM], tf.float32))
        return {"samples": generator(z, training=False), "z": z}

    def sample_png(num_samples, seed):
        pixels = tf.cast(tf.round(generator(latent(num_samples, seed)) * 255.0), tf.uint8)
        return {"png_bytes": tf.map_fn(tf.io.encode_png, pixels,
                                       fn_output_signature=tf.TensorSpec([], tf.string))}

    def discriminate(samples):
        logits = discriminator(samples, training=False)
        return {"probability_real": tf.sigmoid(logits), "logits": logits}

    scalars = [tf.TensorSpec([], tf.int32, name="num_samples"),
               tf.TensorSpec([], tf.int64, name="seed")]
    for name, fn, specs in (
        ("serving_default", serving_default, [tf.TensorSpec([None, Z_DIM], tf.float32, "z")]),
        ("sample", sample, scalars),
        ("sample_seeds", sample_seeds, [tf.TensorSpec([None], tf.int64, name="seeds")]),
        ("sample_png", sample_png, scalars),
        ("discriminate", discriminate,
         [tf.TensorSpec([None, *DATA_SHAPE], tf.float32, name="samples")]),
    ):
        archive.add_endpoint(name, fn, input_signature=specs)
    archive.write_out(str(path), verbose=False)
    return generator, discriminator


def exported_model(tmp_path_factory, seed=1):
    """The directory of `export_model(seed)`, written once per pytest session."""
    if seed not in _EXPORTS:
        path = tmp_path_factory.mktemp(f"serving_export_{seed}") / "saved_model"
        export_model(path, seed)
        _EXPORTS[seed] = path
    return _EXPORTS[seed]


def install_version(source, base_path, version):
    """Publishes a copy of `source` as `<base_path>/<version>`: copied aside, then renamed."""
    os.makedirs(base_path, exist_ok=True)
    staging = os.path.join(base_path, f".staging-{version}")
    shutil.copytree(source, staging)
    target = os.path.join(base_path, str(version))
    os.rename(staging, target)
    return target


def model_config(base_path, labels=None):
    """A `ModelServerConfig` serving `base_path` as `MODEL_NAME`, with optional labels."""
    config = single_model_config(MODEL_NAME, str(base_path))
    config.model_config_list.config[0].version_labels.update(labels or {})
    return config


def http(method, url, body=None):
    """One HTTP request: (status, content type, body text); errors are answers too."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    request = urllib.request.Request(url, data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.headers.get_content_type(), answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get_content_type(), error.read().decode()


def raw_exchange(rest_url, data):
    """Sends raw bytes on a new connection to `rest_url` (`http://host:port`).

    Returns:
        (HTTP status or 0 if none came, the head as text, the body as text).
    """
    host, port = rest_url[len("http://"):].rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=20) as sock:
        sock.sendall(data)
        received = b""
        while b"\r\n\r\n" not in received or not _complete(received):
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head else 0
    return status, head.decode("latin-1"), body.decode("utf-8", "replace")


def _complete(received):
    head, _, body = received.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return False


def free_port():
    """A TCP port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def export_tf1_model(path):
    """Writes a TF1-era SavedModel with `tf.compat.v1.saved_model.Builder` to `path`.

    As models exported before TensorFlow 2: placeholders and a variable in a v1 graph, an
    asset (a vocabulary) initialised by the `main_op`, a second MetaGraph tagged `train`,
    and no `serving_default`. Signatures:

    - `predict_y`: `x` float32 [-1, 2] -> `y` = x @ [[1], [2]];
    - `lookup`: `words` string [-1], `k` int64 [-1] -> `ids` = vocabulary index (a=0, b=1,
      c=2, else -1) + k;
    - `classify`, `regress`: the tf.Example signatures of the v1 API (`inputs` serialized
      Examples with a 2-float feature `x` -> `classes`/`scores`, `outputs`).
    """
    v1 = tf.compat.v1
    staging = os.path.join(os.path.dirname(path), ".tf1-vocab")
    os.makedirs(staging, exist_ok=True)
    vocab = os.path.join(staging, "vocab.txt")
    with open(vocab, "w") as f:
        f.write("a\nb\nc\n")
    graph = tf.Graph()
    with graph.as_default():
        x = v1.placeholder(tf.float32, [None, 2], name="x")
        words = v1.placeholder(tf.string, [None], name="words")
        k = v1.placeholder(tf.int64, [None], name="k")
        weights = v1.get_variable("w", initializer=tf.constant([[1.0], [2.0]]))
        asset = tf.constant(vocab, name="vocab_path")
        v1.add_to_collection(v1.GraphKeys.ASSET_FILEPATHS, asset)
        table = tf.lookup.StaticHashTable(tf.lookup.TextFileInitializer(
            asset, tf.string, tf.lookup.TextFileIndex.WHOLE_LINE, tf.int64,
            tf.lookup.TextFileIndex.LINE_NUMBER), -1)
        serialized = v1.placeholder(tf.string, [None], name="tf_example")
        features = v1.parse_example(serialized, {"x": tf.io.FixedLenFeature([2], tf.float32)})
        score = tf.matmul(features["x"], weights)
        classes = tf.tile(tf.constant([["pos"]]), [tf.shape(score)[0], 1])
        signatures = {
            "predict_y": v1.saved_model.predict_signature_def(
                {"x": x}, {"y": tf.matmul(x, weights)}),
            "lookup": v1.saved_model.predict_signature_def(
                {"words": words, "k": k}, {"ids": table.lookup(words) + k}),
            "classify": v1.saved_model.classification_signature_def(serialized, classes, score),
            "regress": v1.saved_model.regression_signature_def(serialized, score),
        }
        with v1.Session(graph=graph) as session:
            session.run(v1.global_variables_initializer())
            builder = v1.saved_model.Builder(str(path))
            builder.add_meta_graph_and_variables(
                session, ["serve"], signature_def_map=signatures,
                assets_collection=v1.get_collection(v1.GraphKeys.ASSET_FILEPATHS),
                main_op=v1.tables_initializer())
            builder.add_meta_graph(["train"])
            builder.save()
    shutil.rmtree(staging)  # the model must use its own copy under assets/
    return path


def declared_rows_request(model_name, rows, values):
    """A `PredictRequest` whose float `z` declares `[rows, 3]` but carries only `values`."""
    request = predict_pb2.PredictRequest()
    request.model_spec.name = model_name
    z = request.inputs["z"]
    z.dtype = tf.float32.as_datatype_enum
    z.tensor_shape.dim.add(size=rows)
    z.tensor_shape.dim.add(size=3)
    z.float_val.extend(values)
    return request
