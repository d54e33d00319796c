"""tfgan.cli.evaluate: the same report from a checkpoint, its export and its server; errors."""

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from serving_fixtures import free_port
from tfgan.cli import evaluate
from tfgan.data import sample_toy
from tfgan.metrics import evaluate_samples
from tfgan.sample_sources import CheckpointSource, RealSource
from trained_fixtures import serve, trained

SUBSET_PATH = Path(__file__).parent / "data" / "mnist_test_subset.npz"


@pytest.fixture(scope="module", params=["gaussian_1d", "mnist"])
def served(request, tmp_path_factory):
    """A tiny trained run and the REST URL of a server serving its export, 64 samples per
    request at most (the reports ask for 200: the server's samples come in 4 requests)."""
    run = trained(tmp_path_factory, request.param)
    with serve(run, max_samples_per_request=64) as server:
        yield run, server.rest_url


def run_evaluate(*args):
    with pytest.raises(SystemExit) as caught:
        evaluate.run(["tfgan-evaluate", *args])
    return caught.value.code


def _source_flags(run, url, samples_path):
    data = [f"--mnist_path={run.config.mnist_path}"] if run.config.mnist_path else []
    return {
        "checkpoint": [f"--workdir={run.workdir}"],  # a run knows where its MNIST is
        "saved_model": [f"--saved_model={run.model_dir}", *data],
        "server": [f"--server={url}", f"--model_name={run.config.model_name}",
                   f"--dataset={run.config.dataset}", *data],
        "array": [f"--samples={samples_path}", f"--dataset={run.config.dataset}", *data],
    }


def test_every_source_gives_the_same_report(served, tmp_path, capsys):
    run, url = served
    # Another program's samples: more than are evaluated, so only the first 200 count.
    samples_path = tmp_path / "samples.npy"
    np.save(samples_path, CheckpointSource(run.workdir).sample(300, 3))
    reports = {}
    for name, flags in _source_flags(run, url, samples_path).items():
        out = tmp_path / name
        assert run_evaluate(*flags, "--num_samples=200", "--seed=3", f"--out={out}") in (None, 0)
        reports[name] = json.loads((out / "report.json").read_text())
        for plot in reports[name]["plots"]:
            with Image.open(out / plot) as image:
                assert image.format == "PNG" and np.asarray(image).std() > 0
    expected_metrics = {
        "gaussian_1d": ["mean_error", "std_error"],
        "mnist": ["classifier_score", "frechet_distance", "kernel_distance", "precision",
                  "recall", "class_kl"],
    }[run.config.dataset]
    for name, report in reports.items():
        assert report["source"]["type"] == name
        assert list(report["metrics"]) == expected_metrics
        assert report["metrics"] == pytest.approx(reports["checkpoint"]["metrics"],
                                                  rel=1e-4, abs=1e-6), name
        assert (report["dataset"], report["num_samples"]) == (run.config.dataset, 200)
        assert report["seed"] == (None if name == "array" else 3), name
    assert reports["checkpoint"]["step"] == reports["saved_model"]["step"] == 3
    assert reports["server"]["step"] is None and reports["array"]["step"] is None
    assert reports["array"]["source"]["path"] == str(samples_path)
    images = run.config.dataset == "mnist"
    assert reports["checkpoint"]["kind"] == ("image" if images else "points")
    assert reports["checkpoint"]["plots"] == (
        ["samples.png", "class_histogram.png", "missed.png"] if images else ["samples.png"])
    # The console shows every metric in one table.
    out = capsys.readouterr().out
    assert "metric" in out and all(name in out for name in expected_metrics)


def test_another_seed_gives_other_numbers(tmp_path_factory, tmp_path):
    run = trained(tmp_path_factory, "gaussian_1d")
    for seed in (3, 4):
        run_evaluate(f"--workdir={run.workdir}", "--num_samples=200", f"--seed={seed}",
                     f"--out={tmp_path / str(seed)}")
    first, second = (json.loads((tmp_path / s / "report.json").read_text())["metrics"]
                     for s in ("3", "4"))
    assert first != second


def test_truncation_measures_the_truncated_samples(tmp_path_factory, tmp_path):
    run = trained(tmp_path_factory, "gaussian_1d")
    reports = {}
    for psi in ("1", "0.2"):
        run_evaluate(f"--saved_model={run.model_dir}", "--num_samples=400", "--seed=3",
                     f"--truncation={psi}", f"--out={tmp_path / psi}")
        reports[psi] = json.loads((tmp_path / psi / "report.json").read_text())
    assert reports["0.2"]["truncation"] == 0.2
    # The prior cut to its central 20 % of mass: the same seed, other samples, other numbers.
    assert reports["0.2"]["metrics"] != reports["1"]["metrics"]


