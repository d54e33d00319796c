"""scripts/baselines/seed003_port.py: the straight port of seed 003 trains and saves samples."""

import numpy as np

from script_fixtures import run_script, write_random_mnist


def _port(*args, cwd):
    return run_script("baselines/seed003_port.py", *args, cwd=cwd)


def test_trains_and_writes_seeded_samples_in_unit_range(tmp_path):
    write_random_mnist(tmp_path / "mnist.npz", num_train=100, num_test=10)
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
    assert result.returncode == 2
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(error_lines) == 1 and "missing.npz" in error_lines[0], result.stderr
    assert not (tmp_path / "out").exists()
