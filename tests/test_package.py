"""The package as a whole: one version, layers that point one way, no effect on import."""

import ast
import importlib.metadata
import pathlib
import subprocess
import sys

import tfgan
from script_fixtures import ROOT

PACKAGE = pathlib.Path(ROOT) / "tfgan"


def _imported_modules(path):
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def test_the_version_is_written_once_and_installed_as_written():
    assert importlib.metadata.version("tfgan") == tfgan.__version__
    assert "version =" not in (pathlib.Path(ROOT) / "pyproject.toml").read_text().split(
        "[tool.setuptools.dynamic]")[0]


def test_only_the_command_line_imports_the_command_line():
    importers = sorted(
        str(path.relative_to(ROOT)) for path in PACKAGE.rglob("*.py")
        if PACKAGE / "cli" not in path.parents
        and any(name == "tfgan.cli" or name.startswith("tfgan.cli.")
                for name in _imported_modules(path)))
    assert importers == []


_IMPORT_EFFECTS = """
import os, sys
before = os.fstat(2)
import tfgan, tfgan.cli, tfgan.cli.entry_points
light = not any(name.split(".")[0] in ("tensorflow", "keras") for name in sys.modules)
import tfgan.cli.train
after = os.fstat(2)
print(light, (before.st_dev, before.st_ino) == (after.st_dev, after.st_ino))
"""


def test_importing_the_package_and_its_tools_changes_nothing():
    # `import tfgan` and the console scripts' module load no TensorFlow; importing a tool's
    # module leaves file descriptor 2 where it was (its entry point holds lines back, later).
    result = subprocess.run([sys.executable, "-c", _IMPORT_EFFECTS], capture_output=True,
                            text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split() == ["True", "True"]


def test_the_public_names_resolve():
    assert tfgan.presets.config("gaussian_1d").dataset == "gaussian_1d"
    for name in ("GAN", "TrainConfig", "train", "load_run", "export_gan", "sample_figure",
                 "callbacks"):
        assert getattr(tfgan, name) is not None and name in dir(tfgan)
