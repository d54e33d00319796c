"""tfgan.serving.core: versions, policies, labels, failed loads, metadata and predict checks."""

import os
import shutil

import numpy as np
import pytest
import tensorflow as tf
from tensorflow.core.protobuf import error_codes_pb2 as codes
from tensorflow_serving.apis import get_model_metadata_pb2, model_pb2
from tensorflow_serving.config import file_system_storage_path_source_pb2, model_server_config_pb2

from serving_fixtures import MODEL_NAME, build_networks, exported_model, install_version, latent
from tfgan.serving import configs, core, versions
from tfgan.serving.core import ModelRegistry
from tfgan.serving.errors import ServingError

State = core.State
Policy = file_system_storage_path_source_pb2.FileSystemStoragePathSourceConfig.ServableVersionPolicy


def spec(name=MODEL_NAME, version=None, label=None, signature_name=""):
    model_spec = model_pb2.ModelSpec(name=name, signature_name=signature_name)
    if version is not None:
        model_spec.version.value = version
    if label is not None:
        model_spec.version_label = label
    return model_spec


def config_text(base_path, policy="", labels=""):
    return (f'model_config_list {{ config {{ name: "{MODEL_NAME}" base_path: "{base_path}"'
            f' model_platform: "tensorflow" {policy} {labels} }} }}')


def registry_for(tmp_path, text, **kwargs):
    path = tmp_path / "models.config"
    path.write_text(text)
    registry = ModelRegistry(configs.read_model_config_file(str(path)),
                             file_system_poll_wait_seconds=-1, **kwargs)
    registry.start()
    return registry


def states(registry):
    return [(s.version, s.state) for s in registry.model_status(spec()).model_version_status]


@pytest.fixture(scope="module")
def two_exports(tmp_path_factory):
    return exported_model(tmp_path_factory, 1), exported_model(tmp_path_factory, 2)


@pytest.fixture()
def latest_registry(tmp_path, two_exports):
    base = tmp_path / "toy"
    install_version(two_exports[0], base, 1)
    registry = ModelRegistry(configs.single_model_config(MODEL_NAME, str(base)),
                             file_system_poll_wait_seconds=-1)
    registry.start()
    return registry, base


# ---- configs and policies -------------------------------------------------------------------


@pytest.mark.parametrize("policy, expected", [
    (Policy(), {9}),
    (Policy(latest=Policy.Latest(num_versions=2)), {7, 9}),
    (Policy(all=Policy.All()), {1, 7, 9}),
    (Policy(specific=Policy.Specific(versions=[1, 3])), {1}),
])
def test_aspired_versions_follow_the_policy(policy, expected):
    assert versions.aspired_versions(policy, [9, 1, 7]) == expected


def test_only_integer_directories_are_versions(tmp_path):
    for name in ("1", "12", "tmp-3", ".staging-4", "0x5", "00000123", "0012",
                 "99999999999999999999"):
        (tmp_path / name).mkdir()
    (tmp_path / "7").write_text("a file, not a version")
    # Leading zeros as TF Serving parses them; the name found on disk is kept for loading.
    assert versions.list_versions(str(tmp_path)) == {1: "1", 12: "0012", 123: "00000123"}
    assert versions.list_versions(str(tmp_path / "missing")) == {}


@pytest.mark.parametrize("text, message", [
    ('model_config_list { config { name: "a" base_path: "/x" } config { name: "a" base_path:'
     ' "/y" } }', "model names must be unique. Received: name='a'"),
    ('model_config_list { config { name: "a" } }', "model a needs a base_path."),
    ('model_config_list { config { name: "a" base_path: "/x" model_platform: "pytorch" } }',
     "only the tensorflow model platform is served."),
    ('model_config_list { config { nam: "a" } }',
     "Error parsing text-format tensorflow.serving.ModelServerConfig: 1:30 : Message type "),
])
def test_bad_model_configs_are_refused(tmp_path, text, message):
    path = tmp_path / "models.config"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        configs.read_model_config_file(str(path))


# ---- versions -------------------------------------------------------------------------------


def test_latest_policy_loads_the_new_version_then_unloads_the_old(latest_registry, two_exports):
    registry, base = latest_registry
    assert states(registry) == [(1, State.AVAILABLE)]
    install_version(two_exports[1], base, 2)
    registry.poll_once()
    assert states(registry) == [(2, State.AVAILABLE), (1, State.END)]
    assert registry.resolve(spec()).version == 2
    with pytest.raises(ServingError, match=r"Servable not found for request: Specific\(toy, 1\)"):
        registry.resolve(spec(version=1))


