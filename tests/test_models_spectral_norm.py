import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgan.models import DCGANDiscriminator, MLPDiscriminator
from tfgan.models.spectral_norm import SpectralNorm

RNG = np.random.default_rng(0)


def _top_singular_value(kernel):
    kernel = np.asarray(kernel)
    return np.linalg.svd(kernel.reshape(-1, kernel.shape[-1]), compute_uv=False)[0]


def _wrapped(layer, input_shape, scale=5.0, power_iterations=1):
    """A built `SpectralNorm(layer)` whose kernel is random normal times `scale`."""
    wrapper = SpectralNorm(layer, power_iterations=power_iterations)
    wrapper.build(input_shape)
    kernel = layer.kernel
    kernel.assign(scale * RNG.normal(size=kernel.shape).astype("float32"))
    return wrapper


LAYERS = {
    "dense": (lambda: keras.layers.Dense(6), (None, 4), (3, 4)),
    "conv2d": (lambda: keras.layers.Conv2D(5, 3, padding="same"), (None, 6, 6, 2), (2, 6, 6, 2)),
}


@pytest.mark.parametrize("kind", LAYERS)
def test_largest_singular_value_is_one_after_power_iterations(kind):
    make, input_shape, x_shape = LAYERS[kind]
    wrapper = _wrapped(make(), input_shape)
    x = RNG.normal(size=x_shape).astype("float32")
    assert _top_singular_value(wrapper.layer.kernel) > 5
    for _ in range(30):  # one iteration per training call, as in training
        wrapper(x, training=True)
    np.testing.assert_allclose(_top_singular_value(wrapper.normalized_kernel()), 1.0, rtol=1e-3)


def test_more_power_iterations_per_call_converge_in_fewer_calls():
    x = RNG.normal(size=(3, 4)).astype("float32")
    wrapper = _wrapped(keras.layers.Dense(6), (None, 4), power_iterations=30)
    wrapper(x, training=True)
    np.testing.assert_allclose(_top_singular_value(wrapper.normalized_kernel()), 1.0, rtol=1e-3)


@pytest.mark.parametrize("kind", LAYERS)
def test_output_is_the_layer_with_its_normalized_kernel(kind):
    make, input_shape, x_shape = LAYERS[kind]
    wrapper = _wrapped(make(), input_shape)
    x = RNG.normal(size=x_shape).astype("float32")
    raw_kernel = wrapper.layer.kernel.numpy()
    # The same layer with W / sigma written into its kernel gives the same output.
    reference = make()
    reference.build(input_shape)
    reference.set_weights([wrapper.normalized_kernel().numpy(), wrapper.layer.bias.numpy()])
    np.testing.assert_allclose(wrapper(x), reference(x), rtol=1e-5, atol=1e-6)
    # Training calls leave W in the kernel variable: the optimizer's weights are never
    # rewritten under it.
    wrapper(x, training=True)
    np.testing.assert_array_equal(wrapper.layer.kernel.numpy(), raw_kernel)


def test_gradient_flows_through_sigma_as_through_the_exact_spectral_norm():
    x = RNG.normal(size=(3, 4)).astype("float32")
    wrapper = _wrapped(keras.layers.Dense(6, use_bias=False), (None, 4))
    wrapper(x, training=True)
    wrapper.power_iterations = 50  # u converged: sigma is the exact top singular value
    weights = RNG.normal(size=(3, 6)).astype("float32")
    kernel = wrapper.layer.kernel
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(weights * wrapper(x, training=True))
    grad = tape.gradient(loss, kernel)
    with tf.GradientTape() as tape:
        exact = kernel / tf.linalg.svd(kernel, compute_uv=False)[0]
        expected_loss = tf.reduce_sum(weights * tf.matmul(x, exact))
    np.testing.assert_allclose(loss, expected_loss, rtol=1e-5)
    np.testing.assert_allclose(grad, tape.gradient(expected_loss, kernel), rtol=1e-3, atol=1e-5)


def test_only_training_calls_store_the_power_iteration_vector():
    x = RNG.normal(size=(3, 4)).astype("float32")
    wrapper = _wrapped(keras.layers.Dense(6), (None, 4))
    u = wrapper.vector_u.numpy()
    inference = wrapper(x)
    np.testing.assert_array_equal(wrapper.vector_u.numpy(), u)
    # The same iteration from the same u: training and inference use the same weights.
    np.testing.assert_allclose(wrapper(x, training=True), inference, rtol=1e-6)
    assert not np.allclose(wrapper.vector_u.numpy(), u)


def _output_and_kernel_gradient(wrapper, x):
    with tf.GradientTape() as tape:
        out = wrapper(x, training=True)
        loss = tf.reduce_sum(tf.square(out))
    return out, tape.gradient(loss, wrapper.layer.kernel)


