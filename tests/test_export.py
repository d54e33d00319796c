import functools
import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from export_fixtures import PyFunctionGenerator
from export_fixtures import TinyDiscriminator
from export_fixtures import TinyGenerator
from export_fixtures import global_dtype_policy
from tfgan import export
from tfgan import priors
from tfgan.data import toys

Z_DIM = 4
IMAGE_SHAPE = (8, 8, 1)
ALL_IMAGE_SIGNATURES = {"serving_default", "sample", "sample_seeds", "sample_png", "discriminate"}
SAMPLING_SIGNATURES = ("sample", "sample_seeds", "sample_png")


def int32(value):
    return tf.constant(value, tf.int32)


def int64(value):
    return tf.constant(value, tf.int64)


def signature_inputs(name):
    """Small concrete inputs for each tfgan signature, as numpy arrays."""
    rng = np.random.default_rng(0)
    return {
        "serving_default": {"z": rng.normal(size=(3, Z_DIM)).astype(np.float32)},
        "sample": {"num_samples": np.int32(3), "seed": np.int64(7)},
        "sample_seeds": {"seeds": np.array([3, 11, 3], np.int64)},
        "sample_png": {"num_samples": np.int32(2), "seed": np.int64(7)},
        "discriminate": {"samples": rng.uniform(size=(3, *IMAGE_SHAPE)).astype(np.float32)},
    }[name]


def run_in_session_loader(path, name, inputs):
    """Runs one signature the way the stock server does: v1 loader, tensor names."""
    graph = tf.Graph()
    with graph.as_default(), tf.compat.v1.Session(graph=graph) as session:
        meta_graph = tf.compat.v1.saved_model.loader.load(session, ["serve"], path)
        signature = meta_graph.signature_def[name]
        feeds = {signature.inputs[key].name: value for key, value in inputs.items()}
        fetches = {key: info.name for key, info in signature.outputs.items()}
        return session.run(fetches, feeds)


def call_signature(loaded, name, inputs):
    """Calls a loaded signature; `truncation` left out is its SignatureDef default 1.0, which the
    servers and the v1 loader apply but `tf.saved_model.load`'s signatures do not."""
    if name in SAMPLING_SIGNATURES and "truncation" not in inputs:
        inputs = {**inputs, "truncation": np.float32(1.0) if "seed" in inputs
                  else np.ones([1], np.float32)}
    outputs = loaded.signatures[name](**{k: tf.constant(v) for k, v in inputs.items()})
    return {key: value.numpy() for key, value in outputs.items()}


@pytest.fixture(scope="module")
def image_export(tmp_path_factory):
    """A tanh (-1, 1) image generator with a discriminator, exported once for the module."""
    generator = TinyGenerator(Z_DIM, IMAGE_SHAPE, "tanh")
    discriminator = TinyDiscriminator(IMAGE_SHAPE)
    base = tmp_path_factory.mktemp("export")
    path = export.export_generator(
        generator,
        export_base=str(base),
        model_name="tiny",
        prior="normal",
        value_range=(-1, 1),
        discriminator=discriminator,
        metadata={"dataset": "toy_images", "step": 42, "note": "test"},
    )
    return generator, discriminator, path, tf.saved_model.load(path)


def test_first_export_is_version_1_with_the_serving_layout(image_export):
    _, _, path, _ = image_export
    assert os.path.basename(path) == "1"
    assert sorted(os.listdir(os.path.dirname(path))) == ["1"]
    assert os.path.isfile(os.path.join(path, "saved_model.pb"))
    assert os.path.isdir(os.path.join(path, "variables"))
    assert os.path.isfile(os.path.join(path, "assets.extra", "tfgan.json"))


def test_image_export_has_every_signature(image_export):
    *_, loaded = image_export
    assert set(loaded.signatures) == ALL_IMAGE_SIGNATURES


def test_serving_default_is_the_generator_rescaled_to_unit_range(image_export):
    generator, _, _, loaded = image_export
    z = signature_inputs("serving_default")["z"]
    samples = call_signature(loaded, "serving_default", {"z": z})["samples"]
    assert samples.shape == (3, *IMAGE_SHAPE) and samples.dtype == np.float32
    expected = (generator(z).numpy() + 1.0) / 2.0
    np.testing.assert_allclose(samples, expected, atol=1e-6)
    assert samples.min() >= 0.0 and samples.max() <= 1.0


