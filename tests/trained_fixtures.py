"""Tiny trained runs, each with its export and a server serving it, shared by the evaluation tests.

`trained(tmp_path_factory, name)` trains one of `RUNS` for a few steps with
`tfgan.training.train` (exporting at the end), once per pytest session, and returns a
`Trained(workdir, export_dir, model_dir, config)`; `serve(run)` is an in-process
`tfgan.serving.BackgroundServer` over its model directory (a context manager).

- `"gaussian_1d"`: a linear-output MLP on seed 001's 1-D Gaussian, model `gaussian_1d`.
- `"mnist"`: a tanh MLP on 28x28 digits from a small `mnist.npz` this module writes from
  `tests/data/mnist_test_subset.npz`, model `digits` (not a data set name, so a server
  source needs `dataset`).
- `"mnist_conditional"`: the same MLP, class-conditional (projection discriminator), model
  `digits_conditional`.
- `"mnist_drawn_labels"`: that conditional MLP with `draw_labels`, model `digits_drawn`.
"""

import collections
import os

import numpy as np

from tfgan import training
from tfgan.config import TrainConfig
from tfgan.serving import BackgroundServer, ServerOptions, single_model_config

SUBSET_PATH = os.path.join(os.path.dirname(__file__), "data", "mnist_test_subset.npz")
Trained = collections.namedtuple("Trained", ["workdir", "export_dir", "model_dir", "config"])
_COMMON = dict(architecture="mlp", g_hidden_units=(8,), d_hidden_units=(8,), batch_size=16,
               steps=3, sample_every=100, log_every=100, checkpoint_every=100,
               num_grid_samples=4, seed=5)
RUNS = {
    "gaussian_1d": dict(dataset="gaussian_1d", z_dim=2, output_activation="linear",
                        model_name="gaussian_1d"),
    "mnist": dict(dataset="mnist", z_dim=4, output_activation="tanh", prior="normal",
                  model_name="digits"),
    "mnist_conditional": dict(dataset="mnist", z_dim=4, output_activation="tanh",
                              prior="normal", model_name="digits_conditional",
                              conditional=True),
    "mnist_drawn_labels": dict(dataset="mnist", z_dim=4, output_activation="tanh",
                               prior="normal", model_name="digits_drawn", conditional=True,
                               draw_labels=True),
}
_TRAINED = {}


def write_mnist_npz(path):
    """A Keras-layout `mnist.npz`: 800 train and 200 test digits of the committed subset."""
    with np.load(SUBSET_PATH) as subset:
        images, labels = subset["images"], subset["labels"]
    np.savez(path, x_train=images[:800], y_train=labels[:800], x_test=images[800:],
             y_test=labels[800:])
    return str(path)


def trained(tmp_path_factory, name):
    """The `Trained` run `name` of `RUNS`, trained and exported once per session."""
    if name not in _TRAINED:
        root = tmp_path_factory.mktemp(f"trained_{name}")
        options = dict(_COMMON, **RUNS[name], workdir=str(root / "run"),
                       export_dir=str(root / "export"))
        if options["dataset"] == "mnist":
            options["mnist_path"] = write_mnist_npz(root / "mnist.npz")
        config = TrainConfig(**options)
        training.train(config)
        _TRAINED[name] = Trained(config.workdir, config.export_dir,
                                 os.path.join(config.export_dir, config.model_name), config)
    return _TRAINED[name]


def serve(run, max_samples_per_request=0):
    """A `BackgroundServer` (context manager) serving `run`'s export under its model name."""
    return BackgroundServer(ServerOptions(
        single_model_config(run.config.model_name, run.model_dir), grpc_port=0, rest_port=0,
        file_system_poll_wait_seconds=-1, max_samples_per_request=max_samples_per_request))
