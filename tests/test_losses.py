import numpy as np
import pytest
import tensorflow as tf

from tfgan import losses

# One fixed set of logits; golden values below are computed by hand or with the naive
# probability formulas in numpy.
REAL = np.array([[1.5], [-0.5], [0.0], [2.0]], np.float32)
GEN = np.array([[-1.0], [0.5], [3.0], [-2.0]], np.float32)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x.astype(np.float64)))


def _check(value, expected):
    assert value.shape == () and value.dtype == tf.float32
    np.testing.assert_allclose(value.numpy(), expected, rtol=1e-6, atol=1e-6)


class TestMinimax:
    def test_discriminator_loss(self):
        expected = -np.mean(np.log(_sigmoid(REAL))) - np.mean(np.log(1.0 - _sigmoid(GEN)))
        _check(losses.minimax_discriminator_loss(REAL, GEN), expected)

    def test_generator_loss_is_saturating(self):
        expected = np.mean(np.log(1.0 - _sigmoid(GEN)))
        _check(losses.minimax_generator_loss(GEN), expected)


class TestAuxiliaryClassifier:
    # Class logits of 3 samples over 3 classes, and the classes they were made for.
    LABELS = np.array([0, 2, 1])
    REAL_CLASSES = np.array([[2.0, 0.0, -1.0], [0.5, 0.5, 0.5], [-1.0, 3.0, 0.0]], np.float32)
    GEN_CLASSES = np.array([[0.0, 1.0, 0.0], [1.0, -2.0, 2.0], [0.0, 0.0, 4.0]], np.float32)

    @staticmethod
    def _cross_entropy(logits, labels):
        logits = logits.astype(np.float64)
        probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        return -np.mean(np.log(probabilities[np.arange(len(labels)), labels]))

    def test_generator_loss_is_the_cross_entropy_of_the_requested_class(self):
        _check(losses.auxiliary_classifier_generator_loss(self.LABELS, self.GEN_CLASSES),
               self._cross_entropy(self.GEN_CLASSES, self.LABELS))

    def test_discriminator_loss_classifies_real_and_generated_alike(self):
        expected = (self._cross_entropy(self.REAL_CLASSES, self.LABELS)
                    + self._cross_entropy(self.GEN_CLASSES, self.LABELS))
        _check(losses.auxiliary_classifier_discriminator_loss(
            self.LABELS, self.REAL_CLASSES, self.GEN_CLASSES), expected)


class TestModeSeeking:
    # Two pairs of 3-element samples and the 2-D latents they were made from: row i of the
    # first half pairs with row i of the second.
    GENERATED = np.array([[0.0, 1.0, 2.0], [1.0, 1.0, 1.0],
                          [0.5, 1.0, 0.0], [1.0, -1.0, 1.0]], np.float32)
    Z = np.array([[0.0, 0.0], [1.0, 2.0], [1.0, -1.0], [0.0, 0.0]], np.float32)

    def test_loss_is_one_over_the_sample_to_latent_distance_ratio(self):
        # |G_a - G_b| = 0.5, 0, 2, 0, 2, 0 (mean 0.75); |z_a - z_b| = 1, 1, 1, 2 (mean 1.25).
        _check(losses.mode_seeking_loss(self.GENERATED, self.Z), 1.0 / (0.75 / 1.25 + 1e-5))

    def test_collapsed_samples_cost_one_over_epsilon(self):
        collapsed = np.ones((4, 3), np.float32)
        _check(losses.mode_seeking_loss(collapsed, self.Z, epsilon=1e-3), 1e3)


class TestNonSaturating:
    def test_discriminator_loss_is_the_minimax_one(self):
        assert losses.non_saturating_discriminator_loss is losses.minimax_discriminator_loss

    def test_generator_loss(self):
        expected = -np.mean(np.log(_sigmoid(GEN)))
        _check(losses.non_saturating_generator_loss(GEN), expected)


class TestLeastSquares:
    def test_discriminator_loss(self):
        # 1/2 mean([0.25, 2.25, 1, 1]) + 1/2 mean([1, 0.25, 9, 4])
        _check(losses.least_squares_discriminator_loss(REAL, GEN), 0.5625 + 1.78125)

    def test_generator_loss(self):
        # 1/2 mean([4, 0.25, 4, 9])
        _check(losses.least_squares_generator_loss(GEN), 2.15625)