def test_sample_is_deterministic_per_seed_and_uses_the_stateless_prior(image_export):
    *_, loaded = image_export
    first = call_signature(loaded, "sample", {"num_samples": np.int32(5), "seed": np.int64(7)})
    again = call_signature(loaded, "sample", {"num_samples": np.int32(5), "seed": np.int64(7)})
    other = call_signature(loaded, "sample", {"num_samples": np.int32(5), "seed": np.int64(8)})
    assert first["samples"].shape == (5, *IMAGE_SHAPE) and first["z"].shape == (5, Z_DIM)
    assert first["samples"].dtype == np.float32 and first["z"].dtype == np.float32
    np.testing.assert_array_equal(first["samples"], again["samples"])
    assert not np.allclose(first["samples"], other["samples"])
    np.testing.assert_array_equal(first["z"], priors.stateless_prior(5, Z_DIM, "normal", 7))
    from_z = call_signature(loaded, "serving_default", {"z": first["z"]})["samples"]
    np.testing.assert_allclose(first["samples"], from_z, atol=1e-6)
    assert first["samples"].min() >= 0.0 and first["samples"].max() <= 1.0


def test_sample_seeds_row_i_depends_only_on_seed_i(image_export):
    generator, _, _, loaded = image_export
    seeds = signature_inputs("sample_seeds")["seeds"]
    outputs = call_signature(loaded, "sample_seeds", {"seeds": seeds})
    assert outputs["samples"].shape == (3, *IMAGE_SHAPE) and outputs["z"].shape == (3, Z_DIM)
    expected_z = priors.stateless_prior_per_seed(tf.constant(seeds), Z_DIM, "normal").numpy()
    np.testing.assert_array_equal(outputs["z"], expected_z)
    np.testing.assert_array_equal(outputs["samples"][0], outputs["samples"][2])
    np.testing.assert_allclose(
        outputs["samples"], (generator(expected_z).numpy() + 1.0) / 2.0, atol=1e-6
    )
    alone = call_signature(loaded, "sample_seeds", {"seeds": np.array([11], np.int64)})
    np.testing.assert_array_equal(alone["samples"][0], outputs["samples"][1])


def test_sample_png_encodes_one_png_per_sample(image_export):
    *_, loaded = image_export
    inputs = signature_inputs("sample_png")
    png_bytes = call_signature(loaded, "sample_png", inputs)["png_bytes"]
    samples = call_signature(loaded, "sample", inputs)["samples"]
    assert png_bytes.shape == (2,) and png_bytes.dtype == object
    for encoded, sample in zip(png_bytes, samples):
        assert encoded[:8] == b"\x89PNG\r\n\x1a\n"
        pixels = tf.io.decode_png(encoded).numpy()
        assert pixels.shape == IMAGE_SHAPE
        np.testing.assert_array_equal(pixels, np.round(sample * 255.0).astype(np.uint8))


def test_discriminate_maps_unit_range_back_to_the_discriminator_range(image_export):
    _, discriminator, _, loaded = image_export
    samples = signature_inputs("discriminate")["samples"]
    outputs = call_signature(loaded, "discriminate", {"samples": samples})
    assert outputs["logits"].shape == (3,) and outputs["probability_real"].shape == (3,)
    expected_logits = discriminator(samples * 2.0 - 1.0).numpy()[:, 0]
    np.testing.assert_allclose(outputs["logits"], expected_logits, atol=1e-5)
    np.testing.assert_allclose(
        outputs["probability_real"], 1.0 / (1.0 + np.exp(-expected_logits)), atol=1e-6
    )


@pytest.mark.parametrize("name", sorted(ALL_IMAGE_SIGNATURES))
def test_every_signature_runs_in_the_v1_session_loader(image_export, name):
    _, _, path, loaded = image_export
    inputs = signature_inputs(name)
    from_session = run_in_session_loader(path, name, inputs)
    from_python = call_signature(loaded, name, inputs)
    assert set(from_session) == set(from_python)
    for key, value in from_python.items():
        if value.dtype == object:
            np.testing.assert_array_equal(from_session[key], value)
        else:
            np.testing.assert_allclose(from_session[key], value, atol=1e-6)


