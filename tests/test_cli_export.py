import os

import pytest

from script_fixtures import run_script
from tfgan import training
from tfgan.config import TrainConfig



def _export(*args):
    return run_script("export.py", *args)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    path = tmp_path_factory.mktemp("run")
    training.train(TrainConfig(
        workdir=str(path), dataset="ring", z_dim=2, g_hidden_units=(8,), d_hidden_units=(8,),
        output_activation="linear", steps=4, batch_size=16, checkpoint_every=2, log_every=2,
        sample_every=2, num_grid_samples=8))
    return str(path)


def test_export_writes_next_versions_and_refuses_an_existing_one(workdir, tmp_path):
    base = str(tmp_path / "export")
    first = _export(f"--workdir={workdir}", f"--export_dir={base}", "--model_name=ring")
    assert first.returncode == 0, first.stderr[-2000:]
    assert first.stdout.strip().endswith(os.path.join("ring", "1"))
    assert first.stderr == ""  # none of TensorFlow's INFO lines about saving
    second = _export(f"--workdir={workdir}", f"--export_dir={base}", "--model_name=ring",
                     "--batchable_only")
    assert second.returncode == 0, second.stderr[-2000:]
    assert sorted(os.listdir(os.path.join(base, "ring"))) == ["1", "2"]

    clash = _export(f"--workdir={workdir}", f"--export_dir={base}", "--model_name=ring",
                    "--version=1")
    assert clash.returncode == 1
    assert [l for l in clash.stderr.splitlines() if l.startswith("error: ")]
    assert sorted(os.listdir(os.path.join(base, "ring"))) == ["1", "2"]


def test_export_of_a_directory_without_a_run_fails_with_one_line(tmp_path):
    result = _export(f"--workdir={tmp_path}", f"--export_dir={tmp_path / 'export'}")
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error: ") and "no trained run" in result.stderr
    assert not os.path.exists(tmp_path / "export")


def run_export(*args):
    """`tfgan-export` in this process (TensorFlow is loaded already): its exit status."""
    from tfgan.cli import export as export_tool

    with pytest.raises(SystemExit) as caught:
        export_tool.run(["tfgan-export", *args])
    return caught.value.code


def test_rejection_candidates_export_a_guided_model(workdir, tmp_path, capsys):
    from tfgan import export

    base = str(tmp_path / "export")
    code = run_export(f"--workdir={workdir}", f"--export_dir={base}", "--model_name=ring",
                      "--rejection_candidates=4")
    assert code in (None, 0), capsys.readouterr().err[-2000:]
    metadata = export.read_metadata(os.path.join(base, "ring", "1"))
    assert metadata["rejection"]["candidates"] == 4
    assert "rejection" in metadata["signatures"]["sample"]["inputs"]


def test_rejection_candidates_without_a_discriminator_is_one_line(tmp_path, capsys):
    packed = tmp_path / "packed"
    training.train(TrainConfig(
        workdir=str(packed), dataset="ring", z_dim=2, g_hidden_units=(8,), d_hidden_units=(8,),
        output_activation="linear", steps=2, batch_size=16, pack=2, checkpoint_every=2,
        log_every=2, sample_every=2, num_grid_samples=8))
    capsys.readouterr()
    assert run_export(f"--workdir={packed}", f"--export_dir={tmp_path / 'export'}",
                      "--rejection_candidates=4") == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 1 and errors[0].startswith(
        "error: --rejection_candidates=4: this run's discriminator judges packs of 2 samples")
    assert not os.path.exists(tmp_path / "export")