def test_a_failed_load_keeps_the_old_version_serving(latest_registry):
    registry, base = latest_registry
    broken = base / "5"
    broken.mkdir()
    (broken / "saved_model.pb").write_bytes(b"not a proto")
    registry.poll_once()
    status = registry.model_status(spec()).model_version_status
    assert [(s.version, s.state) for s in status] == [(5, State.END), (1, State.AVAILABLE)]
    assert status[0].status.error_code != codes.OK and status[0].status.error_message
    result = registry.predict(spec(signature_name="sample"),
                              {"num_samples": np.int32(2), "seed": np.int64(3)})
    assert result.model_spec.version.value == 1
    registry.poll_once()  # a failed version is not retried while its directory stays
    assert states(registry)[0] == (5, State.END)


def test_after_a_restart_a_corrupt_newest_version_gives_way_to_the_newest_that_loads(
        tmp_path, two_exports):
    base = tmp_path / "toy"
    install_version(two_exports[0], base, 1)
    install_version(two_exports[1], base, 2)
    for version in (3, 4):
        (base / str(version)).mkdir()
        (base / str(version) / "saved_model.pb").write_bytes(b"not a proto")
    registry = ModelRegistry(configs.single_model_config(MODEL_NAME, str(base)),
                             file_system_poll_wait_seconds=-1)
    registry.start()
    assert states(registry) == [(4, State.END), (3, State.END), (2, State.AVAILABLE)]
    assert registry.resolve(spec()).version == 2
    assert registry.failed_models() == []
    shutil.rmtree(base / "4")  # fixed by removing it: 3 is still broken, 2 keeps serving
    registry.poll_once()
    assert states(registry) == [(3, State.END), (2, State.AVAILABLE)]


def test_a_model_whose_versions_all_fail_is_named(tmp_path):
    base = tmp_path / "toy"
    (base / "1").mkdir(parents=True)
    (base / "1" / "saved_model.pb").write_bytes(b"not a proto")
    registry = ModelRegistry(configs.single_model_config(MODEL_NAME, str(base)),
                             file_system_poll_wait_seconds=-1)
    registry.start()
    assert registry.failed_models() == [
        f"toy: Can't parse {base / '1' / 'saved_model.pb'} as binary proto"]


def test_version_directories_linked_out_of_the_allowed_roots_are_refused(tmp_path, two_exports):
    base = tmp_path / "models" / "toy"
    install_version(two_exports[0], base, 1)
    outside = tmp_path / "elsewhere"
    install_version(two_exports[1], outside, 2)
    (base / "2").symlink_to(outside / "2")
    registry = ModelRegistry(configs.single_model_config(MODEL_NAME, str(base)),
                             file_system_poll_wait_seconds=-1,
                             allowed_roots=(str(tmp_path / "models"),))
    registry.start()
    status = registry.model_status(spec()).model_version_status
    assert [(s.version, s.state) for s in status] == [(2, State.END), (1, State.AVAILABLE)]
    assert status[0].status.error_code == codes.PERMISSION_DENIED
    assert "outside the directories this server may serve from" in status[0].status.error_message
    with pytest.raises(ServingError, match="outside the directories"):
        ModelRegistry(configs.single_model_config(MODEL_NAME, str(outside)),
                      allowed_roots=(str(tmp_path / "models"),))


def test_a_zero_padded_version_directory_serves_from_its_own_path(tmp_path, two_exports):
    base = tmp_path / "toy"
    install_version(two_exports[0], base, "00000123")
    registry = ModelRegistry(configs.single_model_config(MODEL_NAME, str(base)),
                             file_system_poll_wait_seconds=-1)
    registry.start()
    assert states(registry) == [(123, State.AVAILABLE)]
    loaded = registry.resolve(spec(version=123))
    assert loaded.path == str(base / "00000123")
    result = registry.predict(spec(signature_name="sample"),
                              {"num_samples": np.int32(1), "seed": np.int64(0)})
    assert result.model_spec.version.value == 123


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def registry_with_retries(tmp_path, export, **retry_options):
    """A registry serving `export` as version 1, on a fake clock for the retry interval."""
    base = tmp_path / "toy"
    install_version(export, base, 1)
    clock = FakeClock()
    registry = ModelRegistry(configs.single_model_config(MODEL_NAME, str(base)),
                             file_system_poll_wait_seconds=-1, clock=clock, **retry_options)
    registry.start()
    return registry, base, clock


