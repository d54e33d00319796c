import keras
import numpy as np
import pytest

from tfgan.models.mlp import MLPDiscriminator, MLPGenerator

# The tutorials' networks: (generator kwargs, discriminator kwargs, feature_dim).
SEEDS = {
    "seed_002_mnist": (
        dict(z_dim=100, data_shape=(28, 28, 1), hidden_units=(512,)),
        dict(data_shape=(28, 28, 1), hidden_units=(256,)),
        256,
    ),
    "seed_003_mnist": (
        dict(z_dim=100, data_shape=(28, 28, 1), hidden_units=(128,)),
        dict(data_shape=(28, 28, 1), hidden_units=(128,)),
        128,
    ),
    "seed_000_toy": (
        dict(z_dim=2, data_shape=(2,), hidden_units=(16, 16), activation="leaky_relu",
             output_activation="linear"),
        dict(data_shape=(2,), hidden_units=(16, 16), activation="leaky_relu", feature_units=2),
        2,
    ),
}
BATCH = 3


@pytest.fixture
def mixed_bfloat16():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    yield
    keras.mixed_precision.set_global_policy("float32")


def _z(z_dim, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (BATCH, z_dim)).astype("float32")


def _x(data_shape, seed=1):
    return np.random.default_rng(seed).uniform(0, 1, (BATCH, *data_shape)).astype("float32")


def _shapes(model):
    return [tuple(w.shape) for w in model.weights]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("minibatch_kernels", [0, 4])
def test_shapes(seed, minibatch_kernels):
    g_kwargs, d_kwargs, feature_dim = SEEDS[seed]
    generator = MLPGenerator(**g_kwargs)
    samples = generator(_z(generator.z_dim))
    assert tuple(samples.shape) == (BATCH, *g_kwargs["data_shape"])
    discriminator = MLPDiscriminator(**d_kwargs, minibatch_kernels=minibatch_kernels)
    assert tuple(discriminator(samples).shape) == (BATCH, 1)
    assert tuple(discriminator.features(samples).shape) == (BATCH, feature_dim)


def test_seed_002_layers():
    generator = MLPGenerator(z_dim=100, data_shape=(28, 28, 1), hidden_units=(512,))
    generator(_z(100))
    assert _shapes(generator) == [(100, 512), (512,), (512, 784), (784,)]
    discriminator = MLPDiscriminator(data_shape=(28, 28, 1), hidden_units=(256,))
    discriminator(_x((28, 28, 1)))
    assert _shapes(discriminator) == [(784, 256), (256,), (256, 1), (1,)]


def test_seed_000_layers():
    g_kwargs, d_kwargs, _ = SEEDS["seed_000_toy"]
    generator = MLPGenerator(**g_kwargs)
    generator(_z(2))
    assert _shapes(generator) == [(2, 16), (16,), (16, 16), (16,), (16, 2), (2,)]
    discriminator = MLPDiscriminator(**d_kwargs)
    discriminator(_x((2,)))
    assert _shapes(discriminator) == [(2, 16), (16,), (16, 16), (16,), (16, 2), (2,), (2, 1), (1,)]


def test_minibatch_sits_between_features_and_logit():
    discriminator = MLPDiscriminator(data_shape=(2,), hidden_units=(16,), feature_units=2,
                                     minibatch_kernels=5, minibatch_kernel_dim=3)
    discriminator(_x((2,)))
    assert tuple(discriminator.minibatch.kernel.shape) == (2, 15)
    assert tuple(discriminator.logit_layer.kernel.shape) == (2 + 5, 1)


def test_glorot_kernels_and_zero_biases():
    generator = MLPGenerator(z_dim=100, data_shape=(28, 28, 1), hidden_units=(512,))
    generator(_z(100))
    kernel, bias, out_kernel, out_bias = (w.numpy() for w in generator.weights)
    # float32 sampling can land one ulp past the float64 bound.
    assert np.abs(kernel).max() <= np.sqrt(6 / (100 + 512)) * (1 + 1e-6)
    assert np.abs(out_kernel).max() <= np.sqrt(6 / (512 + 784)) * (1 + 1e-6)
    assert not bias.any() and not out_bias.any()


@pytest.mark.parametrize("output_activation, low, high", [("sigmoid", 0, 1), ("tanh", -1, 1)])
def test_output_range(output_activation, low, high):
    generator = MLPGenerator(z_dim=4, data_shape=(5,), output_activation=output_activation)
    samples = generator(100 * _z(4)).numpy()
    assert samples.min() >= low and samples.max() <= high
    assert samples.min() < (low + high) / 2 < samples.max()


def test_linear_output_is_affine_in_data_units():
    generator = MLPGenerator(z_dim=2, data_shape=(3,), hidden_units=(), output_activation="linear")
    kernel = np.array([[1.0, 2.0, 3.0], [-4.0, 5.0, 60.0]], "float32")
    bias = np.array([0.5, 0.0, -100.0], "float32")
    generator(_z(2))
    generator.set_weights([kernel, bias])
    z = np.array([[1.0, 1.0], [2.0, -1.0]], "float32")
    np.testing.assert_allclose(generator(z), z @ kernel + bias)


