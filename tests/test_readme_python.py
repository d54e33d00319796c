"""The README's "Use from Python" example, run as written."""

import os
import re

import numpy as np
import tensorflow as tf

from script_fixtures import ROOT


def _example():
    with open(os.path.join(ROOT, "README.md")) as f:
        section = f.read().split("\n## Use from Python\n", 1)[1].split("\n## ", 1)[0]
    return re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)


def test_the_use_from_python_example_trains_fits_shows_and_exports(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    names = {}
    exec(compile(_example(), "README.md", "exec"), names)  # noqa: S102
    gan, workdir = names["gan"], names["workdir"]
    assert workdir == "runs/notebook"
    assert int(gan.step.numpy()) == 300 + 2 * 100  # tfgan.train's steps, then fit's
    assert os.listdir(tmp_path / "runs" / "notebook" / "fit" / "tensorboard" / "train")
    with open(tmp_path / "runs" / "notebook" / "fit" / "history.csv") as f:
        assert [line.split(",")[0] for line in f][1:] == ["350", "400", "450", "500"]
    figure = names["tfgan"].sample_figure(gan, num_samples=100)
    assert figure._repr_png_().startswith(b"\x89PNG")  # what a notebook shows inline
    samples = tf.saved_model.load(str(tmp_path / "export" / "gaussian_1d" / "1")).signatures[
        "sample"](num_samples=tf.constant(1000), seed=tf.constant(0, tf.int64),
                  truncation=tf.constant(1.0))["samples"]
    assert abs(float(np.mean(samples)) - 4.0) < 1.5  # N(4, 0.5), a few hundred steps in