def failed_loads(registry, version):
    return registry._models[MODEL_NAME].failed[version][0]


def test_a_failed_load_is_retried_after_the_interval_then_given_up(tmp_path, two_exports):
    registry, base, clock = registry_with_retries(
        tmp_path, two_exports[0], max_num_load_retries=2, load_retry_interval_micros=10_000_000)
    copying = base / "2"  # copied in slowly, without a rename: only the graph so far
    copying.mkdir()
    shutil.copy(two_exports[1] / "saved_model.pb", copying)
    registry.poll_once()
    assert states(registry) == [(2, State.END), (1, State.AVAILABLE)]
    assert registry.resolve(spec()).version == 1  # not served until it loads
    clock.now = 5.0
    registry.poll_once()  # too soon: no second try
    assert failed_loads(registry, 2) == 1
    clock.now = 10.0
    registry.poll_once()  # second try, still incomplete
    assert failed_loads(registry, 2) == 2
    shutil.copytree(two_exports[1], copying, dirs_exist_ok=True)  # the copy completes
    clock.now = 20.0
    registry.poll_once()  # third try (the second retry) loads it
    assert states(registry) == [(2, State.AVAILABLE), (1, State.END)]


def test_retries_stop_after_max_num_load_retries(tmp_path, two_exports):
    registry, base, _ = registry_with_retries(
        tmp_path, two_exports[0], max_num_load_retries=1, load_retry_interval_micros=0)
    (base / "2").mkdir()
    (base / "2" / "saved_model.pb").write_bytes(b"garbage")
    for _ in range(4):
        registry.poll_once()
    assert failed_loads(registry, 2) == 2  # one load and one retry
    assert states(registry) == [(2, State.END), (1, State.AVAILABLE)]


def test_versions_are_warmed_up_from_the_warmup_file_or_their_signatures(tmp_path, two_exports):
    from tensorflow_serving.apis import predict_pb2, prediction_log_pb2

    base = tmp_path / "toy"
    path = install_version(two_exports[0], base, 1)
    loaded = versions.LoadedVersion(MODEL_NAME, 1, path, warmup=False)
    # No warm-up file: one request per signature made from its shapes (all 5 of the toy's).
    assert loaded.warm_up() == 5
    request = predict_pb2.PredictRequest()
    request.model_spec.signature_name = "sample_seeds"
    request.inputs["seeds"].CopyFrom(tf.make_tensor_proto(np.array([1, 2], np.int64)))
    log = prediction_log_pb2.PredictionLog(predict_log=prediction_log_pb2.PredictLog(
        request=request))
    os.makedirs(os.path.join(path, "assets.extra"), exist_ok=True)
    with tf.io.TFRecordWriter(os.path.join(path, versions.WARMUP_FILE)) as writer:
        for _ in range(3):
            writer.write(log.SerializeToString())
    assert versions.LoadedVersion(MODEL_NAME, 1, path, warmup=False).warm_up() == 3


def test_metrics_keys_are_bounded_to_served_models(latest_registry):
    registry, _ = latest_registry
    for index in range(50):
        registry.metrics.record(f"nope{index}", "predict", "REST", codes.NOT_FOUND, 10)
    registry.metrics.record(MODEL_NAME, "predict", "REST", codes.OK, 10)
    counts, latencies = registry.metrics.snapshot()
    assert counts == {("<unknown model>", "NOT_FOUND"): 50, (MODEL_NAME, "OK"): 1}


def test_an_emptied_base_path_unloads_everything_and_status_forgets_it(latest_registry):
    registry, base = latest_registry
    os.rename(base / "1", base / "old")
    registry.poll_once()
    with pytest.raises(ServingError) as caught:
        registry.resolve(spec())
    assert caught.value.code == codes.NOT_FOUND
    assert caught.value.message == "Servable not found for request: Latest(toy)"
    with pytest.raises(ServingError) as caught:
        registry.model_status(spec())
    assert caught.value.message == "Could not find any versions of model toy"


