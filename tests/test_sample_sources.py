"""tfgan.sample_sources: a checkpoint, its export and a server give the same samples per seed."""

import json
import os
import shutil

import numpy as np
import pytest

from tensorflow.core.protobuf import error_codes_pb2

from tfgan import sample_sources
from tfgan.sample_sources import ArraySource, CheckpointSource, SavedModelSource, ServerSource
from serving_fixtures import http
from tfgan.serving import ServingError
from trained_fixtures import serve, trained


@pytest.fixture(scope="module", params=["gaussian_1d", "mnist"])
def sources(request, tmp_path_factory):
    """The three sources of one tiny trained run, and the run."""
    run = trained(tmp_path_factory, request.param)
    with serve(run) as server:
        with ServerSource(server.rest_url, run.config.model_name,
                          dataset=run.config.dataset) as served:
            yield {
                "checkpoint": CheckpointSource(run.workdir),
                "saved_model": SavedModelSource(run.model_dir),
                "server": served,
            }, run


def test_the_three_sources_give_the_same_samples(sources):
    by_source, run = sources
    samples = {name: source.sample(50, 11) for name, source in by_source.items()}
    for name, drawn in samples.items():
        assert drawn.dtype == np.float32, name
        np.testing.assert_allclose(drawn, samples["checkpoint"], atol=1e-6, err_msg=name)
    expected_shape = (50, 1) if run.config.dataset == "gaussian_1d" else (50, 28, 28, 1)
    assert samples["checkpoint"].shape == expected_shape
    if run.config.dataset == "mnist":  # tanh output, rescaled to [0, 1] by every source
        assert samples["checkpoint"].min() >= 0.0 and samples["checkpoint"].max() <= 1.0
        assert samples["checkpoint"].min() < 0.5 < samples["checkpoint"].max()


def test_the_three_sources_give_the_same_truncated_samples(sources):
    by_source, _ = sources
    samples = {name: source.sample(40, 11, truncation=0.5) for name, source in by_source.items()}
    # The export and the server run the same graph; the checkpoint draws the same z eagerly.
    np.testing.assert_array_equal(samples["server"], samples["saved_model"])
    np.testing.assert_allclose(samples["saved_model"], samples["checkpoint"], atol=1e-6)
    assert not np.allclose(samples["checkpoint"], by_source["checkpoint"].sample(40, 11))
    assert samples["checkpoint"].std(axis=0).mean() < by_source["checkpoint"].sample(
        40, 11).std(axis=0).mean()


@pytest.mark.parametrize("psi", [-0.1, 1.01, float("nan")])
def test_a_truncation_outside_zero_to_one_is_refused(sources, psi):
    with pytest.raises(ValueError, match=r"truncation must be in \[0, 1\]"):
        sources[0]["server"].sample(2, 0, truncation=psi)


def test_an_array_cannot_be_truncated(tmp_path):
    source = ArraySource(_save(tmp_path, np.zeros((4, 2), np.float32)), "ring")
    assert source.sample(2, 0, truncation=1.0).shape == (2, 2)
    with pytest.raises(ValueError, match="cannot truncate"):
        source.sample(2, 0, truncation=0.5)


def test_a_seed_fixes_the_samples(sources):
    by_source, _ = sources
    checkpoint = by_source["checkpoint"]
    np.testing.assert_array_equal(checkpoint.sample(8, 3), checkpoint.sample(8, 3))
    assert not np.allclose(checkpoint.sample(8, 3), checkpoint.sample(8, 4))
    # The first rows do not depend on how many are drawn, as in the export's `sample`.
    np.testing.assert_array_equal(checkpoint.sample(8, 3)[:2], checkpoint.sample(2, 3))


