"""tfgan.cli.sample: draws from a served model into a PNG, or fails in one line."""

import numpy as np
import pytest
from PIL import Image

from serving_fixtures import MODEL_NAME, exported_model, free_port, install_version, model_config
from tfgan.cli import sample
from tfgan.serving import BackgroundServer, ServerOptions


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    base = tmp_path_factory.mktemp("cli_sample") / MODEL_NAME
    install_version(exported_model(tmp_path_factory, 1), base, 1)
    options = ServerOptions(model_config(base), grpc_port=0, rest_port=0,
                            file_system_poll_wait_seconds=-1)
    with BackgroundServer(options) as running:
        yield running


def run_sample(*args):
    with pytest.raises(SystemExit) as caught:
        sample.run(["tfgan-sample", *args])
    return caught.value.code


@pytest.mark.parametrize("transport", ["rest", "grpc"])
def test_writes_a_png_of_the_samples(server, tmp_path, capsys, transport):
    pytest.importorskip("tfgan.plots")
    out = tmp_path / "grid.png"
    url = server.rest_url if transport == "rest" else server.grpc_url
    code = run_sample(f"--server={url}", f"--model_name={MODEL_NAME}", "--num_samples=4",
                      "--seed=7", f"--out={out}")
    assert code in (None, 0)
    assert out.read_bytes().startswith(b"\x89PNG")
    with Image.open(out) as image:
        assert np.asarray(image).std() > 0  # something was drawn
    assert capsys.readouterr().out.strip() == f"wrote 4 samples to {out}"


def test_an_unreachable_server_is_one_line_and_no_file(tmp_path, capsys):
    out = tmp_path / "grid.png"
    code = run_sample(f"--server=http://127.0.0.1:{free_port()}", f"--model_name={MODEL_NAME}",
                      f"--out={out}", "--timeout=5")
    err = capsys.readouterr().err.strip()
    assert code == 1
    assert len(err.splitlines()) == 1
    assert err.startswith("error: UNAVAILABLE: cannot reach http://127.0.0.1:")
    assert not out.exists()


def test_an_unknown_model_is_one_line(server, tmp_path, capsys):
    code = run_sample(f"--server={server.grpc_url}", "--model_name=nope",
                      f"--out={tmp_path / 'grid.png'}")
    assert code == 1
    assert capsys.readouterr().err.strip() == (
        "error: NOT_FOUND: Servable not found for request: Latest(nope)")


@pytest.mark.parametrize("args, message", [
    (["--model_name=toy", "--num_samples=0"],
     "error: --num_samples=0: 0 is not a positive integer"),
    (["--model_name=toy", "--nope=1"], "error: unknown flag --nope (--help lists the flags)"),
    (["--model_name=toy", "--num_sample=2"],
     "error: unknown flag --num_sample; did you mean --num_samples?"),
    (["--num_samples=2"], "error: --model_name is required"),
    (["--model_name=toy", "--server=ftp://x"], "error: the server URL must start with"),
    (["--model_name=toy", "extra"], "error: unexpected arguments: extra"),
])
def test_bad_flags_are_one_line_and_status_2(capsys, args, message):
    assert run_sample(*args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith(message)


@pytest.fixture(scope="module")
def conditional_run(tmp_path_factory):
    from trained_fixtures import trained

    return trained(tmp_path_factory, "mnist_conditional")


# A server does not show the model's classes, so "all" is for exports and checkpoints.
@pytest.mark.parametrize("source, labels, count", [
    (source, labels, count)
    for source in ("saved_model", "checkpoint", "server")
    for labels, count in (("7,7,3", 3), ("all", 20), ("4", 2))
    if not (source == "server" and labels == "all")])
def test_labels_draw_the_classes_asked_for(conditional_run, tmp_path, capsys, source, labels,
                                           count):
    from trained_fixtures import serve

    out = tmp_path / "grid.png"
    args = [f"--labels={labels}", "--num_samples=2", "--seed=3", f"--out={out}"]
    if source == "server":
        with serve(conditional_run) as running:
            code = run_sample(f"--server={running.grpc_url}",
                              f"--model_name={conditional_run.config.model_name}", *args)
    else:
        where = (conditional_run.model_dir if source == "saved_model"
                 else conditional_run.workdir)
        code = run_sample(f"--{source}={where}", *args)
    assert code in (None, 0)
    assert capsys.readouterr().out.strip() == f"wrote {count} samples to {out}"
    with Image.open(out) as image:
        assert np.asarray(image).std() > 0


@pytest.mark.parametrize("args, message", [
    (["--labels=10"], "error: Each label must be one of the class indices in [0, 10)"),
    ([], "error: this model is class-conditional: pass --labels"),
])
def test_bad_labels_are_one_line_and_status_2(conditional_run, capsys, args, message):
    assert run_sample(f"--saved_model={conditional_run.model_dir}", *args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith(message)


def test_labels_all_against_a_server_says_why_not(capsys):
    assert run_sample("--model_name=toy", "--labels=all") == 2
    assert capsys.readouterr().err.strip().startswith(
        "error: labels 'all' needs the model's classes")


@pytest.mark.parametrize("value", ["0", "1.5", "-0.2", "nan"])
def test_a_truncation_outside_zero_to_one_is_one_line_and_status_2(capsys, value):
    assert run_sample("--model_name=toy", f"--truncation={value}") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith(f"error: --truncation={float(value)}: psi must be in (0, 1]")


@pytest.mark.parametrize("source", ["saved_model", "server"])
def test_truncation_draws_the_exports_truncated_samples(conditional_run, tmp_path, capsys,
                                                        source):
    from tfgan.sample_sources import SavedModelSource
    from trained_fixtures import serve

    out = tmp_path / "grid.png"
    args = ["--labels=7", "--num_samples=4", "--seed=3", "--truncation=0.5", f"--out={out}"]
    if source == "server":
        with serve(conditional_run) as running:
            code = run_sample(f"--server={running.rest_url}",
                              f"--model_name={conditional_run.config.model_name}", *args)
    else:
        code = run_sample(f"--saved_model={conditional_run.model_dir}", *args)
    assert code in (None, 0)
    assert capsys.readouterr().out.strip() == f"wrote 4 samples to {out}"
    from tfgan import plots

    expected = tmp_path / "expected.png"
    plots.save_samples(SavedModelSource(conditional_run.model_dir).sample(
        4, 3, [7], truncation=0.5), str(expected))
    untruncated = tmp_path / "untruncated.png"
    plots.save_samples(SavedModelSource(conditional_run.model_dir).sample(4, 3, [7]),
                       str(untruncated))
    with Image.open(out) as drawn, Image.open(expected) as same, \
            Image.open(untruncated) as other:
        assert np.array_equal(np.asarray(drawn), np.asarray(same))
        assert not np.array_equal(np.asarray(drawn), np.asarray(other))
