"""Walks the commands of README.md and BUILD.md as a new user runs them after the quick start.

Every bash and python block runs in order, in a fresh directory holding the checkout's
`configs/` and `scripts/`, offline, with `MNIST_PATH` pointing at a small MNIST file:
- `tfgan-<tool> ...` and `python scripts/....py ...` run the checkout's script in this process
  (`runpy`, the script's own `__main__`; the console scripts call the same `run`), so
  TensorFlow is imported once; `$VARS` are expanded as the shell would;
- the quick start's `scripts/end_to_end.sh` runs in bash beside the others (its own port and
  directory), and `curl` runs in bash;
- a `tfgan-serve` command runs in the background, on free ports, until the end;
- installing (`python3 -m venv`, `pip wheel`, `pip install`), the test suite itself, CI and
  Docker are skipped;
- training and measuring get tiny sizes as extra flags after the documented ones, and the
  server takes 64 samples per request, so the README's server measurement is split.
The README's three measuring commands must report the same numbers.
"""

import json
import os
import re
import runpy
import shlex
import shutil
import signal
import subprocess
import sys

import pytest

from script_fixtures import ROOT
from serving_fixtures import free_port
from trained_fixtures import write_mnist_npz

DOCS = ("README.md", "BUILD.md")
SKIPPED = ("python3 -m venv", ".venv/bin/pip install", "pip wheel ", "pip install ",
           ".venv/bin/python -m pytest", ".ci/run", "docker ")
# Extra flags after the documented ones: the same commands at a test's size.
TINY = {
    "train": ["--steps=30", "--sample_every=10", "--log_every=10", "--checkpoint_every=10"],
    "evaluate": ["--num_samples=150"],
    "seed003_port": ["--steps=20", "--num_samples=150"],
    "bench_train": ["--rows=ring", "--repeats=1", "--steps_scale=0.02", "--leak_steps=0"],
    # The MLP presets: a test's size (the documented run races mnist and mnist_conditional).
    "bench_quality": ["--preset=mnist_mlp", "--conditional_preset=mnist_mlp_conditional",
                      "--budget_seconds=0.001", "--conditional_budget_seconds=0.001",
                      "--num_samples=100", "--plain_width=4"],
    "bench_serve": ["--concurrency=2", "--sizes=1", "--transports=grpc", "--batching=off",
                    "--seconds_per_row=0.3", "--inprocess_seconds=0.3"],
}
SERVE = re.compile(r"^(tfgan-serve|python scripts/serve\.py) ")
PORT_FLAGS = re.compile(r"\s--(rest_api_port|port)=\d+")
TIMEOUT = 300


def doc_commands(path):
    """`(language, command)` of every bash / python block of a Markdown file, in order.

    Continued lines are joined, comments dropped, and `a && b` split into its commands.
    """
    with open(path) as f:
        text = f.read()
    for indent, language, body in re.findall(
            r"^( *)```(bash|sh|python)\n(.*?)^\1```", text, re.S | re.M):
        lines = [line[len(indent):] for line in body.splitlines()]
        if language == "python":
            yield "python", "\n".join(lines)
            continue
        joined = re.sub(r"\s*\\\n\s*", " ", "\n".join(lines))
        for line in joined.splitlines():
            line = re.sub(r"(^|\s+)#.*$", "", line).strip()
            for command in filter(None, (part.strip() for part in line.split(" && "))):
                yield "bash", command


def script_argv(command):
    """`[script path, *args]` of a tfgan tool command, or `None` for any other command."""
    words = shlex.split(os.path.expandvars(command))
    if words[0].startswith("tfgan-"):
        name = words[0][len("tfgan-"):].replace("-", "_")
        return [os.path.join(ROOT, "scripts", f"{name}.py"), *words[1:]]
    if words[0] == "python" and len(words) > 1 and words[1].endswith(".py"):
        return [os.path.join(ROOT, words[1]), *words[2:]]
    return None