def test_the_sources_describe_the_data_set(sources):
    by_source, run = sources
    kind, shape = (("points", (1,)) if run.config.dataset == "gaussian_1d"
                   else ("image", (28, 28, 1)))
    for name, source in by_source.items():
        assert (source.dataset, source.kind, source.data_shape) == (
            run.config.dataset, kind, shape), name
    assert by_source["checkpoint"].step == by_source["saved_model"].step == run.config.steps
    assert by_source["server"].step is None
    assert by_source["checkpoint"].location == {"type": "checkpoint", "workdir": run.workdir}
    assert by_source["saved_model"].location == {
        "type": "saved_model", "path": os.path.join(run.model_dir, "1")}
    assert by_source["server"].location["model_name"] == run.config.model_name


def test_bad_sample_counts_are_refused(sources):
    by_source, _ = sources
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match=f"Received: num_samples={bad!r}"):
            by_source["checkpoint"].sample(bad, 0)


def test_a_server_model_named_after_its_data_set_needs_no_dataset(tmp_path_factory):
    run = trained(tmp_path_factory, "gaussian_1d")
    with serve(run) as server, ServerSource(server.rest_url, "gaussian_1d") as source:
        assert source.dataset == "gaussian_1d" and source.kind == "points"


def test_a_server_model_with_another_name_needs_dataset(tmp_path_factory):
    run = trained(tmp_path_factory, "mnist")
    with serve(run) as server:
        with pytest.raises(ValueError, match="does not record its data set"):
            ServerSource(server.rest_url, "digits")


def test_a_requested_data_set_must_match_the_recorded_one(tmp_path_factory):
    run = trained(tmp_path_factory, "gaussian_1d")
    with pytest.raises(ValueError, match="trained on 'gaussian_1d'.*Received: dataset='ring'"):
        CheckpointSource(run.workdir, dataset="ring")
    with pytest.raises(ValueError, match="trained on 'gaussian_1d'.*Received: dataset='ring'"):
        SavedModelSource(run.model_dir, dataset="ring")


def test_version_directory_takes_the_latest_version(tmp_path_factory, tmp_path):
    run = trained(tmp_path_factory, "gaussian_1d")
    model_dir = tmp_path / "model"
    for version in ("1", "10", "2"):
        shutil.copytree(os.path.join(run.model_dir, "1"), model_dir / version)
    (model_dir / ".tmp-11-1").mkdir()
    assert sample_sources.version_directory(str(model_dir)) == str(model_dir / "10")
    assert sample_sources.version_directory(str(model_dir / "2")) == str(model_dir / "2")
    with pytest.raises(FileNotFoundError, match="neither a SavedModel version directory"):
        sample_sources.version_directory(str(tmp_path / "empty"))


def test_a_server_over_grpc_gives_the_same_samples(tmp_path_factory):
    run = trained(tmp_path_factory, "gaussian_1d")
    with serve(run) as server, ServerSource(server.grpc_url, "gaussian_1d") as source:
        expected = CheckpointSource(run.workdir).sample(20, 2)
        np.testing.assert_allclose(source.sample(20, 2), expected, atol=1e-6)


@pytest.mark.parametrize("name", ["gaussian_1d", "mnist"])  # uniform and normal priors
def test_a_server_taking_fewer_samples_per_request_gives_the_same_samples(tmp_path_factory,
                                                                           name):
    run = trained(tmp_path_factory, name)
    progress = []
    with serve(run, max_samples_per_request=32) as server, ServerSource(
            server.rest_url, run.config.model_name, dataset=run.config.dataset,
            progress_fn=lambda done, total: progress.append((done, total))) as source:
        samples = source.sample(100, 3)
        assert source.max_samples_per_request == 32  # learned from the server's refusal
        np.testing.assert_allclose(source.sample(20, 3), samples[:20], atol=1e-6)
    np.testing.assert_allclose(samples, CheckpointSource(run.workdir).sample(100, 3), atol=1e-6)
    assert progress == [(32, 100), (64, 100), (96, 100), (100, 100)]


