import os
import subprocess
import sys

import numpy as np
import pytest

from tfgan.metrics.classifier import load_classifier

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _train_classifier(*args, cwd):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    script = os.path.join(ROOT, "scripts", "train_classifier.py")
    return subprocess.run([sys.executable, script, *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def _fake_mnist(path):
    rng = np.random.default_rng(0)
    np.savez(path,
             x_train=rng.integers(0, 256, (64, 28, 28), dtype=np.uint8),
             y_train=rng.integers(0, 10, 64, dtype=np.uint8),
             x_test=rng.integers(0, 256, (32, 28, 28), dtype=np.uint8),
             y_test=rng.integers(0, 10, 32, dtype=np.uint8))


def test_trains_reports_accuracy_and_writes_loadable_weights(tmp_path):
    _fake_mnist(tmp_path / "mnist.npz")
    result = _train_classifier("--mnist_path=mnist.npz", "--out=out/c.weights.h5", "--epochs=1",
                               cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "test accuracy: " in result.stdout and "on 32 images" in result.stdout
    assert "their classifier score: " in result.stdout
    classifier = load_classifier(str(tmp_path / "out" / "c.weights.h5"))
    assert tuple(classifier(np.zeros((1, 28, 28, 1))).shape) == (1, 10)


@pytest.mark.parametrize("flags, status, message", [
    (["--mnist_path=missing.npz"], 1, "'missing.npz' does not exist"),
    (["--mnist_path=missing.npz", "--epochs=0"], 2, "--epochs must be at least 1; got 0"),
    (["--mnist_path=missing.npz", "--dropout=1"], 2, "--dropout must be in [0, 1); got 1.0"),
])
def test_bad_input_exits_with_one_error_line(tmp_path, flags, status, message):
    result = _train_classifier(*flags, "--out=c.weights.h5", cwd=tmp_path)
    assert result.returncode == status, result.stderr[-3000:]
    error_lines = [l for l in result.stderr.splitlines() if l.startswith("error: ")]
    assert len(error_lines) == 1 and message in error_lines[0], result.stderr
    assert not (tmp_path / "c.weights.h5").exists()
