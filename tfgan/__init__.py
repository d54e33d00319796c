"""tfgan: train GANs with TensorFlow 2 / Keras 3, export them for TF Serving, serve samples."""

__version__ = "0.1.0"