def test_metadata_records_the_export(image_export):
    _, _, path, _ = image_export
    with open(os.path.join(path, "assets.extra", "tfgan.json")) as f:
        raw = json.load(f)
    metadata = export.read_metadata(path)
    assert metadata == raw
    assert metadata["model_name"] == "tiny" and metadata["version"] == 1
    assert metadata["z_dim"] == Z_DIM and metadata["data_shape"] == list(IMAGE_SHAPE)
    assert metadata["prior"] == "normal"
    assert metadata["value_range"] == [-1.0, 1.0] and metadata["output_range"] == [0.0, 1.0]
    assert metadata["architecture"] == "TinyGenerator"
    assert metadata["dataset"] == "toy_images" and metadata["step"] == 42
    assert metadata["note"] == "test"
    assert metadata["tensorflow_version"] == tf.__version__
    signatures = metadata["signatures"]
    assert set(signatures) == ALL_IMAGE_SIGNATURES
    assert signatures["sample"]["inputs"] == {
        "num_samples": {"dtype": "int32", "shape": []},
        "seed": {"dtype": "int64", "shape": []},
        "truncation": {"dtype": "float32", "shape": []},
    }
    assert signatures["sample_seeds"]["inputs"]["truncation"] == {"dtype": "float32",
                                                                  "shape": [None]}
    png_outputs = signatures["sample_png"]["outputs"]
    assert png_outputs == {"png_bytes": {"dtype": "string", "shape": [None]}}
    assert signatures["serving_default"]["outputs"]["samples"]["shape"] == [None, 8, 8, 1]
    batchable = {name for name, signature in signatures.items() if signature["batchable"]}
    assert batchable == {"serving_default", "sample_seeds", "discriminate"}


def test_existing_version_is_refused_without_overwrite(image_export):
    generator, _, path, _ = image_export
    base = os.path.dirname(os.path.dirname(path))
    with pytest.raises(FileExistsError, match="Version 1 of model 'tiny' already exists") as info:
        export.export_generator(
            generator, export_base=base, model_name="tiny", prior="normal",
            value_range=(-1, 1), version=1,
        )
    assert "\n" not in str(info.value)
    assert sorted(os.listdir(os.path.dirname(path))) == ["1"]


def test_points_export_keeps_data_units_and_has_no_png(tmp_path):
    generator = TinyGenerator(Z_DIM, (2,), "linear")
    path = export.export_generator(
        generator, export_base=str(tmp_path), model_name="ring", prior="uniform",
        value_range=None,
    )
    loaded = tf.saved_model.load(path)
    assert set(loaded.signatures) == {"serving_default", "sample", "sample_seeds"}
    z = np.array([[30.0, -20.0, 10.0, 5.0]], np.float32)
    samples = call_signature(loaded, "serving_default", {"z": z})["samples"]
    np.testing.assert_allclose(samples, generator(z).numpy(), atol=1e-6)
    assert np.abs(samples).max() > 1.0  # data units: not clipped to an image range
    metadata = export.read_metadata(path)
    assert metadata["value_range"] is None and metadata["output_range"] is None
    sampled = call_signature(loaded, "sample", {"num_samples": np.int32(4), "seed": np.int64(1)})
    np.testing.assert_array_equal(sampled["z"], priors.stateless_prior(4, Z_DIM, "uniform", 1))


@pytest.mark.parametrize("toy", ["ring", "gaussian_1d"])
def test_toy_export_draws_the_real_data_in_the_graph(tmp_path, toy):
    data_shape = toys.TOYS[toy].data_shape
    path = export.export_generator(
        TinyGenerator(Z_DIM, data_shape, "linear"), export_base=str(tmp_path), model_name=toy,
        prior="normal", value_range=None, real_data=functools.partial(toys.toy_samples, toy),
    )
    assert export.read_metadata(path)["signatures"]["real_samples"]["outputs"]["samples"] == {
        "dtype": "float32", "shape": [None, *data_shape]}
    real = run_in_session_loader(
        path, "real_samples", {"num_samples": np.int32(64), "seed": np.int64(5)})["samples"]
    np.testing.assert_allclose(real, toys.sample_toy(toy, 64, seed=5), atol=1e-6)


def test_mixed_bfloat16_generator_exports_float32_signatures(tmp_path):
    with global_dtype_policy("mixed_bfloat16"):
        generator = TinyGenerator(Z_DIM, IMAGE_SHAPE, "sigmoid")
        discriminator = TinyDiscriminator(IMAGE_SHAPE)
        generator(tf.zeros([1, Z_DIM]))
        discriminator(tf.zeros([1, *IMAGE_SHAPE]))
    z = np.full((2, Z_DIM), 0.25, np.float32)
    assert generator(z).dtype == "bfloat16"  # so the export really has to cast
    path = export.export_generator(
        generator, export_base=str(tmp_path), model_name="bf16", prior="normal",
        value_range=(0, 1), discriminator=discriminator,
    )
    allowed = {"float32", "int32", "int64", "string"}
    for name, signature in export.read_metadata(path)["signatures"].items():
        dtypes = {t["dtype"] for t in {**signature["inputs"], **signature["outputs"]}.values()}
        assert dtypes <= allowed, (name, dtypes)
    samples = run_in_session_loader(path, "serving_default", {"z": z})["samples"]
    assert samples.dtype == np.float32
    # bfloat16 keeps 8 bits of mantissa; graph and eager kernels may round differently.
    expected = generator(z).numpy().astype(np.float32)
    np.testing.assert_allclose(samples, expected, atol=2**-7)