def test_specific_policy_with_labels(tmp_path, two_exports):
    base = tmp_path / "toy"
    for version in (1, 2, 3):
        install_version(two_exports[version % 2], base, version)
    registry = registry_for(
        tmp_path, config_text(base, "model_version_policy { specific { versions: 1 versions: 2 } }",
                              'version_labels { key: "stable" value: 1 }'
                              ' version_labels { key: "canary" value: 2 }'))
    assert states(registry) == [(2, State.AVAILABLE), (1, State.AVAILABLE)]
    assert registry.resolve(spec(label="stable")).version == 1
    assert registry.resolve(spec(label="canary")).version == 2
    assert registry.resolve(spec()).version == 2
    with pytest.raises(ServingError, match="Unrecognized servable version label: beta"):
        registry.resolve(spec(label="beta"))


def test_a_label_on_an_unavailable_version_stops_the_start(tmp_path, two_exports):
    base = tmp_path / "toy"
    install_version(two_exports[0], base, 1)
    with pytest.raises(ServingError) as caught:
        registry_for(tmp_path, config_text(base, labels='version_labels { key: "x" value: 4 }'))
    assert caught.value.code == codes.FAILED_PRECONDITION
    assert caught.value.message == ("Request to assign label to version 4 of model toy, which is"
                                    " not currently available for inference")


def test_status_errors(latest_registry):
    registry, _ = latest_registry
    with pytest.raises(ServingError, match="Could not find any versions of model nope"):
        registry.model_status(spec("nope"))
    with pytest.raises(ServingError, match="Could not find version 3 of model toy"):
        registry.model_status(spec(version=3))
    with pytest.raises(ServingError, match="ModelSpec has no name specified."):
        registry.resolve(spec(""))


def test_reload_config_adds_and_removes_models(latest_registry):
    registry, base = latest_registry
    config = model_server_config_pb2.ModelServerConfig()
    config.model_config_list.config.add(name="other", base_path=str(base))
    registry.reload_config(config)
    assert registry.model_names == ["other"]
    assert registry.resolve(spec("other")).version == 1
    with pytest.raises(ServingError, match=r"Latest\(toy\)"):
        registry.resolve(spec())


# ---- metadata -------------------------------------------------------------------------------


def test_metadata_is_the_saved_models_signature_defs(latest_registry, two_exports):
    registry, _ = latest_registry
    request = get_model_metadata_pb2.GetModelMetadataRequest(
        model_spec=spec(), metadata_field=["signature_def"])
    response = registry.model_metadata(request)
    assert response.model_spec.name == MODEL_NAME and response.model_spec.version.value == 1
    signature_map = get_model_metadata_pb2.SignatureDefMap()
    assert response.metadata["signature_def"].Unpack(signature_map)
    on_disk = versions.read_signature_defs(str(two_exports[0]))
    assert dict(signature_map.signature_def) == on_disk
    sample = signature_map.signature_def["sample"]
    assert sorted(sample.inputs) == ["num_samples", "seed"]
    assert sorted(sample.outputs) == ["samples", "z"]
    with pytest.raises(ServingError, match="Metadata field nope is not supported"):
        registry.model_metadata(get_model_metadata_pb2.GetModelMetadataRequest(
            model_spec=spec(), metadata_field=["nope"]))
    with pytest.raises(ServingError, match="must specify at least one metadata_field"):
        registry.model_metadata(get_model_metadata_pb2.GetModelMetadataRequest(model_spec=spec()))


# ---- predict --------------------------------------------------------------------------------


def test_predict_runs_the_signature(latest_registry):
    registry, _ = latest_registry
    result = registry.predict(spec(signature_name="sample"),
                              {"num_samples": np.int32(3), "seed": np.int64(7)})
    z = latent(3, 7).numpy()
    np.testing.assert_allclose(result.outputs["z"], z)
    generator, _ = build_networks(1)
    np.testing.assert_allclose(result.outputs["samples"], generator(z).numpy(), rtol=1e-5)
    assert result.model_spec.signature_name == "sample"
    assert result.model_spec.version.value == 1
    only_z = registry.predict(spec(signature_name="sample"),
                              {"num_samples": tf.make_tensor_proto(np.int32(3)),
                               "seed": tf.make_tensor_proto(np.int64(7))}, ["z"])
    assert list(only_z.outputs) == ["z"]


