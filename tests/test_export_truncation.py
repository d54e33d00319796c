"""The `truncation` input of the sampling signatures, through the export and the v1 loader."""

import io

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from export_fixtures import TinyDiscriminator, TinyGenerator
from tfgan import export, priors

Z_DIM = 4
IMAGE_SHAPE = (8, 8, 1)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    generator = TinyGenerator(Z_DIM, IMAGE_SHAPE, "tanh")
    path = export.export_generator(
        generator, export_base=str(tmp_path_factory.mktemp("export")), model_name="tiny",
        prior="normal", value_range=(-1, 1), discriminator=TinyDiscriminator(IMAGE_SHAPE))
    return generator, path, tf.saved_model.load(path)


def sample(loaded, num_samples, seed, psi):
    outputs = loaded.signatures["sample"](num_samples=tf.constant(num_samples, tf.int32),
                                          seed=tf.constant(seed, tf.int64),
                                          truncation=tf.constant(psi, tf.float32))
    return {key: value.numpy() for key, value in outputs.items()}


def run_in_session_loader(path, name, inputs):
    """The stock server's path: v1 loader, tensor names, only the inputs given are fed."""
    graph = tf.Graph()
    with graph.as_default(), tf.compat.v1.Session(graph=graph) as session:
        signature = tf.compat.v1.saved_model.loader.load(
            session, ["serve"], path).signature_def[name]
        feeds = {signature.inputs[key].name: value for key, value in inputs.items()}
        return session.run({key: info.name for key, info in signature.outputs.items()}, feeds)


def test_psi_one_gives_todays_samples_and_is_the_signature_default(exported):
    generator, path, loaded = exported
    untruncated = sample(loaded, 6, 7, 1.0)
    np.testing.assert_array_equal(untruncated["z"], priors.stateless_prior(6, Z_DIM, "normal", 7))
    in_memory = export.sample_from_seed(generator, 6, 7, prior="normal", value_range=(-1, 1))
    np.testing.assert_allclose(untruncated["samples"], in_memory["samples"], atol=1e-6)
    # The stock server and the v1 loader feed the SignatureDef's default when it is left out.
    left_out = run_in_session_loader(path, "sample", {"num_samples": np.int32(6),
                                                      "seed": np.int64(7)})
    np.testing.assert_array_equal(left_out["samples"], untruncated["samples"])
    per_seed = run_in_session_loader(path, "sample_seeds", {"seeds": np.array([7, 8], np.int64)})
    np.testing.assert_array_equal(per_seed["z"], priors.stateless_prior_per_seed(
        tf.constant([7, 8], tf.int64), Z_DIM, "normal"))


def test_truncated_samples_are_the_truncated_priors_and_spread_less_as_psi_falls(exported):
    generator, _, loaded = exported
    spreads = []
    for psi in (1.0, 0.8, 0.5, 0.2):
        outputs = sample(loaded, 400, 3, psi)
        np.testing.assert_array_equal(outputs["z"],
                                      priors.stateless_prior(400, Z_DIM, "normal", 3, psi))
        np.testing.assert_array_equal(outputs["samples"], sample(loaded, 400, 3, psi)["samples"])
        in_memory = export.sample_from_seed(generator, 400, 3, prior="normal",
                                            value_range=(-1, 1), truncation=psi)
        np.testing.assert_allclose(outputs["samples"], in_memory["samples"], atol=1e-6)
        spreads.append((outputs["z"].std(), outputs["samples"].std(axis=0).mean()))
    for (z_a, x_a), (z_b, x_b) in zip(spreads, spreads[1:]):
        assert z_a > z_b and x_a > x_b, spreads


def test_sample_seeds_truncates_each_row_by_its_own_psi(exported):
    *_, loaded = exported
    seeds = tf.constant([5, 9, 5], tf.int64)
    rows = loaded.signatures["sample_seeds"](seeds=seeds,
                                             truncation=tf.constant([0.5, 1.0, 0.9]))
    for i, (seed, psi) in enumerate(((5, 0.5), (9, 1.0), (5, 0.9))):
        np.testing.assert_array_equal(rows["z"][i],
                                      priors.stateless_prior(1, Z_DIM, "normal", seed, psi)[0])
    one_for_all = loaded.signatures["sample_seeds"](seeds=seeds, truncation=tf.constant([0.5]))
    np.testing.assert_array_equal(one_for_all["z"][0], rows["z"][0])
    np.testing.assert_array_equal(one_for_all["z"][2], rows["z"][0])


def test_sample_png_and_the_v1_loader_truncate_as_sample_does(exported):
    _, path, loaded = exported
    expected = sample(loaded, 3, 11, 0.6)
    png_bytes = loaded.signatures["sample_png"](
        num_samples=tf.constant(3), seed=tf.constant(11, tf.int64),
        truncation=tf.constant(0.6))["png_bytes"].numpy()
    for image, png in zip(expected["samples"], png_bytes):
        pixels = np.asarray(Image.open(io.BytesIO(png)))
        np.testing.assert_array_equal(pixels, np.round(image[..., 0] * 255).astype(np.uint8))
    fed = run_in_session_loader(path, "sample", {"num_samples": np.int32(3), "seed": np.int64(11),
                                                 "truncation": np.float32(0.6)})
    np.testing.assert_array_equal(fed["samples"], expected["samples"])


@pytest.mark.parametrize("name", ["sample", "sample_seeds", "sample_png"])
@pytest.mark.parametrize("psi", [-0.5, 1.5, float("nan")])
def test_a_truncation_outside_zero_to_one_is_refused_by_the_signature(exported, name, psi):
    *_, loaded = exported
    inputs = ({"seeds": tf.constant([1], tf.int64), "truncation": tf.constant([psi])}
              if name == "sample_seeds" else
              {"num_samples": tf.constant(1), "seed": tf.constant(1, tf.int64),
               "truncation": tf.constant(psi)})
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"truncation must be in \[0, 1\]"):
        loaded.signatures[name](**inputs)


def test_sample_seeds_refuses_a_truncation_per_row_of_another_length(exported):
    *_, loaded = exported
    with pytest.raises(tf.errors.InvalidArgumentError):
        loaded.signatures["sample_seeds"](seeds=tf.constant([1, 2, 3], tf.int64),
                                          truncation=tf.constant([0.5, 0.5]))


def test_conditional_exports_take_labels_and_truncation(tmp_path):
    from tfgan import models

    generator = models.MLPGenerator(Z_DIM, IMAGE_SHAPE, hidden_units=(8,), num_classes=3)
    path = export.export_generator(generator, export_base=str(tmp_path), model_name="digits",
                                   prior="uniform", value_range=(0, 1), class_names="abc")
    loaded = tf.saved_model.load(path)
    outputs = loaded.signatures["sample"](
        num_samples=tf.constant(3), seed=tf.constant(2, tf.int64),
        labels=tf.constant([0, 1, 2]), truncation=tf.constant(0.5))
    np.testing.assert_array_equal(outputs["z"],
                                  priors.stateless_prior(3, Z_DIM, "uniform", 2) * 0.5)
    in_memory = export.sample_from_seed(generator, 3, 2, prior="uniform", value_range=(0, 1),
                                        labels=[0, 1, 2], truncation=0.5)
    np.testing.assert_allclose(outputs["samples"], in_memory["samples"], atol=1e-6)
    assert export.read_metadata(path)["signatures"]["sample_seeds"]["inputs"]["truncation"] == {
        "dtype": "float32", "shape": [None]}