class Walk:
    """Runs documented commands one after another in `cwd`, a server in the background."""

    def __init__(self, cwd, capsys, rest_port, grpc_port):
        self.cwd, self.capsys = cwd, capsys
        self.rest_port, self.grpc_port = rest_port, grpc_port
        self.server = None
        self.end_to_end = None
        self.done = set()

    def run(self, language, command):
        """Runs one command; returns what it printed, or `None` when it is skipped."""
        key = PORT_FLAGS.sub("", command) if SERVE.match(command) else command
        if key in self.done or command.startswith(SKIPPED):
            return None
        self.done.add(key)
        command = re.sub(r"(127\.0\.0\.1|localhost):8501", rf"\g<1>:{self.rest_port}", command)
        if language == "python":
            exec(compile(command, "README.md", "exec"), {"__name__": "__main__"})
            return self.capsys.readouterr().out
        if SERVE.match(command):
            return self._serve(command)
        if "scripts/end_to_end.sh" in command:
            self._start_end_to_end(command)
            return command
        argv = script_argv(command)
        if argv is None:
            result = subprocess.run(["bash", "-c", command], cwd=self.cwd, capture_output=True,
                                    text=True, timeout=TIMEOUT)
            assert result.returncode == 0, (command, result.stderr[-3000:])
            return result.stdout
        return self._run_script(command, argv)

    def _run_script(self, command, argv):
        name = os.path.splitext(os.path.basename(argv[0]))[0]
        saved = sys.argv, list(sys.path)
        # As `python script.py` does: its arguments, and its directory first on sys.path.
        sys.argv = [*argv, *TINY.get(name, [])]
        sys.path.insert(0, os.path.dirname(argv[0]))
        try:
            with pytest.raises(SystemExit) as caught:
                runpy.run_path(argv[0], run_name="__main__")
        finally:
            sys.argv, sys.path[:] = saved
        out, err = self.capsys.readouterr()
        assert caught.value.code in (None, 0) and "error:" not in err, (command, err[-3000:])
        return out

    def _serve(self, command):
        self.stop_server()
        argv = [sys.executable, *script_argv(command), f"--rest_api_port={self.rest_port}",
                f"--port={self.grpc_port}", "--max_samples_per_request=64"]
        self.server = subprocess.Popen(argv, cwd=self.cwd, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, text=True)
        ready = self.server.stdout.readline()  # the server prints one line when it serves
        assert ready.startswith("Serving mnist on REST"), (command, self.server.stderr.read())
        return ready

    def _start_end_to_end(self, command):
        command = command.replace(".venv/bin/python", sys.executable)
        env = dict(os.environ, STEPS="30", PORT=str(free_port()))
        self.end_to_end = subprocess.Popen(["bash", "-c", command], cwd=self.cwd, env=env,
                                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                           text=True)

    def finish(self):
        """Waits for the quick start's script and stops the server."""
        if self.end_to_end is not None:
            out, err = self.end_to_end.communicate(timeout=TIMEOUT)
            assert self.end_to_end.returncode == 0, err[-3000:]
            assert "Sample grid fetched from the server" in out
        self.stop_server()

    def stop_server(self):
        if self.server is not None:
            self.server.send_signal(signal.SIGTERM)
            assert self.server.wait(timeout=60) == 0
            self.server = None

    def kill(self):
        for process in (self.server, self.end_to_end):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()


@pytest.fixture
def walk(tmp_path, monkeypatch, capsys):
    for name in ("configs", "scripts"):
        os.symlink(os.path.join(ROOT, name), tmp_path / name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PWD", str(tmp_path))
    monkeypatch.setenv("MNIST_PATH", write_mnist_npz(tmp_path / "mnist.npz"))
    walker = Walk(str(tmp_path), capsys, free_port(), free_port())
    yield walker
    walker.kill()


@pytest.mark.skipif(shutil.which("curl") is None, reason="the README's REST example uses curl")
def test_the_readme_and_build_commands_run_as_written(walk, tmp_path):
    ran = []
    for doc in DOCS:
        for language, command in doc_commands(os.path.join(ROOT, doc)):
            if walk.run(language, command) is not None:
                ran.append(command)
    walk.finish()
    assert any(command.startswith("tfgan-train --flagfile=configs/mnist_mlp.flags")
               for command in ran), ran
    assert (tmp_path / "runs" / "demo" / "grid.png").exists()  # the quick start's script
    assert (tmp_path / "grid.png").exists()
    reports = [tmp_path / "runs" / "mnist_mlp" / "eval", tmp_path / "eval_export",
               tmp_path / "eval_server"]
    metrics = [json.loads((out / "report.json").read_text())["metrics"] for out in reports]
    assert len(metrics[0]) == 6  # MNIST's metrics
    for other in metrics[1:]:
        assert other == pytest.approx(metrics[0], rel=1e-4, abs=1e-6)
    assert (tmp_path / "runs" / "seed003" / "eval" / "report.json").exists()


def test_doc_commands_reads_blocks_continuations_and_comments(tmp_path):
    doc = tmp_path / "doc.md"
    doc.write_text("text\n\n```bash\na --x=1 \\\n  --y=2   # note\n# only a comment\n"
                   "b && c\n```\n\n1. step\n\n   ```python\n   print(1)\n   ```\n")
    assert list(doc_commands(doc)) == [("bash", "a --x=1 --y=2"), ("bash", "b"),
                                       ("bash", "c"), ("python", "print(1)")]


def test_script_argv_maps_console_scripts_and_checkout_scripts(monkeypatch):
    monkeypatch.setenv("PWD", "/work")
    assert script_argv("tfgan-train-classifier --epochs=1") == [
        os.path.join(ROOT, "scripts", "train_classifier.py"), "--epochs=1"]
    assert script_argv("python scripts/baselines/seed003_port.py --out=$PWD/x") == [
        os.path.join(ROOT, "scripts", "baselines", "seed003_port.py"), "--out=/work/x"]
    assert script_argv("curl -d '{}' http://x") is None
