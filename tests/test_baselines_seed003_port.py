"""scripts/baselines/seed003_port.py: the straight port of seed 003 trains and saves samples."""

import os
import subprocess
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "scripts", "baselines", "seed003_port.py")


def _port(*args, cwd):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run([sys.executable, SCRIPT, *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def _fake_mnist(path):
    rng = np.random.default_rng(0)
    np.savez(path,
             x_train=rng.integers(0, 256, (100, 28, 28), dtype=np.uint8),
             y_train=rng.integers(0, 10, 100, dtype=np.uint8),
             x_test=rng.integers(0, 256, (10, 28, 28), dtype=np.uint8),
             y_test=rng.integers(0, 10, 10, dtype=np.uint8))


def test_trains_and_writes_seeded_samples_in_unit_range(tmp_path):
    _fake_mnist(tmp_path / "mnist.npz")
    runs = []
    for out in ("a", "b"):
        result = _port("--mnist_path=mnist.npz", f"--out={out}", "--steps=3",
                       "--num_samples=20", cwd=tmp_path)
        assert result.returncode == 0, result.stderr[-3000:]
        runs.append(np.load(tmp_path / out / "samples.npy"))
    assert "step 3/3" in result.stdout
    samples = runs[0]
    assert samples.shape == (20, 28, 28, 1) and samples.dtype == np.float32
    assert samples.min() >= 0.0 and samples.max() <= 1.0
    assert samples.std() > 0  # different z, different images
    np.testing.assert_array_equal(runs[0], runs[1])  # same --seed, same samples
    assert (tmp_path / "a" / "samples.png").stat().st_size > 0


def test_missing_data_is_one_error_line_and_writes_nothing(tmp_path):
    result = _port("--mnist_path=missing.npz", "--out=out", "--steps=3", cwd=tmp_path)
    assert result.returncode == 1
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(error_lines) == 1 and "missing.npz" in error_lines[0], result.stderr
    assert not (tmp_path / "out").exists()