def test_a_request_size_set_by_the_client_splits_the_same_way(tmp_path_factory):
    run = trained(tmp_path_factory, "gaussian_1d")
    with serve(run) as server, ServerSource(server.grpc_url, "gaussian_1d",
                                            max_samples_per_request=40) as source:
        np.testing.assert_allclose(source.sample(100, 3),
                                   CheckpointSource(run.workdir).sample(100, 3), atol=1e-6)
        # Truncated too: the rows past the first request get the truncated prior's z.
        np.testing.assert_allclose(source.sample(100, 3, truncation=0.6),
                                   CheckpointSource(run.workdir).sample(100, 3, truncation=0.6),
                                   atol=1e-6)


@pytest.mark.parametrize("code, message, limit", [
    (error_codes_pb2.INVALID_ARGUMENT,
     "num_samples=10000 is more than this server's max_samples_per_request=1024", 1024),
    (error_codes_pb2.INVALID_ARGUMENT,
     "Input z has 70 rows, more than this server's max_samples_per_request=64", 64),
    (error_codes_pb2.INVALID_ARGUMENT, "Expected int32, got 1.5", None),
    (error_codes_pb2.NOT_FOUND, "max_samples_per_request=3", None),
])
def test_server_sample_limit_reads_a_refusal(code, message, limit):
    assert sample_sources.server_sample_limit(ServingError(code, message)) == limit


def _save(tmp_path, array, name="samples.npy"):
    path = tmp_path / name
    np.save(path, array)
    return str(path)


def test_an_array_source_gives_its_first_rows_whatever_the_seed(tmp_path):
    images = np.random.default_rng(0).uniform(0.0, 1.0, (5, 28, 28, 1))  # float64 on disk
    path = _save(tmp_path, images)
    source = ArraySource(path, "mnist")
    drawn = source.sample(3, 0)
    assert drawn.dtype == np.float32 and drawn.shape == (3, 28, 28, 1)
    np.testing.assert_array_equal(drawn, images[:3].astype(np.float32))
    np.testing.assert_array_equal(source.sample(3, 99), drawn)
    np.testing.assert_array_equal(source.sample(5, 0), images.astype(np.float32))
    assert (source.dataset, source.kind, source.data_shape, source.step) == (
        "mnist", "image", (28, 28, 1), None)
    assert source.num_available == 5
    assert source.location == {"type": "array", "path": path}
    with pytest.raises(ValueError, match="holds only 5 samples. Received: num_samples=6"):
        source.sample(6, 0)
    with pytest.raises(ValueError, match="Received: num_samples=0"):
        source.sample(0, 0)


def test_an_array_source_of_points_keeps_data_units(tmp_path):
    points = np.array([[2.5, -1.0], [0.0, 3.0]], dtype=np.float32)
    source = ArraySource(_save(tmp_path, points), "ring")
    assert (source.kind, source.data_shape) == ("points", (2,))
    np.testing.assert_array_equal(source.sample(2, 0), points)


def test_an_array_source_takes_any_image_shape_of_a_data_set_without_a_fixed_one(tmp_path):
    source = ArraySource(_save(tmp_path, np.zeros((2, 32, 32, 3), np.float32)), "cifar10")
    assert (source.kind, source.data_shape) == ("image", (32, 32, 3))


@pytest.mark.parametrize("array, dataset, message", [
    (np.zeros((2, 2), np.float32), None, "does not record its data set: pass it. "
     "Received: dataset=None"),
    (np.zeros((2, 28, 28), np.float32), "mnist", r"must hold images \[n, H, W, C\] or points "
     r"\[n, d\] with n >= 1. Received: shape=\(2, 28, 28\)"),
    (np.zeros((0, 2), np.float32), "ring", r"with n >= 1. Received: shape=\(0, 2\)"),
    (np.zeros((2, 28, 28, 3), np.float32), "mnist", r"samples of shape \(28, 28, 3\), not "
     r"mnist's \(28, 28, 1\). Received: shape=\(2, 28, 28, 3\)"),
    (np.zeros((2, 1), np.float32), "ring", r"not ring's \(2,\)"),
    (np.full((2, 28, 28, 1), 255.0), "mnist", r"images outside \[0, 1\]. "
     r"Received: value_range=\(255.0, 255.0\)"),
    (np.full((2, 28, 28, 1), -0.5), "mnist", r"Received: value_range=\(-0.5, -0.5\)"),
    (np.array([[0.0, np.nan]]), "ring", "NaN or infinite values"),
    (np.zeros((2, 28, 28, 1), np.uint8), "mnist", "must hold floats .* Received: dtype=uint8"),
])
def test_an_array_source_refuses_bad_arrays(tmp_path, array, dataset, message):
    with pytest.raises(ValueError, match=message):
        ArraySource(_save(tmp_path, array), dataset)


