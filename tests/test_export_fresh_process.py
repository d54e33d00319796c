"""An export must be usable by a process that has only TensorFlow and Keras, not tfgan."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import tensorflow as tf

from export_fixtures import TinyDiscriminator
from export_fixtures import TinyGenerator
from tfgan import export

CONSUMER = textwrap.dedent(
    """
    import sys

    import keras
    import numpy as np
    import tensorflow as tf

    path, z_path, out_path = sys.argv[1:]
    loaded = tf.saved_model.load(path)
    sampled = loaded.signatures["sample"](
        num_samples=tf.constant(3, tf.int32), seed=tf.constant(11, tf.int64),
        truncation=tf.constant(1.0)
    )
    truncated = loaded.signatures["sample_seeds"](
        seeds=tf.constant([11, 12], tf.int64), truncation=tf.constant([0.7, 0.7])
    )
    layer = keras.layers.TFSMLayer(path, call_endpoint="serving_default")
    from_z = layer(tf.constant(np.load(z_path)))
    np.savez(
        out_path,
        sample_samples=sampled["samples"].numpy(),
        sample_z=sampled["z"].numpy(),
        truncated_samples=truncated["samples"].numpy(),
        truncated_z=truncated["z"].numpy(),
        layer_samples=from_z["samples"].numpy(),
        tfgan_imported=any(name.split(".")[0] == "tfgan" for name in sys.modules),
    )
    """
)


def test_export_runs_in_a_process_without_tfgan(tmp_path):
    generator = TinyGenerator(4, (8, 8, 1), "tanh")
    path = export.export_generator(
        generator, export_base=str(tmp_path / "export"), model_name="tiny", prior="normal",
        value_range=(-1, 1), discriminator=TinyDiscriminator((8, 8, 1)),
    )
    loaded = tf.saved_model.load(path)
    expected = export.sample_from_seed(generator, 3, 11, prior="normal", value_range=(-1, 1))
    truncated = export.sample_from_seed(generator, 1, 12, prior="normal", value_range=(-1, 1),
                                        truncation=0.7)
    z = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    np.save(tmp_path / "z.npy", z)

    script = tmp_path / "consumer.py"
    script.write_text(CONSUMER)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="")
    env.pop("PYTHONPATH", None)
    completed = subprocess.run(
        [sys.executable, str(script), path, str(tmp_path / "z.npy"), str(tmp_path / "out.npz")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]

    outputs = np.load(tmp_path / "out.npz")
    assert not outputs["tfgan_imported"]
    np.testing.assert_allclose(outputs["sample_samples"], expected["samples"].numpy(), atol=1e-6)
    np.testing.assert_array_equal(outputs["sample_z"], expected["z"].numpy())
    # Seed 12's row with psi 0.7 is the truncated prior's z, as tfgan draws it.
    np.testing.assert_array_equal(outputs["truncated_z"][1], truncated["z"].numpy()[0])
    np.testing.assert_allclose(outputs["truncated_samples"][1], truncated["samples"].numpy()[0],
                               atol=1e-6)
    assert np.abs(outputs["truncated_z"]).max() < 1.04  # t = Phi^-1(0.85) = 1.036
    np.testing.assert_allclose(outputs["layer_samples"], (generator(z).numpy() + 1) / 2, atol=1e-6)


CONDITIONAL_CONSUMER = textwrap.dedent(
    """
    import json
    import sys

    import numpy as np
    import tensorflow as tf

    path, out_path = sys.argv[1:]
    loaded = tf.saved_model.load(path)
    with open(path + "/assets.extra/tfgan.json") as f:
        class_names = json.load(f)["class_names"]
    labels = tf.range(len(class_names), dtype=tf.int32)
    sampled = loaded.signatures["sample"](
        num_samples=tf.constant(len(class_names), tf.int32), seed=tf.constant(11, tf.int64),
        labels=labels, truncation=tf.constant(1.0))
    try:
        loaded.signatures["sample"](num_samples=tf.constant(1), seed=tf.constant(1, tf.int64),
                                    labels=tf.constant([len(class_names)]),
                                    truncation=tf.constant(1.0))
        refused = False
    except tf.errors.InvalidArgumentError:
        refused = True
    np.savez(out_path, samples=sampled["samples"].numpy(), refused=refused,
             class_names=np.array(class_names),
             tfgan_imported=any(name.split(".")[0] == "tfgan" for name in sys.modules))
    """
)


def test_conditional_export_runs_in_a_process_without_tfgan(tmp_path):
    from tfgan import models

    generator = models.MLPGenerator(4, (8, 8, 1), hidden_units=(8,), num_classes=3)
    path = export.export_generator(
        generator, export_base=str(tmp_path / "export"), model_name="tiny", prior="normal",
        value_range=(0, 1), class_names=("a", "b", "c"))
    expected = export.sample_from_seed(generator, 3, 11, prior="normal", value_range=(0, 1),
                                       labels=[0, 1, 2])["samples"].numpy()
    script = tmp_path / "consumer.py"
    script.write_text(CONDITIONAL_CONSUMER)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="")
    env.pop("PYTHONPATH", None)
    completed = subprocess.run(
        [sys.executable, str(script), path, str(tmp_path / "out.npz")],
        cwd=tmp_path, env=env, capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr[-2000:]
    outputs = np.load(tmp_path / "out.npz")
    assert not outputs["tfgan_imported"] and outputs["refused"]
    assert outputs["class_names"].tolist() == ["a", "b", "c"]
    np.testing.assert_allclose(outputs["samples"], expected, atol=1e-6)
