"""tfgan.guided_sampling and the exports it guides: bounded Discriminator Rejection Sampling."""

import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgan import export, guided_sampling, priors


def test_choose_keeps_the_first_accepted_candidate_else_the_best():
    logits = tf.constant([[0.0, -1.0, 5.0], [-2.0, -3.0, -1.0], [1.0, 2.0, 0.0]])
    draws = tf.constant([[0.5, 0.1, 0.9], [0.99, 0.99, 0.99], [0.0, 0.0, 0.0]])
    # Row 0: exp(0 - 5) < 0.5, exp(-6) < 0.1, exp(0) = 1 > 0.9: the third is the first taken.
    # Row 1: D_M = 0 (the burn-in), nothing beats 0.99: the highest logit, the third.
    # Row 2: every acceptance > 0: the first.
    kept = guided_sampling.choose(logits, draws, 0.0, tf.constant(1.0))
    np.testing.assert_array_equal(kept, [2, 2, 0])


def test_strength_zero_keeps_candidate_zero_and_a_large_one_the_best():
    logits = tf.random.stateless_normal([50, 6], [1, 2])
    draws = tf.random.stateless_uniform([50, 6], [3, 4])
    np.testing.assert_array_equal(guided_sampling.choose(logits, draws, 0.0, 0.0), np.zeros(50))
    np.testing.assert_array_equal(guided_sampling.choose(logits, draws, 0.0, 1e4),
                                  np.argmax(logits, axis=1))
    per_row = guided_sampling.choose(logits, draws, 0.0, tf.constant([0.0] * 25 + [1e4] * 25))
    np.testing.assert_array_equal(per_row[:25], np.zeros(25))


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf")])
def test_checked_strength_refuses_negative_or_non_finite(bad):
    with pytest.raises(tf.errors.InvalidArgumentError, match="rejection must be a finite"):
        guided_sampling.checked_strength(tf.constant(bad))


class LineGenerator(keras.Model):
    """x = z on a 1-D point (z_dim 1, linear)."""

    z_dim, data_shape, output_activation = 1, (1,), "linear"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = keras.layers.Dense(1, kernel_initializer="ones", bias_initializer="zeros")

    def call(self, z, training=None):
        return self.dense(z)


