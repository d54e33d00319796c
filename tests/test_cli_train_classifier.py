import numpy as np
import pytest

from script_fixtures import run_script, write_random_mnist
from tfgan.cli import train_classifier
from tfgan.metrics.classifier import load_classifier



def _train_classifier(*args, cwd):
    return run_script("train_classifier.py", *args, cwd=cwd)


def test_trains_reports_accuracy_and_writes_loadable_weights(tmp_path):
    write_random_mnist(tmp_path / "mnist.npz")
    result = _train_classifier("--mnist_path=mnist.npz", "--out=out/c.weights.h5", "--epochs=1",
                               cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "test accuracy: " in result.stdout and "on 32 images" in result.stdout
    assert "their classifier score: " in result.stdout
    classifier = load_classifier(str(tmp_path / "out" / "c.weights.h5"))
    assert tuple(classifier(np.zeros((1, 28, 28, 1))).shape) == (1, 10)


@pytest.mark.parametrize("flags, status, message", [
    (["--mnist_path=missing.npz"], 2, "--mnist_path=missing.npz: no such file or directory"),
    (["--mnist_path=missing.npz", "--epochs=0"], 2, "--epochs must be at least 1; got 0"),
    (["--mnist_path=missing.npz", "--dropout=1"], 2, "--dropout must be in [0, 1); got 1.0"),
])
def test_bad_input_exits_with_one_error_line(tmp_path, monkeypatch, capsys, flags, status,
                                             message):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as caught:
        train_classifier.run(["tfgan-train-classifier", *flags, "--out=c.weights.h5"])
    assert caught.value.code == status
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and message in err, err
    assert not (tmp_path / "c.weights.h5").exists()