def test_xla_compiled_training_step_matches_eager():
    x = RNG.normal(size=(3, 4)).astype("float32")
    eager = _wrapped(keras.layers.Dense(6), (None, 4))
    compiled = SpectralNorm(keras.layers.Dense(6))
    compiled.build((None, 4))
    compiled.set_weights(eager.get_weights())
    step = tf.function(lambda x: _output_and_kernel_gradient(compiled, x), jit_compile=True)
    for _ in range(3):
        for a, b in zip(step(x), _output_and_kernel_gradient(eager, x)):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(compiled.vector_u.numpy(), eager.vector_u.numpy(), rtol=1e-5)


def test_config_round_trip():
    wrapper = SpectralNorm(keras.layers.Conv2D(4, 3), power_iterations=2, name="sn")
    revived = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(wrapper))
    assert isinstance(revived, SpectralNorm) and isinstance(revived.layer, keras.layers.Conv2D)
    assert revived.get_config() == wrapper.get_config()
    assert revived.power_iterations == 2


@pytest.mark.parametrize("layer, power_iterations, message", [
    (keras.layers.Dense(2), 0, r"Received: power_iterations=0$"),
    (keras.layers.Flatten(), 1, r"Received: layer=Flatten$"),
])
def test_invalid_arguments_raise(layer, power_iterations, message):
    with pytest.raises(ValueError, match=message):
        SpectralNorm(layer, power_iterations=power_iterations).build((None, 3))


DISCRIMINATORS = {
    "mlp": (lambda **kw: MLPDiscriminator((2,), hidden_units=(8, 8), feature_units=2, **kw),
            (4, 2), 4),
    "dcgan": (lambda **kw: DCGANDiscriminator((28, 28, 1), width=0.125, **kw), (2, 28, 28, 1),
              3),
}


@pytest.mark.parametrize("name", DISCRIMINATORS)
def test_discriminator_normalizes_every_kernel_and_round_trips(name, tmp_path):
    make, x_shape, num_kernels = DISCRIMINATORS[name]
    discriminator = make(spectral_norm=True)
    x = RNG.normal(size=x_shape).astype("float32")
    for _ in range(3):
        discriminator(x, training=True)  # the power iterations move every u
    logits = discriminator(x)
    assert len(discriminator.non_trainable_weights) == num_kernels  # one u per kernel

    # Config: the same network, and with the weights copied the same logits.
    clone = type(discriminator).from_config(discriminator.get_config())
    assert clone.get_config() == discriminator.get_config() and clone.spectral_norm
    clone(x)
    clone.set_weights(discriminator.get_weights())
    np.testing.assert_allclose(clone(x), logits, rtol=1e-5)

    # Checkpoint: every u is saved and restored (the MLP's hidden layers sit in a list).
    path = tf.train.Checkpoint(d=discriminator).save(str(tmp_path / "ckpt"))
    restored = make(spectral_norm=True)
    restored(x)
    tf.train.Checkpoint(d=restored).restore(path).assert_consumed()
    for a, b in zip(discriminator.weights, restored.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_allclose(restored(x), logits, rtol=1e-6)

    # Keras's own file format keeps them too.
    discriminator.save(tmp_path / "d.keras")
    np.testing.assert_array_equal(keras.saving.load_model(tmp_path / "d.keras")(x), logits)


@pytest.mark.parametrize("name", DISCRIMINATORS)
def test_power_iteration_stays_float32_under_mixed_precision(name):
    make, x_shape, _ = DISCRIMINATORS[name]
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        discriminator = make(spectral_norm=True)
        logits = discriminator(RNG.normal(size=x_shape).astype("float32"), training=True)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert logits.dtype == "float32"
    assert {w.dtype for w in discriminator.non_trainable_weights} == {"float32"}


def test_a_callers_stateless_scope_reaches_every_wrapped_weight():
    # Values a caller substitutes (as the unrolled GAN does) replace the kernel before its
    # normalisation and the bias as it is; the variables keep theirs.
    x = RNG.normal(size=(3, 4)).astype("float32")
    wrapper = _wrapped(keras.layers.Dense(6), (None, 4))
    kernel = RNG.normal(size=(4, 6)).astype("float32")
    bias = RNG.normal(size=(6,)).astype("float32")
    reference = _wrapped(keras.layers.Dense(6), (None, 4))
    reference.set_weights([wrapper.vector_u.numpy(), kernel, bias])
    with keras.StatelessScope([(wrapper.layer.kernel, kernel), (wrapper.layer.bias, bias)]):
        substituted = wrapper(x)
    np.testing.assert_allclose(substituted, reference(x), rtol=1e-5, atol=1e-6)
    assert not np.allclose(wrapper(x), substituted)