@pytest.mark.parametrize("activation, expected", [("relu", 0.0), ("leaky_relu", -1.0)])
def test_hidden_activation_slope(activation, expected):
    # One hidden unit with weight 1 on an input of -5: relu gives 0, leaky relu 0.2 * -5.
    discriminator = MLPDiscriminator(data_shape=(1,), hidden_units=(1,), activation=activation)
    discriminator(_x((1,)))
    discriminator.set_weights([np.ones((1, 1)), np.zeros(1), np.ones((1, 1)), np.zeros(1)])
    features = discriminator.features(np.array([[-5.0]], "float32"))
    np.testing.assert_allclose(features, [[expected]], rtol=1e-6)


@pytest.mark.parametrize("seed", SEEDS)
def test_float32_outputs_under_mixed_precision(seed, mixed_bfloat16):
    g_kwargs, d_kwargs, _ = SEEDS[seed]
    generator = MLPGenerator(**g_kwargs)
    discriminator = MLPDiscriminator(**d_kwargs, minibatch_kernels=3)
    samples = generator(_z(generator.z_dim))
    assert generator.to_data.compute_dtype == "bfloat16"
    assert samples.dtype == "float32"
    assert discriminator(samples).dtype == "float32"


@pytest.mark.parametrize("seed", SEEDS)
def test_config_round_trip(seed):
    g_kwargs, d_kwargs, _ = SEEDS[seed]
    for model, inputs in [
        (MLPGenerator(**g_kwargs), _z(g_kwargs["z_dim"])),
        (MLPDiscriminator(**d_kwargs, minibatch_kernels=2, minibatch_kernel_dim=4),
         _x(d_kwargs["data_shape"])),
    ]:
        config = model.get_config()
        clone = type(model).from_config(config)
        assert clone.get_config() == config
        model(inputs)
        clone(inputs)
        clone.set_weights(model.get_weights())
        np.testing.assert_allclose(clone(inputs), model(inputs))


def test_attributes_and_config_values():
    generator = MLPGenerator(z_dim=2, data_shape=[2], hidden_units=[16, 16],
                             activation="leaky_relu", output_activation="linear")
    assert generator.z_dim == 2 and generator.data_shape == (2,)
    assert generator.output_activation == "linear"
    assert {k: generator.get_config()[k] for k in ("z_dim", "data_shape", "hidden_units",
                                                    "activation", "output_activation")} == {
        "z_dim": 2, "data_shape": (2,), "hidden_units": (16, 16), "activation": "leaky_relu",
        "output_activation": "linear"}
    discriminator = MLPDiscriminator(data_shape=(2,), feature_units=2, minibatch_kernels=5)
    assert discriminator.data_shape == (2,)
    assert {k: discriminator.get_config()[k] for k in (
        "feature_units", "minibatch_kernels", "minibatch_kernel_dim")} == {
        "feature_units": 2, "minibatch_kernels": 5, "minibatch_kernel_dim": 3}


def test_saved_model_file_round_trip(tmp_path):
    _, d_kwargs, _ = SEEDS["seed_000_toy"]
    discriminator = MLPDiscriminator(**d_kwargs, minibatch_kernels=2)
    x = _x((2,))
    logits = discriminator(x)
    discriminator.save(tmp_path / "d.keras")
    restored = keras.saving.load_model(tmp_path / "d.keras")
    assert isinstance(restored, MLPDiscriminator)
    np.testing.assert_allclose(restored(x), logits)


@pytest.mark.parametrize("kwargs, message", [
    (dict(z_dim=0), "z_dim must be a positive integer. Received: z_dim=0"),
    (dict(hidden_units=(16, 0)),
     r"hidden_units must be a sequence of positive integers. Received: hidden_units=\(16, 0\)"),
    (dict(activation="tanh"),
     r"activation must be one of \('relu', 'leaky_relu'\). Received: activation='tanh'"),
    (dict(output_activation="softmax"), r"output_activation must be one of \('sigmoid', 'tanh', "
                                        r"'linear'\). Received: output_activation='softmax'"),
    (dict(data_shape=()),
     r"data_shape must be a non-empty sequence of positive integers. Received: data_shape=\(\)"),
])
def test_generator_rejects(kwargs, message):
    with pytest.raises(ValueError, match=f"^{message}$"):
        MLPGenerator(**{"z_dim": 2, "data_shape": (2,), **kwargs})


@pytest.mark.parametrize("kwargs, message", [
    (dict(feature_units=0), "Received: feature_units=0"),
    (dict(minibatch_kernels=-1), "Received: minibatch_kernels=-1"),
    (dict(minibatch_kernels=2, minibatch_kernel_dim=0), "Received: minibatch_kernel_dim=0"),
    (dict(activation="sigmoid"), "Received: activation='sigmoid'"),
    (dict(data_shape=(2, -1)), r"Received: data_shape=\(2, -1\)"),
    (dict(spectral_norm=1), "Received: spectral_norm=1"),
])
def test_discriminator_rejects(kwargs, message):
    with pytest.raises(ValueError, match=f"{message}$"):
        MLPDiscriminator(**{"data_shape": (2,), **kwargs})