def test_batchable_only_export_leaves_out_scalar_signatures(tmp_path):
    path = export.export_generator(
        TinyGenerator(Z_DIM, IMAGE_SHAPE, "sigmoid"), export_base=str(tmp_path),
        model_name="batched", prior="normal", value_range=(0, 1),
        discriminator=TinyDiscriminator(IMAGE_SHAPE), batchable_only=True,
    )
    signatures = export.read_metadata(path)["signatures"]
    assert set(signatures) == {"serving_default", "sample_seeds", "discriminate"}
    assert all(signature["batchable"] for signature in signatures.values())


def test_version_numbering_counts_only_integer_directories(tmp_path):
    model_dir = tmp_path / "tiny"
    assert export.latest_version(str(model_dir)) is None
    for name in ("1", "5", "latest", "12a", ".tmp-9-123"):
        (model_dir / name).mkdir(parents=True)
    (model_dir / "7").write_text("a file, not a version")
    assert export.latest_version(str(model_dir)) == 5
    path = export.export_generator(
        TinyGenerator(Z_DIM, IMAGE_SHAPE, "sigmoid"), export_base=str(tmp_path),
        model_name="tiny", prior="uniform", value_range=(0, 1),
    )
    assert path == str(model_dir / "6")
    assert export.latest_version(str(model_dir)) == 6
    assert sorted(os.listdir(model_dir)) == [".tmp-9-123", "1", "12a", "5", "6", "7", "latest"]


def test_overwrite_replaces_the_version_in_place(tmp_path):
    old = tmp_path / "tiny" / "2"
    old.mkdir(parents=True)
    (old / "marker").write_text("old export")
    path = export.export_generator(
        TinyGenerator(Z_DIM, IMAGE_SHAPE, "sigmoid"), export_base=str(tmp_path),
        model_name="tiny", prior="uniform", value_range=(0, 1), version=2, overwrite=True,
        metadata={"step": 2},
    )
    assert path == str(old)
    assert sorted(os.listdir(tmp_path / "tiny")) == ["2"]
    assert not (old / "marker").exists()
    assert export.read_metadata(path)["step"] == 2


@pytest.mark.parametrize("overwrite", [False, True])
def test_failed_export_publishes_nothing(tmp_path, monkeypatch, overwrite):
    old = tmp_path / "tiny" / "1"
    old.mkdir(parents=True)
    (old / "marker").write_text("old export")

    def refuse(path):
        assert os.path.basename(path).startswith(".tmp-")
        assert os.path.isfile(os.path.join(path, "saved_model.pb"))
        raise ValueError("refused for the test")

    monkeypatch.setattr(export, "verify_saved_model", refuse)
    with pytest.raises(ValueError, match="refused for the test"):
        export.export_generator(
            TinyGenerator(Z_DIM, IMAGE_SHAPE, "sigmoid"), export_base=str(tmp_path),
            model_name="tiny", prior="uniform", value_range=(0, 1),
            version=1 if overwrite else None, overwrite=overwrite,
        )
    assert sorted(os.listdir(tmp_path / "tiny")) == ["1"]
    assert (old / "marker").read_text() == "old export"


def test_py_function_generator_is_refused_and_nothing_is_published(tmp_path):
    with pytest.raises(ValueError, match="cannot run.*Received: op='EagerPyFunc'"):
        export.export_generator(
            PyFunctionGenerator(Z_DIM, IMAGE_SHAPE, "sigmoid"), export_base=str(tmp_path),
            model_name="tiny", prior="uniform", value_range=(0, 1),
        )
    assert os.listdir(tmp_path / "tiny") == []