class PreferOne(keras.Model):
    """A discriminator whose logit is -4 (x - 1)^2: it rates x = 1 most real."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.center = self.add_weight(shape=(), initializer="ones", trainable=False)

    def call(self, x, training=None):
        return -4.0 * keras.ops.square(x - self.center)


@pytest.fixture(scope="module")
def line_exports(tmp_path_factory):
    generator, discriminator = LineGenerator(), PreferOne()
    base = str(tmp_path_factory.mktemp("guided"))
    metadata = {"dataset": "gaussian_1d"}
    guided = export.export_generator(generator, export_base=base, model_name="guided",
                                     prior="normal", value_range=None, metadata=metadata,
                                     discriminator=discriminator, rejection_candidates=8)
    plain = export.export_generator(generator, export_base=base, model_name="plain",
                                    prior="normal", value_range=None, metadata=metadata,
                                    discriminator=discriminator)
    return guided, tf.saved_model.load(guided), tf.saved_model.load(plain)


def sample(loaded, num_samples, seed, rejection, truncation=1.0):
    return loaded.signatures["sample"](
        num_samples=tf.constant(num_samples), seed=tf.constant(seed, tf.int64),
        truncation=tf.constant(truncation), rejection=tf.constant(rejection))


def logits(loaded, samples):
    return loaded.signatures["discriminate"](samples=samples)["logits"].numpy()


def test_kept_samples_are_rated_more_real_than_unguided_ones(line_exports):
    _, guided, _ = line_exports
    unguided = sample(guided, 400, 5, 0.0)["samples"]
    kept = sample(guided, 400, 5, 1.0)["samples"]
    stronger = sample(guided, 400, 5, 4.0)["samples"]
    means = [logits(guided, x).mean() for x in (unguided, kept, stronger)]
    assert means[0] + 1.0 < means[1] < means[2], means
    # x = z ~ N(0, 1) is pulled toward the x = 1 that D likes.
    assert abs(float(np.mean(kept)) - 1.0) < 0.5 < abs(float(np.mean(unguided)) - 1.0)


def test_strength_zero_gives_the_unguided_exports_samples_bit_for_bit(line_exports):
    _, guided, plain = line_exports
    for psi in (1.0, 0.6):
        off = sample(guided, 64, 9, 0.0, psi)
        unguided = plain.signatures["sample"](num_samples=tf.constant(64),
                                              seed=tf.constant(9, tf.int64),
                                              truncation=tf.constant(psi))
        np.testing.assert_array_equal(off["samples"], unguided["samples"])
        np.testing.assert_array_equal(off["z"], priors.stateless_prior(64, 1, "normal", 9, psi))


def test_guided_samples_are_one_per_seed_and_reproducible(line_exports):
    path, guided, _ = line_exports
    first = sample(guided, 20, 3, 1.0)
    np.testing.assert_array_equal(first["samples"], sample(guided, 20, 3, 1.0)["samples"])
    np.testing.assert_array_equal(first["samples"][:5], sample(guided, 5, 3, 1.0)["samples"])
    # z is the kept candidate's: the generator of that z gives the sample.
    np.testing.assert_allclose(first["samples"], first["z"], atol=1e-6)
    seeds = guided.signatures["sample_seeds"]
    both = seeds(seeds=tf.constant([4, 8], tf.int64), truncation=tf.constant([1.0]),
                 rejection=tf.constant([1.0, 1.0]))
    alone = seeds(seeds=tf.constant([8], tf.int64), truncation=tf.constant([1.0]),
                  rejection=tf.constant([1.0]))
    np.testing.assert_array_equal(both["samples"][1], alone["samples"][0])
    # What the servers run: the v1 loader, with both inputs left to their defaults (1, 1).
    graph = tf.Graph()
    with graph.as_default(), tf.compat.v1.Session(graph=graph) as session:
        signature = tf.compat.v1.saved_model.loader.load(
            session, ["serve"], path).signature_def["sample"]
        fed = session.run(signature.outputs["samples"].name,
                          {signature.inputs["num_samples"].name: 20,
                           signature.inputs["seed"].name: 3})
    np.testing.assert_array_equal(fed, first["samples"])


def test_the_export_records_its_burn_in(line_exports):
    path, *_ = line_exports
    rejection = export.read_metadata(path)["rejection"]
    assert rejection["method"] == "drs" and rejection["candidates"] == 8
    assert rejection["burn_in_samples"] == guided_sampling.BURN_IN_SAMPLES
    assert -1e-3 < rejection["max_logit"] <= 0.0  # the best of 2000 draws sits near x = 1
    inputs = export.read_metadata(path)["signatures"]["sample_seeds"]["inputs"]
    assert inputs["rejection"] == {"dtype": "float32", "shape": [None]}


@pytest.mark.parametrize("name", ["sample", "sample_seeds"])
@pytest.mark.parametrize("bad", [-0.5, float("nan")])
def test_a_bad_strength_is_refused_by_the_signature(line_exports, name, bad):
    _, guided, _ = line_exports
    inputs = ({"seeds": tf.constant([1], tf.int64), "truncation": tf.constant([1.0]),
               "rejection": tf.constant([bad])} if name == "sample_seeds" else
              {"num_samples": tf.constant(2), "seed": tf.constant(1, tf.int64),
               "truncation": tf.constant(1.0), "rejection": tf.constant(bad)})
    with pytest.raises(tf.errors.InvalidArgumentError, match="rejection must be a finite"):
        guided.signatures[name](**inputs)


def test_guidance_needs_a_discriminator_and_a_count(tmp_path):
    with pytest.raises(ValueError, match="needs the discriminator, and this export has none"):
        export.export_generator(LineGenerator(), export_base=str(tmp_path), model_name="m",
                                prior="normal", value_range=None, rejection_candidates=4)
    with pytest.raises(ValueError, match="rejection_candidates must be an int >= 0"):
        export.export_generator(LineGenerator(), export_base=str(tmp_path), model_name="m",
                                prior="normal", value_range=None, discriminator=PreferOne(),
                                rejection_candidates=-2)
    assert not (tmp_path / "m").exists()


def test_conditional_exports_are_guided_under_their_labels(tmp_path):
    from tfgan import models

    keras.utils.set_random_seed(2)
    generator = models.MLPGenerator(4, (8, 8, 1), hidden_units=(8,), num_classes=3)
    discriminator = models.ProjectionDiscriminator(
        models.MLPDiscriminator((8, 8, 1), hidden_units=(8,)), 3)
    path = export.export_generator(
        generator, export_base=str(tmp_path), model_name="digits", prior="normal",
        value_range=(0, 1), discriminator=discriminator, class_names="abc",
        rejection_candidates=4)
    loaded = tf.saved_model.load(path)
    inputs = {"num_samples": tf.constant(30), "seed": tf.constant(1, tf.int64),
              "labels": tf.constant([2]), "truncation": tf.constant(1.0)}
    off = loaded.signatures["sample"](**inputs, rejection=tf.constant(0.0))["samples"]
    on = loaded.signatures["sample"](**inputs, rejection=tf.constant(8.0))["samples"]
    expected = export.sample_from_seed(generator, 30, 1, prior="normal", value_range=(0, 1),
                                       labels=[2])["samples"]
    np.testing.assert_allclose(off, expected, atol=1e-6)
    judge = loaded.signatures["discriminate"]
    labels = tf.fill([30], 2)
    assert (judge(samples=on, labels=labels)["logits"].numpy().mean()
            > judge(samples=off, labels=labels)["logits"].numpy().mean())


@pytest.fixture(scope="module")
def guided_server(line_exports):
    from tfgan.serving import BackgroundServer, ServerOptions, single_model_config

    path = line_exports[0]
    options = ServerOptions(single_model_config("guided", os.path.dirname(path)), grpc_port=0,
                            rest_port=0, file_system_poll_wait_seconds=-1)
    with BackgroundServer(options) as server:
        yield server


def test_the_export_and_the_server_give_the_same_guided_samples(line_exports, guided_server):
    from tfgan.sample_sources import SavedModelSource, ServerSource

    path, guided, plain = line_exports
    saved = SavedModelSource(path)
    with ServerSource(guided_server.rest_url, "guided", dataset="gaussian_1d") as served:
        assert saved.guided and served.guided
        for rejection in (None, 0.0, 2.0):
            np.testing.assert_array_equal(served.sample(30, 4, rejection=rejection),
                                          saved.sample(30, 4, rejection=rejection))
    np.testing.assert_array_equal(saved.sample(30, 4),
                                  sample(guided, 30, 4, 1.0)["samples"].numpy())
    np.testing.assert_array_equal(saved.sample(30, 4, rejection=0.0),
                                  SavedModelSource(os.path.dirname(
                                      os.path.dirname(path)) + "/plain").sample(30, 4))
    with pytest.raises(ValueError, match="has no discriminator-guided sampling"):
        SavedModelSource(os.path.dirname(os.path.dirname(path)) + "/plain").sample(
            3, 1, rejection=1.0)


def test_rest_refuses_a_bad_strength_with_400(guided_server):
    from serving_fixtures import http

    body = json.dumps({"signature_name": "sample", "inputs": {
        "num_samples": 2, "seed": 1, "truncation": 1.0, "rejection": -1.0}})
    status, _, text = http("POST", f"{guided_server.rest_url}/v1/models/guided:predict", body)
    assert status == 400 and "rejection must be a finite" in json.loads(text)["error"]


def test_a_guided_model_is_not_split_into_requests(line_exports):
    from tfgan.sample_sources import ServerSource
    from tfgan.serving import BackgroundServer, ServerOptions, single_model_config

    options = ServerOptions(single_model_config("guided", os.path.dirname(line_exports[0])),
                            grpc_port=0, rest_port=0, file_system_poll_wait_seconds=-1,
                            max_samples_per_request=8)
    with BackgroundServer(options) as server, ServerSource(
            server.rest_url, "guided", dataset="gaussian_1d") as source:
        with pytest.raises(ValueError, match="cannot be split into requests; ask for at most 8"):
            source.sample(20, 1)


@pytest.mark.parametrize("args, message", [
    (["--rejection=-1"], "error: --rejection=-1.0: the strength must be a finite number >= 0"),
    (["--rejection=nan"], "error: --rejection=nan: the strength must be a finite number >= 0"),
])
def test_tfgan_sample_refuses_a_bad_strength_in_one_line(line_exports, capsys, args, message):
    from tfgan.cli import sample as sample_tool

    with pytest.raises(SystemExit) as caught:
        sample_tool.run(["tfgan-sample", f"--saved_model={line_exports[0]}", *args])
    assert caught.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith(message)


def test_tfgan_sample_draws_guided_samples_and_refuses_rejection_elsewhere(line_exports,
                                                                           guided_server,
                                                                           tmp_path, capsys):
    from tfgan.cli import sample as sample_tool

    plain = os.path.join(os.path.dirname(os.path.dirname(line_exports[0])), "plain")
    for args, code in (([f"--saved_model={line_exports[0]}", "--rejection=2"], 0),
                       ([f"--server={guided_server.rest_url}", "--model_name=guided"], 0),
                       ([f"--saved_model={plain}", "--rejection=1"], 2)):
        with pytest.raises(SystemExit) as caught:
            sample_tool.run(["tfgan-sample", *args, "--num_samples=4",
                             f"--out={tmp_path / 'points.png'}"])
        assert (caught.value.code or 0) == code, capsys.readouterr().err
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "has no discriminator-guided sampling" in err
