"""Spectral normalization of a layer's kernel (Miyato et al. 2018).

Keras ships `keras.layers.SpectralNormalization`, but it does not fit a GAN's discriminator:
on every training call it overwrites the layer's trainable kernel with `W / sigma`, so the
optimizer's moments describe weights that keep being rescaled under them, no gradient flows
through `sigma` (the paper differentiates `W / sigma(W)`), and a discriminator called three
times in one step (real data, generated data, a gradient penalty) rescales its weights three
times inside one gradient tape. `SpectralNorm` reparameterises instead: the kernel variable
keeps `W`, and the wrapped layer computes with `W / sigma(W)`.
"""

import keras
from keras import ops

from tfgan.models.argument_validation import check_positive_int

# Keeps W / sigma finite for an all-zero kernel (whose normalised kernel is then zero).
_SIGMA_FLOOR = 1e-12
_NORMALIZE_EPSILON = 1e-12


def _l2_normalize(vector):
    return vector * ops.rsqrt(ops.maximum(ops.sum(ops.square(vector)), _NORMALIZE_EPSILON))


@keras.saving.register_keras_serializable(package="tfgan")
class SpectralNorm(keras.layers.Wrapper):
    """Runs a layer with its kernel divided by the kernel's largest singular value.

    Miyato et al. 2018, "Spectral Normalization for Generative Adversarial Networks",
    https://arxiv.org/abs/1802.05957, Algorithm 1. With the kernel reshaped to a matrix
    `W` of shape `[fan_in, units]` (a convolution's `[kh * kw * c_in, c_out]`), a persistent
    vector `u` (`[units]`) estimates W's top right-singular vector by power iteration:

        v = W u / ||W u||,   u = W^T v / ||W^T v||   (power_iterations times)
        sigma = v^T W u,     the layer computes with W_SN = W / sigma

    `u` and `v` are constants for the gradient, which flows through `sigma` into `W` as in the
    paper. `u` is stored only on training calls (`training=True`); other calls run the same
    iterations from the stored `u` without storing it, so inference gives the weights that
    training last saw. One iteration per training call suffices because `W` moves little
    between calls. The power iteration runs in float32 under mixed precision too; the wrapped
    layer computes in its own dtype.

    Args:
        layer: `keras.layers.Layer` with a `kernel` whose last axis is the output units
            (`Dense`, `Conv1D`/`Conv2D`/`Conv3D`); it must not change its own variables when
            called.
        power_iterations: int > 0, power iterations per call. Defaults to `1`.
        **kwargs: base `keras.layers.Wrapper` arguments (`name`, `dtype`, ...).

    Input shape:
        The wrapped layer's.

    Output shape:
        The wrapped layer's.

    Raises:
        ValueError: `power_iterations` is not a positive int, or (when built) the layer has
            no `kernel`.

    Example:

    >>> dense = SpectralNorm(keras.layers.Dense(16))
    >>> dense(np.zeros((4, 8), "float32"), training=True).shape
    TensorShape([4, 16])
    """

    def __init__(self, layer, power_iterations=1, **kwargs):
        # The power iteration reads the kernel in float32; the wrapped layer autocasts itself.
        kwargs.setdefault("autocast", False)
        super().__init__(layer, **kwargs)
        self.power_iterations = check_positive_int("power_iterations", power_iterations)

    def build(self, input_shape=None):
        if not self.layer.built:
            self.layer.build(input_shape)
        if getattr(self.layer, "kernel", None) is None:
            raise ValueError(
                "SpectralNorm wraps a layer with a kernel (Dense, Conv). "
                f"Received: layer={self.layer.__class__.__name__}")
        self.vector_u = self.add_weight(
            name="vector_u",
            shape=(self.layer.kernel.shape[-1],),
            initializer=keras.initializers.RandomNormal(),
            trainable=False,
            autocast=False,
            # Every replica computes the same u from the same mirrored kernel.
            aggregation="only_first_replica",
        )
        self.built = True

    def normalized_kernel(self, training=False):
        """Returns `W / sigma(W)` in the kernel's shape, storing `u` if `training`.

        Args:
            training: bool, store the iterated `u`. Defaults to `False`.

        Returns:
            float32 tensor of the kernel's shape.
        """
        kernel = ops.convert_to_tensor(self.layer.kernel)
        matrix = ops.reshape(kernel, (-1, kernel.shape[-1]))
        u = ops.convert_to_tensor(self.vector_u)
        for _ in range(self.power_iterations):
            v = _l2_normalize(ops.matmul(matrix, u))
            u = _l2_normalize(ops.matmul(ops.transpose(matrix), v))
        u = ops.stop_gradient(u)
        v = ops.stop_gradient(v)
        if training:
            self.vector_u.assign(u)
        sigma = ops.sum(v * ops.matmul(matrix, u))
        return kernel / ops.maximum(sigma, _SIGMA_FLOOR)

    def call(self, inputs, training=None):
        normalized = self.normalized_kernel(training=bool(training))
        # The wrapped layer reads `normalized` wherever it reads its kernel. Its other weights
        # keep the values read here, which are a caller's own stateless scope's if there is
        # one (a scope does not fall back to the scope it is opened in).
        mapping = [(self.layer.kernel, normalized)] + [
            (weight, ops.convert_to_tensor(weight))
            for weight in self.layer.weights if weight is not self.layer.kernel]
        with keras.StatelessScope(state_mapping=mapping):
            return self.layer(inputs)

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"power_iterations": self.power_iterations})
        return config


def maybe_spectral_norm(layer, enabled):
    """Returns `SpectralNorm(layer)` if `enabled`, else `layer` itself."""
    return SpectralNorm(layer) if enabled else layer