def test_an_array_source_refuses_files_that_are_not_npy_arrays(tmp_path):
    with pytest.raises(FileNotFoundError, match="none.npy does not exist"):
        ArraySource(str(tmp_path / "none.npy"), "ring")
    archive = tmp_path / "samples.npz"
    np.savez(archive, samples=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="is not a .npy array but a .npz archive"):
        ArraySource(str(archive), "ring")
    text = tmp_path / "samples.txt"
    text.write_text("not an array")
    with pytest.raises(ValueError, match=r"samples.txt is not a .npy array \("):
        ArraySource(str(text), "ring")
    with pytest.raises(ValueError, match="must hold floats"):
        ArraySource(_save(tmp_path, np.array([["a", "b"]])), "ring")


@pytest.fixture(scope="module")
def conditional_sources(tmp_path_factory):
    """The three sources of a tiny conditional MNIST run, and the server."""
    run = trained(tmp_path_factory, "mnist_conditional")
    with serve(run) as server:
        with ServerSource(server.rest_url, run.config.model_name, dataset="mnist") as served:
            yield {
                "checkpoint": CheckpointSource(run.workdir),
                "saved_model": SavedModelSource(run.model_dir),
                "server": served,
            }, server


def test_the_three_conditional_sources_give_the_same_samples_for_the_labels(
        conditional_sources):
    by_source, _ = conditional_sources
    labels = np.arange(10)
    samples = {name: source.sample(10, 4, labels) for name, source in by_source.items()}
    for name, drawn in samples.items():
        np.testing.assert_allclose(drawn, samples["checkpoint"], atol=1e-6, err_msg=name)
        assert by_source[name].conditional, name
        assert by_source[name].class_names == tuple("0123456789"), name
    # One label for all is that label repeated; other labels give other samples.
    np.testing.assert_array_equal(by_source["saved_model"].sample(3, 4, [5]),
                                  by_source["saved_model"].sample(3, 4, [5, 5, 5]))
    assert not np.allclose(samples["checkpoint"], by_source["checkpoint"].sample(10, 4, [0]))


def test_a_run_that_draws_its_labels_is_sampled_without_them_by_every_source(
        tmp_path_factory):
    run = trained(tmp_path_factory, "mnist_drawn_labels")
    with serve(run) as server:
        with ServerSource(server.rest_url, run.config.model_name, dataset="mnist") as served:
            by_source = {"checkpoint": CheckpointSource(run.workdir),
                         "saved_model": SavedModelSource(run.model_dir), "server": served}
            samples = {name: source.sample(20, 4) for name, source in by_source.items()}
    for name, source in by_source.items():
        assert not source.conditional and source.class_names is None, name
        np.testing.assert_allclose(samples[name], samples["checkpoint"], atol=1e-6,
                                   err_msg=name)
    with pytest.raises(ValueError, match=r"for an unconditional generator"):
        by_source["checkpoint"].sample(2, 1, [0])


def test_conditional_sources_need_labels_and_unconditional_ones_refuse_them(
        conditional_sources, sources):
    with pytest.raises(ValueError, match=r"needs labels.*labels=None for a conditional"):
        conditional_sources[0]["checkpoint"].sample(2, 1)
    with pytest.raises(ValueError, match=r"for an unconditional generator"):
        sources[0]["checkpoint"].sample(2, 1, [0])
    with pytest.raises(ValueError, match=r"one label for all samples or one per sample"):
        conditional_sources[0]["checkpoint"].sample(3, 1, [0, 1])


