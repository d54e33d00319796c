import keras
import pytest
import tensorflow as tf

from tfgan import flops
from tfgan.gan import GAN
from tfgan.models import MLPDiscriminator, MLPGenerator


def test_graph_flops_of_one_matmul_is_two_m_k_n():
    matmul = tf.function(lambda a, b: tf.matmul(a, b)).get_concrete_function(
        tf.TensorSpec((8, 32), tf.float32), tf.TensorSpec((32, 16), tf.float32))
    assert flops.graph_flops(matmul.graph) == 2 * 8 * 32 * 16


def test_train_step_flops_of_an_mlp_gan_are_its_matmuls_forward_and_backward():
    # Wide layers, so matmuls dominate: per real sample a step runs G forward twice and
    # backward once, D forward three times (real, fake, fake) and backward about three times;
    # a matmul's backward is two matmuls. 2 FLOPs per multiply-add, per weight.
    generator = MLPGenerator(z_dim=64, data_shape=(256,), hidden_units=(512,),
                             output_activation="linear")
    discriminator = MLPDiscriminator(data_shape=(256,), hidden_units=(512,))
    gan = GAN(generator, discriminator)
    gan.compile(keras.optimizers.SGD(), keras.optimizers.SGD())
    gan.build_all((256,))
    g_weights = 64 * 512 + 512 * 256
    d_weights = 256 * 512 + 512
    batch = 32
    matmuls = 2 * batch * (g_weights * (2 + 2) + d_weights * (3 + 2 * 3))
    assert flops.train_step_flops(gan, batch) == pytest.approx(matmuls, rel=0.15)
    assert flops.train_step_flops(gan, 2 * batch) == pytest.approx(
        2 * flops.train_step_flops(gan, batch), rel=0.05)
