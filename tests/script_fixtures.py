"""Helpers for tests that run the checkout's scripts as a user would, on data they make."""

import os
import subprocess
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_script(script, *args, cwd=None):
    """Runs `scripts/<script>` with this Python; returns the `CompletedProcess` (text output)."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run([sys.executable, os.path.join(ROOT, "scripts", script), *args],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def write_random_mnist(path, num_train=64, num_test=32, seed=0):
    """Writes a Keras-layout `mnist.npz` of random uint8 digits `[n, 28, 28]` and labels."""
    rng = np.random.default_rng(seed)
    np.savez(path,
             x_train=rng.integers(0, 256, (num_train, 28, 28), dtype=np.uint8),
             y_train=rng.integers(0, 10, num_train, dtype=np.uint8),
             x_test=rng.integers(0, 256, (num_test, 28, 28), dtype=np.uint8),
             y_test=rng.integers(0, 10, num_test, dtype=np.uint8))