@pytest.mark.parametrize("signature, inputs, output_filter, code, message", [
    ("nope", {"z": np.zeros((1, 3), np.float32)}, (), codes.FAILED_PRECONDITION,
     'Serving signature key "nope" not found.'),
    ("sample", {"num_samples": np.int32(1)}, (), codes.INVALID_ARGUMENT,
     "input size does not match signature: 1!=2 len({num_samples}) != len({num_samples,seed})."
     " Sent extra: {}. Missing but required: {seed}."),
    ("sample", {"num_samples": np.int32(1), "seeds": np.int64(1)}, (), codes.INVALID_ARGUMENT,
     "Signature input alias: seed(feed name: sample_seed:0) not found in request and no default"
     " value provided. Inputs expected to be in the request {num_samples,seeds}, or default"
     " input alias set: "),
    ("sample", {"num_samples": np.float32(1), "seed": np.int64(1)}, (), codes.INVALID_ARGUMENT,
     "Expects arg[0] to be int32 but float is provided"),
    ("sample", {"num_samples": np.int32(1), "seed": np.int64(1)}, ("zz",),
     codes.INVALID_ARGUMENT, "output tensor alias not found in signature: zz Outputs expected to"
     " be in the set {samples,z}."),
    ("sample", {"num_samples": np.int32(1), "seed": np.int64(1)}, ("z", "z"),
     codes.INVALID_ARGUMENT, "duplicate output tensor alias: z"),
])
def test_predict_errors(latest_registry, signature, inputs, output_filter, code, message):
    registry, _ = latest_registry
    with pytest.raises(ServingError) as caught:
        registry.predict(spec(signature_name=signature), inputs, output_filter)
    assert (caught.value.code, caught.value.message) == (code, message)


def test_graph_errors_keep_their_code_without_eager_decorations(latest_registry):
    registry, _ = latest_registry
    with pytest.raises(ServingError) as caught:
        registry.predict(spec(), {"z": np.zeros((2, 5), np.float32)})
    assert caught.value.code == codes.INVALID_ARGUMENT
    assert caught.value.message.startswith("Matrix size-incompatible: In[0]: [2,5], In[1]: [3,16]")
    assert "Graph execution error" not in caught.value.message


def test_max_samples_per_request(tmp_path, two_exports):
    base = tmp_path / "toy"
    install_version(two_exports[0], base, 1)
    registry = ModelRegistry(configs.single_model_config(MODEL_NAME, str(base)),
                             file_system_poll_wait_seconds=-1, max_samples_per_request=4)
    registry.start()
    with pytest.raises(ServingError, match="num_samples=5 is more than this server's"
                                           " max_samples_per_request=4"):
        registry.predict(spec(signature_name="sample"),
                         {"num_samples": np.int32(5), "seed": np.int64(1)})
    with pytest.raises(ServingError, match="Input z has 5 rows, more than this server's"):
        registry.predict(spec(), {"z": np.zeros((5, 3), np.float32)})
    assert registry.predict(spec(), {"z": np.zeros((4, 3), np.float32)}).outputs[
        "samples"].shape == (4, 4, 4, 1)


def test_classify_and_regress_answer_as_for_a_model_without_such_signatures(latest_registry):
    registry, _ = latest_registry
    with pytest.raises(ServingError, match="No classification inputs found in SignatureDef: "):
        registry.classify_or_regress(spec(), "classify", [])
    with pytest.raises(ServingError, match="Expected one input Tensor.$"):
        registry.classify_or_regress(spec(signature_name="sample"), "regress", [])
    with pytest.raises(ServingError, match="No signature was found with the name: nope"):
        registry.classify_or_regress(spec(signature_name="nope"), "classify", [])


def test_saved_model_tags_pick_the_meta_graph(tmp_path):
    path = str(tmp_path / "tagged")
    v1 = tf.compat.v1
    with tf.Graph().as_default() as graph, v1.Session(graph=graph) as session:
        x = v1.placeholder(tf.float32, [None], name="x")
        signature = v1.saved_model.predict_signature_def({"x": x}, {"y": x * 2.0})
        builder = v1.saved_model.Builder(path)
        builder.add_meta_graph_and_variables(session, ["serve", "gpu"],
                                             signature_def_map={"double": signature})
        builder.save()
    with pytest.raises(ServingError, match=r"matching supplied tags: \{ serve \}"):
        versions.LoadedVersion("tagged", 1, path, warmup=0)
    loaded = versions.LoadedVersion("tagged", 1, path, warmup=0, tags=("serve", "gpu"))
    np.testing.assert_array_equal(loaded.run("double", {"x": np.float32([1, 2])})["y"], [2, 4])