def test_verify_rejects_a_py_function_endpoint(tmp_path):
    archive = keras.export.ExportArchive()
    archive.add_endpoint(
        "serving_default",
        lambda z: {"samples": tf.py_function(lambda x: x + 1.0, [z], tf.float32)},
        input_signature=[tf.TensorSpec([None, Z_DIM], tf.float32, name="z")],
    )
    archive.write_out(str(tmp_path / "model"), verbose=False)
    with pytest.raises(ValueError) as info:
        export.verify_saved_model(str(tmp_path / "model"))
    message = str(info.value)
    assert "stock model server cannot run" in message and "\n" not in message
    assert message.endswith("Received: op='EagerPyFunc'")


def test_verify_rejects_an_xla_compiled_endpoint(tmp_path):
    scale = tf.Variable(2.0)

    @tf.function(
        jit_compile=True, input_signature=[tf.TensorSpec([None, Z_DIM], tf.float32, name="z")]
    )
    def serving_default(z):
        return {"samples": z * scale}

    serving_default.get_concrete_function()
    archive = keras.export.ExportArchive()
    archive.add_endpoint("serving_default", serving_default)
    archive.write_out(str(tmp_path / "model"), verbose=False)
    with pytest.raises(ValueError, match="XLA compilation.*Received: attr='_XlaMustCompile'"):
        export.verify_saved_model(str(tmp_path / "model"))


def test_verify_rejects_bfloat16_signatures(tmp_path):
    archive = keras.export.ExportArchive()
    archive.add_endpoint(
        "serving_default",
        lambda z: {"samples": z * 2},
        input_signature=[tf.TensorSpec([None, Z_DIM], tf.bfloat16, name="z")],
    )
    archive.write_out(str(tmp_path / "model"), verbose=False)
    with pytest.raises(ValueError, match="input 'z'.*Received: dtype='bfloat16'"):
        export.verify_saved_model(str(tmp_path / "model"))


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"value_range": (0, 255)}, r"Received: value_range=\(0, 255\)"),
        ({"value_range": (0, 1)}, r"output_activation='tanh'.*Received: value_range=\(0.0, 1.0\)"),
        ({"prior": "cauchy"}, "Received: prior='cauchy'"),
        ({"model_name": "a/b"}, "Received: model_name='a/b'"),
        ({"model_name": ".hidden"}, "Received: model_name='.hidden'"),
        ({"version": 0}, "Received: version=0"),
        ({"metadata": {"z_dim": 3}}, r"Received: keys=\['z_dim'\]"),
        ({"metadata": {"step": object}}, "must be JSON-serializable"),
    ],
)
def test_invalid_arguments_are_refused_before_writing(tmp_path, overrides, message):
    arguments = dict(
        export_base=str(tmp_path), model_name="tiny", prior="normal", value_range=(-1, 1)
    )
    arguments.update(overrides)
    with pytest.raises(ValueError, match=message):
        export.export_generator(TinyGenerator(Z_DIM, IMAGE_SHAPE, "tanh"), **arguments)
    assert os.listdir(tmp_path) == []


def test_image_generators_need_png_channels(tmp_path):
    with pytest.raises(ValueError, match=r"Received: data_shape=\(8, 8, 2\)"):
        export.export_generator(
            TinyGenerator(Z_DIM, (8, 8, 2), "tanh"), export_base=str(tmp_path),
            model_name="tiny", prior="normal", value_range=(-1, 1),
        )


def test_the_export_carries_warmup_requests_the_server_replays(image_export):
    from tfgan.serving.versions import LoadedVersion, read_warmup_requests

    _, _, path, loaded = image_export
    requests = read_warmup_requests(path)
    names = sorted(name for name, _ in requests)
    assert names == sorted(loaded.signatures)
    assert LoadedVersion("m", 1, path, warmup=False).warm_up() == len(requests)


def test_unconditional_signatures_take_no_labels(image_export):
    *_, loaded = image_export
    for name in ALL_IMAGE_SIGNATURES:
        assert "labels" not in loaded.signatures[name].structured_input_signature[1]
    assert "class_names" not in export.read_metadata(image_export[2])


CLASS_NAMES = ("zero", "one", "two")


@pytest.fixture(scope="module")
def conditional_export(tmp_path_factory):
    """A conditional sigmoid image generator with a projection discriminator, exported once."""
    from tfgan import models

    keras.utils.set_random_seed(1)
    generator = models.MLPGenerator(Z_DIM, IMAGE_SHAPE, hidden_units=(16,),
                                    num_classes=len(CLASS_NAMES))
    discriminator = models.ProjectionDiscriminator(
        models.MLPDiscriminator(IMAGE_SHAPE, hidden_units=(8,)), len(CLASS_NAMES))
    path = export.export_generator(
        generator, export_base=str(tmp_path_factory.mktemp("export")), model_name="digits",
        prior="normal", value_range=(0, 1), discriminator=discriminator,
        class_names=CLASS_NAMES)
    return generator, discriminator, path, tf.saved_model.load(path)