def test_a_server_refuses_a_label_outside_the_classes_as_invalid_argument(conditional_sources):
    by_source, _ = conditional_sources
    with pytest.raises(ServingError) as caught:
        by_source["server"].sample(2, 1, [3, 10])
    assert caught.value.code == error_codes_pb2.INVALID_ARGUMENT
    assert "labels must be class indices in [0, 10)" in str(caught.value)


def test_rest_answers_a_bad_label_with_400_in_tf_servings_error_shape(conditional_sources):
    _, server = conditional_sources
    body = json.dumps({"signature_name": "sample",
                       "inputs": {"num_samples": 2, "seed": 1, "labels": [3, 10],
                                  "truncation": 1.0}})
    status, content_type, text = http(
        "POST", f"{server.rest_url}/v1/models/digits_conditional:predict", body)
    assert (status, content_type) == (400, "application/json")
    assert list(json.loads(text)) == ["error"]
    assert "labels must be class indices in [0, 10)" in json.loads(text)["error"]


@pytest.mark.parametrize("truncation", [1.5, -1.0])
def test_rest_answers_a_bad_truncation_with_400_invalid_argument(conditional_sources,
                                                                truncation):
    _, server = conditional_sources
    body = json.dumps({"signature_name": "sample",
                       "inputs": {"num_samples": 2, "seed": 1, "labels": [3],
                                  "truncation": truncation}})
    status, _, text = http(
        "POST", f"{server.rest_url}/v1/models/digits_conditional:predict", body)
    assert status == 400
    assert "truncation must be in [0, 1]" in json.loads(text)["error"]


def test_rest_needs_truncation_named_in_the_request(conditional_sources):
    # The stock server's JSON reader wants every input of the signature, defaults or not.
    _, server = conditional_sources
    body = json.dumps({"signature_name": "sample",
                       "inputs": {"num_samples": 2, "seed": 1, "labels": [3]}})
    status, _, text = http(
        "POST", f"{server.rest_url}/v1/models/digits_conditional:predict", body)
    assert status == 400
    assert json.loads(text)["error"] == "Missing named input: truncation in 'inputs' object."


def test_rest_rows_with_labels_give_each_label_its_sample(conditional_sources):
    by_source, server = conditional_sources
    body = json.dumps({"signature_name": "sample_seeds",
                       "instances": [{"seeds": 4, "labels": k, "truncation": 1.0}
                                     for k in range(10)]})
    status, _, text = http(
        "POST", f"{server.rest_url}/v1/models/digits_conditional:predict", body)
    assert status == 200
    rows = json.loads(text)["predictions"]
    assert len(rows) == 10 and all(set(row) == {"samples", "z"} for row in rows)
    # Every row has seed 4's z; its label alone makes the sample, as `sample` makes it.
    for label, row in enumerate(rows):
        np.testing.assert_allclose(
            np.asarray(row["samples"])[None], by_source["saved_model"].sample(1, 4, [label]),
            atol=1e-6)


def test_rest_metadata_names_a_conditional_exports_classes(conditional_sources, sources):
    _, server = conditional_sources
    status, _, text = http("GET", f"{server.rest_url}/v1/models/digits_conditional/metadata")
    assert status == 200
    metadata = json.loads(text)["metadata"]
    assert metadata["class_names"] == list("0123456789")
    assert "sample" in metadata["signature_def"]["signature_def"]
    # An unconditional export answers exactly the stock keys.
    unconditional = sources[0]["server"]
    status, _, text = http("GET", f"{unconditional.location['url']}/v1/models/"
                                  f"{unconditional.model_name}/metadata")
    assert status == 200 and list(json.loads(text)["metadata"]) == ["signature_def"]