class TestWasserstein:
    def test_discriminator_loss(self):
        # mean(GEN) - mean(REAL) = 0.125 - 0.75
        _check(losses.wasserstein_discriminator_loss(REAL, GEN), -0.625)

    def test_generator_loss(self):
        _check(losses.wasserstein_generator_loss(GEN), -0.125)


class TestHinge:
    def test_discriminator_loss(self):
        # mean(relu(1 - REAL)) + mean(relu(1 + GEN)) = mean([0, 1.5, 1, 0]) + mean([0, 1.5, 4, 0])
        _check(losses.hinge_discriminator_loss(REAL, GEN), 0.625 + 1.375)

    def test_generator_loss(self):
        _check(losses.hinge_generator_loss(GEN), -0.125)


class TestRelativisticPairing:
    def test_discriminator_loss(self):
        # -log sigmoid(l_real - l_gen), pair by pair: differences [2.5, -1, -3, 4].
        expected = -np.mean(np.log(_sigmoid(REAL - GEN)))
        _check(losses.relativistic_pairing_discriminator_loss(REAL, GEN), expected)

    def test_generator_loss(self):
        expected = -np.mean(np.log(_sigmoid(GEN - REAL)))
        _check(losses.relativistic_pairing_generator_loss(REAL, GEN), expected)

    def test_equal_logits_cost_log_two_whatever_their_value(self):
        # sigmoid(0) = 1/2 in every pair: only the difference counts, not the logits' level.
        logits = np.array([[-3.0], [0.0], [7.0]], np.float32)
        _check(losses.relativistic_pairing_discriminator_loss(logits, logits), np.log(2.0))
        _check(losses.relativistic_pairing_generator_loss(logits, logits), np.log(2.0))

    def test_pairs_are_taken_in_order(self):
        # One pair 10 apart and one -10 apart: softplus(-10) + softplus(10) over 2, not the
        # log 2 that comparing the means (both 0) would give.
        real = np.array([[10.0], [-10.0]], np.float32)
        gen = np.zeros((2, 1), np.float32)
        expected = (np.log1p(np.exp(-10.0)) + np.log1p(np.exp(10.0))) / 2
        _check(losses.relativistic_pairing_discriminator_loss(real, gen), expected)

    def test_family_needs_the_real_logits_in_the_generator_loss(self):
        pair = losses.get_losses("relativistic_pairing")
        assert pair.generator_needs_real
        assert not losses.get_losses("hinge").generator_needs_real


def _generator_loss(pair, real, gen):
    if pair.generator_needs_real:
        return pair.generator_loss(real, gen)
    return pair.generator_loss(gen)


@pytest.mark.parametrize("name", losses.LOSSES)
def test_extreme_logits_give_finite_values_and_gradients(name):
    pair = losses.get_losses(name)
    real = tf.constant([[-1e4], [-100.0], [100.0], [1e4]])
    gen = tf.constant([[1e4], [100.0], [-100.0], [-1e4]])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([real, gen])
        d_loss = pair.discriminator_loss(real, gen)
        g_loss = _generator_loss(pair, real, gen)
    for value in (d_loss, g_loss, *tape.gradient(d_loss, [real, gen]), tape.gradient(g_loss, gen)):
        assert np.all(np.isfinite(value.numpy()))


def test_cross_entropy_losses_keep_their_size_where_log_sigmoid_underflows():
    # log(sigmoid(-200)) is -inf in float32; softplus gives the exact 200.
    logits = tf.constant([[-200.0]])
    np.testing.assert_allclose(losses.non_saturating_generator_loss(logits).numpy(), 200.0)
    np.testing.assert_allclose(losses.minimax_generator_loss(-logits).numpy(), -200.0)
    np.testing.assert_allclose(
        losses.minimax_discriminator_loss(logits, -logits).numpy(), 400.0
    )


def test_get_losses_returns_the_family_pair():
    pair = losses.get_losses("least_squares")
    assert isinstance(pair, losses.GANLoss)
    assert pair.generator_loss is losses.least_squares_generator_loss
    assert pair.discriminator_loss is losses.least_squares_discriminator_loss
    assert not pair.generator_needs_real
    assert losses.LOSSES == ("minimax", "non_saturating", "least_squares", "wasserstein", "hinge",
                             "relativistic_pairing")


def test_get_losses_rejects_unknown_name():
    with pytest.raises(ValueError, match=r"Received: loss='vanilla'$"):
        losses.get_losses("vanilla")