def test_conditional_signatures_take_one_label_per_sample(conditional_export):
    *_, path, loaded = conditional_export
    assert set(loaded.signatures) == ALL_IMAGE_SIGNATURES
    for name in ALL_IMAGE_SIGNATURES:
        spec = loaded.signatures[name].structured_input_signature[1]["labels"]
        assert (spec.dtype, spec.shape.as_list()) == (tf.int32, [None])
    assert export.read_metadata(path)["class_names"] == list(CLASS_NAMES)


def test_conditional_serving_default_is_the_generator_for_those_labels(conditional_export):
    generator, _, _, loaded = conditional_export
    z = np.random.default_rng(0).normal(size=(3, Z_DIM)).astype(np.float32)
    labels = np.array([2, 0, 2], np.int32)
    samples = call_signature(loaded, "serving_default", {"z": z, "labels": labels})["samples"]
    np.testing.assert_allclose(samples, generator([z, labels], training=False), rtol=1e-5)
    others = call_signature(loaded, "serving_default", {"z": z, "labels": (labels + 1) % 3})
    assert not np.allclose(others["samples"][1], samples[1])


def test_sample_takes_one_label_for_all_or_one_per_sample(conditional_export):
    generator, *_, loaded = conditional_export
    seeded = {"num_samples": np.int32(3), "seed": np.int64(5)}
    one = call_signature(loaded, "sample", {**seeded, "labels": np.array([1], np.int32)})
    each = call_signature(loaded, "sample", {**seeded, "labels": np.array([1, 1, 1], np.int32)})
    np.testing.assert_array_equal(one["samples"], each["samples"])
    in_memory = export.sample_from_seed(generator, 3, 5, prior="normal", value_range=(0, 1),
                                        labels=[1])
    np.testing.assert_allclose(one["samples"], in_memory["samples"], rtol=1e-5)
    seeds = call_signature(loaded, "sample_seeds", {"seeds": np.array([4, 4], np.int64),
                                                    "labels": np.array([0, 2], np.int32)})
    assert not np.allclose(seeds["samples"][0], seeds["samples"][1])


@pytest.mark.parametrize("name, inputs", [
    ("serving_default", {"z": np.zeros((2, Z_DIM), np.float32),
                         "labels": np.array([0, 3], np.int32)}),
    ("sample", {"num_samples": np.int32(2), "seed": np.int64(1),
                "labels": np.array([-1], np.int32)}),
    ("sample_seeds", {"seeds": np.array([1], np.int64), "labels": np.array([7], np.int32)}),
    ("sample_png", {"num_samples": np.int32(1), "seed": np.int64(1),
                    "labels": np.array([3], np.int32)}),
    ("discriminate", {"samples": np.zeros((1, *IMAGE_SHAPE), np.float32),
                      "labels": np.array([3], np.int32)}),
])
def test_a_label_outside_the_classes_is_refused_by_the_signature(conditional_export, name,
                                                                 inputs):
    *_, path, loaded = conditional_export
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"labels must be class indices"):
        call_signature(loaded, name, inputs)
    # The stock server's path: the v1 session loader refuses it too.
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"labels must be class indices"):
        run_in_session_loader(path, name, inputs)


def test_conditional_discriminate_judges_under_the_labels(conditional_export):
    _, discriminator, path, _ = conditional_export
    samples = np.random.default_rng(3).uniform(size=(2, *IMAGE_SHAPE)).astype(np.float32)
    labels = np.array([1, 2], np.int32)
    outputs = run_in_session_loader(path, "discriminate", {"samples": samples, "labels": labels})
    expected = discriminator([samples, labels], training=False).numpy()[:, 0]
    np.testing.assert_allclose(outputs["logits"], expected, rtol=1e-5, atol=1e-6)


def test_class_names_must_match_the_generators_classes(tmp_path, conditional_export):
    generator = conditional_export[0]
    with pytest.raises(ValueError, match=r"class_names must name the generator's 3 classes"):
        export.export_generator(generator, export_base=str(tmp_path), model_name="m",
                                prior="normal", value_range=(0, 1), class_names=("a", "b"))
    assert not os.listdir(tmp_path)