def test_the_table_lists_the_metrics(tmp_path_factory, capsys):
    run = trained(tmp_path_factory, "gaussian_1d")
    assert run_evaluate(f"--workdir={run.workdir}", "--num_samples=100") in (None, 0)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "gaussian_1d (checkpoint, step 3): 100 samples, seed 0"
    assert lines[1].split() == ["metric", "value"]
    assert [line.split()[0] for line in lines[2:]] == ["mean_error", "std_error"]


@pytest.mark.parametrize("args, message", [
    ([], "error: pass exactly one of --workdir, --saved_model, --server, --samples, --real"),
    (["--workdir=a", "--saved_model=b"],
     "error: pass exactly one of --workdir, --saved_model, --server, --samples, --real; got "
     "--workdir, --saved_model"),
    (["--samples=a.npy", "--server=http://127.0.0.1:1"],
     "error: pass exactly one of --workdir, --saved_model, --server, --samples, --real; got "
     "--server, --samples"),
    (["--samples=a.npy"], "error: the array a.npy does not record its data set: pass it."),
    (["--samples=no_such.npy", "--dataset=ring"], "error: no_such.npy does not exist"),
    (["--server=http://127.0.0.1:1"], "error: --server needs --model_name"),
    (["--workdir=a", "--truncation=0"], "error: --truncation=0.0: psi must be in (0, 1]"),
    (["--workdir=a", "--rejection=-1"], "error: --rejection=-1.0: the strength must be"),
    (["--workdir=no_such_run"], "error: no_such_run holds no trained run"),
    (["--saved_model=no_such_model"], "error: no_such_model is neither a SavedModel"),
    (["--server=ftp://x", "--model_name=m"], "error: the server URL must start with"),
    (["--workdir=a", "--num_samples=0"], "error: --num_samples=0: 0 is not a positive"),
    (["--workdir=a", "extra"], "error: unexpected arguments: extra"),
])
def test_bad_flags_are_one_line_and_status_2(capsys, args, message):
    assert run_evaluate(*args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith(message), err


def test_an_unreachable_server_is_one_line_and_status_1(tmp_path, capsys):
    out = tmp_path / "eval"
    code = run_evaluate(f"--server=http://127.0.0.1:{free_port()}", "--model_name=ring",
                        f"--out={out}", "--timeout=5")
    err = capsys.readouterr().err.strip()
    assert code == 1
    assert len(err.splitlines()) == 1
    assert err.startswith("error: UNAVAILABLE: cannot reach http://127.0.0.1:")
    assert not out.exists()


def test_a_data_set_without_metrics_is_refused(tmp_path_factory, capsys):
    run = trained(tmp_path_factory, "gaussian_1d")
    with serve(run) as server:
        code = run_evaluate(f"--server={server.rest_url}", "--model_name=gaussian_1d",
                            "--dataset=two_curves")
    assert code == 2
    assert capsys.readouterr().err.strip().startswith(
        "error: there are no metrics for the data set 'two_curves'; there are for mnist, ")


def test_missing_real_digits_are_one_line_and_status_2(tmp_path_factory, tmp_path, capsys):
    run = trained(tmp_path_factory, "mnist")
    code = run_evaluate(f"--workdir={run.workdir}", f"--mnist_path={tmp_path / 'none.npz'}",
                        f"--out={tmp_path / 'eval'}")
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err == (f"error: --mnist_path={tmp_path / 'none.npz'}: no such file or directory; "
                   "expected a Keras-layout mnist.npz or a folder with the four MNIST idx .gz "
                   "files")
    assert not (tmp_path / "eval").exists()


def test_a_run_reads_its_own_digits_before_mnist_path_from_the_environment(
        tmp_path_factory, monkeypatch, capsys):
    run = trained(tmp_path_factory, "mnist")
    monkeypatch.setenv("MNIST_PATH", "/no/such/mnist.npz")
    assert run_evaluate(f"--workdir={run.workdir}", "--num_samples=50") in (None, 0)
    assert capsys.readouterr().out.startswith("mnist (checkpoint, step 3): 50 samples")


def test_an_array_of_points_is_measured_as_it_is(tmp_path, capsys):
    points = sample_toy("ring", 50, 1) * 1.5  # off the ring's modes, so the numbers say so
    np.save(tmp_path / "points.npy", points)
    out = tmp_path / "eval"
    assert run_evaluate(f"--samples={tmp_path / 'points.npy'}", "--dataset=ring",
                        "--num_samples=40", "--seed=9", f"--out={out}") in (None, 0)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "ring (array): 40 samples"
    report = json.loads((out / "report.json").read_text())
    assert report["metrics"] == pytest.approx(evaluate_samples(points[:40], "ring"))
    assert report["metrics"]["modes_captured"] < 8
    assert (report["kind"], report["seed"], report["plots"]) == ("points", None, ["samples.png"])


@pytest.mark.parametrize("array, args, message", [
    (np.zeros((10, 2), np.float32), ["--dataset=ring", "--num_samples=11"],
     "holds only 10 samples. Received: num_samples=11"),
    (np.zeros((10, 3), np.float32), ["--dataset=ring"], "not ring's (2,)"),
    (np.full((10, 28, 28, 1), 255.0, np.float32), ["--dataset=mnist"],
     "holds images outside [0, 1]. Received: value_range=(255.0, 255.0)"),
    (np.zeros((10, 28, 28), np.float32), ["--dataset=mnist"],
     "must hold images [n, H, W, C] or points [n, d] with n >= 1."),
])
def test_a_bad_array_is_one_line_and_status_2(tmp_path, capsys, array, args, message):
    np.save(tmp_path / "samples.npy", array)
    out = tmp_path / "eval"
    assert run_evaluate(f"--samples={tmp_path / 'samples.npy'}", *args, f"--out={out}") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and message in err, err
    assert not out.exists()


def test_a_conditional_generator_is_reported_per_class_from_every_source(
        tmp_path_factory, tmp_path):
    run = trained(tmp_path_factory, "mnist_conditional")
    reports = {}
    with serve(run) as server:
        for name, flags in _source_flags(run, server.rest_url, None).items():
            if name == "array":  # an array of samples records no labels
                continue
            out = tmp_path / name
            assert run_evaluate(*flags, "--num_samples=200", "--seed=3",
                                f"--out={out}") in (None, 0)
            reports[name] = json.loads((out / "report.json").read_text())["metrics"]
    # The real digits no sample reaches: a row of 16 per class, ten rows (wider than high).
    with Image.open(tmp_path / "checkpoint" / "missed.png") as image:
        assert image.width > 1.3 * image.height and np.asarray(image).std() > 0
    for name, metrics in reports.items():
        for key, value in reports["checkpoint"].items():
            np.testing.assert_allclose(metrics[key], value, rtol=1e-4, err_msg=f"{name} {key}")
    metrics = reports["checkpoint"]
    assert 0.0 <= metrics["conditional_accuracy"] <= 1.0
    for digit in range(10):
        for figure in ("conditional_accuracy", "frechet_distance", "recall",
                       "classifier_score"):
            assert f"class {digit} {figure}" in metrics
    per_class = np.mean([metrics[f"class {d} conditional_accuracy"] for d in range(10)])
    assert per_class == pytest.approx(metrics["conditional_accuracy"])


def _real_digits_npz(path):
    """A Keras-layout mnist.npz whose both splits are the committed 1000 real test digits."""
    subset = np.load(SUBSET_PATH)
    np.savez(path, x_train=subset["images"], y_train=subset["labels"],
             x_test=subset["images"], y_test=subset["labels"])
    return subset


def test_real_source_returns_training_digits_of_the_asked_classes(tmp_path):
    subset = _real_digits_npz(tmp_path / "mnist.npz")
    source = RealSource(tmp_path / "mnist.npz")
    labels = np.array([7, 7, 3, 0, 9])
    digits = source.sample(5, seed=4, labels=labels)
    # Each returned digit is a training digit of the class asked for.
    images = subset["images"].astype(np.float32) / 255.0
    for digit, label in zip(digits, labels):
        matches = np.flatnonzero((images == digit[..., 0]).all(axis=(1, 2)))
        assert set(subset["labels"][matches]) == {label}
    np.testing.assert_array_equal(digits, source.sample(5, seed=4, labels=labels))
    assert not np.array_equal(digits, source.sample(5, seed=5, labels=labels))
    too_many = int((subset["labels"] == 1).sum()) + 1
    with pytest.raises(ValueError, match="digits of class 1"):
        source.sample(too_many, seed=0, labels=[1])


def test_real_digits_set_the_baseline_of_every_figure_per_class(tmp_path, capsys):
    _real_digits_npz(tmp_path / "mnist.npz")
    code = run_evaluate("--real", f"--mnist_path={tmp_path / 'mnist.npz'}", "--num_samples=200",
                        f"--out={tmp_path / 'out'}")
    assert code in (None, 0)
    metrics = json.loads((tmp_path / "out" / "report.json").read_text())["metrics"]
    # The committed classifier names real digits (its test accuracy is 99.1 %).
    assert metrics["conditional_accuracy"] >= 0.95
    assert all(f"class {d} recall" in metrics for d in range(10))
    assert "real" in capsys.readouterr().out
