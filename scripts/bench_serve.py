"""Serving speed: the embedded server under closed-loop load beside the generator in-process.

    .venv/bin/python scripts/bench_serve.py --out=runs/bench_serve.json

Builds and exports a small tfgan generator (the `mnist_mlp` preset's network, untrained:
z 100 -> 128 ReLU -> 784 sigmoid) unless `--model_base_path` names one, measures the
generator's own samples/s in this process (the `sample_seeds` signature called directly, from
one thread and from one per CPU; the best counts), then
starts `tfgan-serve` as a subprocess on free loopback ports, once with batching off and once
with `--enable_batching` (`--batching_parameters_file`, default `serving/batching.config`),
and drives it: REST with `wrk` (Debian's C HTTP load generator; installed with
`apt-get install -y wrk` when missing, so that the client costs the server's CPUs little),
gRPC with `tfgan.loadgen`. For each transport, request size (1 and 64 samples:
`sample_seeds` with that many seeds, the batchable way to ask for samples) and concurrency
(1, 8, 64): `--seconds_per_row` seconds (gRPC: or `--max_requests_per_row` requests). It
prints req/s, samples/s and p50/p99 latency per row (REST rows also the server's system CPU
and voluntary context switches per request: threads trading the GIL) beside the in-process
calls/s of the same run, the issue's targets (REST n=1 c=64: >= 2,000 req/s unbatched, >= 3,000 batched; p99 at
c=8 < 50 ms; REST req/s over in-process calls/s), and writes everything as JSON to `--out`.
About 4 minutes on a 2-core CPU.

`--before_repo` times the server of another checkout beside this one's, and each
`--server_flags=NAME=FLAGS` this checkout's server started with those extra flags (e.g.
`threads2=--rest_api_num_threads=2`), all in turn, `--rounds` times over, in one run:

    .venv/bin/python scripts/bench_serve.py --transports=rest --sizes=1 --concurrency=8,64 \
        --server_flags=threads64=--rest_api_num_threads=64 --rounds=3

`--json_only` measures instead the REST answer of `--json_samples` (1024) MNIST samples of
issue 16, with the writer of `tests/json_writer_reference.py` (before) and
`tfgan.serving.json_response` (after) in the same run: each writer's whole answer on sigmoid
outputs `[n, 28, 28, 1]` and their z `[n, 100]` in both layouts, the HTTP send of that body
to curl as the server sends it, then whole requests to a served
generator: REST (curl, both layouts) and gRPC, against this checkout's server and, with
`--before_repo`, a checkout of the code before (e.g. `git archive 043b7a9`). About 2 minutes.
"""

import asyncio
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

from absl import app, flags

from tfgan.cli.quiet import import_tensorflow_quietly

import_tensorflow_quietly()  # before anything imports TensorFlow
from tfgan.cli.errors import USAGE, fail  # noqa: E402
from tfgan.cli.flags import flags_parser  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL_NAME = "mnist_mlp"
SIGNATURE = "sample_seeds"

FLAGS = flags.FlagValues()
flags.DEFINE_string("out", "bench_serve.json", "Where the JSON figures go.", flag_values=FLAGS)
flags.DEFINE_string("model_base_path", "", "A model base path (<version>/saved_model.pb) with a "
                    "batchable sample_seeds signature; unset: export an untrained mnist_mlp.",
                    flag_values=FLAGS)
flags.DEFINE_string("batching_parameters_file",
                    os.path.join(REPO, "serving", "batching.config"),
                    "BatchingParameters for the batching-on server.", flag_values=FLAGS)
flags.DEFINE_list("concurrency", ["1", "8", "64"], "Closed-loop workers per row.",
                  flag_values=FLAGS)
flags.DEFINE_list("sizes", ["1", "64"], "Samples per request.", flag_values=FLAGS)
flags.DEFINE_list("transports", ["rest", "grpc"], "rest and/or grpc.", flag_values=FLAGS)
flags.DEFINE_list("batching", ["off", "on"], "Server batching modes to run.", flag_values=FLAGS)
flags.DEFINE_enum("rest_format", "columnar", ["columnar", "row"], "REST request form: "
                  "columnar `inputs` (as tfgan's client) or row `instances`.", flag_values=FLAGS)
flags.DEFINE_float("seconds_per_row", 4.0, "Longest measured time per row.", lower_bound=0.1,
                   flag_values=FLAGS)
flags.DEFINE_integer("max_requests_per_row", 20000, "Most requests per row.", lower_bound=1,
                     flag_values=FLAGS)
flags.DEFINE_float("inprocess_seconds", 3.0, "Time of each in-process measurement.",
                   lower_bound=0.1, flag_values=FLAGS)
flags.DEFINE_bool("json_only", False, "Only measure the REST answer of --json_samples samples "
                  "(issue 16): each writer before / after, HTTP send, whole requests.",
                  flag_values=FLAGS)
flags.DEFINE_integer("json_samples", 1024, "Samples in the --json_only answers.", lower_bound=1,
                     flag_values=FLAGS)
flags.DEFINE_integer("json_repeats", 5, "Repeats of each --json_only timing (the best and the "
                     "median are kept).", lower_bound=1, flag_values=FLAGS)
flags.DEFINE_string("before_repo", "", "A checkout of the code before (e.g. `git archive "
                    "2423a41`), whose server is timed beside this one's in the same run.",
                    flag_values=FLAGS)
flags.DEFINE_multi_string("server_flags", [], "NAME=FLAGS: also time this checkout's server "
                          "started with these extra tfgan-serve flags (space-separated), e.g. "
                          "threads2=--rest_api_num_threads=2; repeatable.", flag_values=FLAGS)
flags.DEFINE_integer("rounds", 1, "Times every server is started and measured, in turn.",
                     lower_bound=1, flag_values=FLAGS)


def export_untrained_mnist_mlp(export_base):
    """Exports the mnist_mlp preset's generator, untrained, with batchable signatures only."""
    from tfgan.export import export_generator
    from tfgan.models.mlp import MLPGenerator

    generator = MLPGenerator(z_dim=100, data_shape=(28, 28, 1), hidden_units=(128,),
                             output_activation="sigmoid")
    path = export_generator(generator, export_base=export_base, model_name=MODEL_NAME,
                            prior="uniform", value_range=(0, 1), batchable_only=True)
    return os.path.dirname(path)


def in_process_rate(function, size, seconds, threads):
    """samples/s of `function(seeds=...)` with `size` seeds, `threads` callers back to back."""
    import concurrent.futures

    import tensorflow as tf

    seeds = tf.range(size, dtype=tf.int64)
    truncation = tf.ones([size])  # every input: tf.saved_model.load's signatures apply no defaults
    for _ in range(20):
        function(seeds=seeds, truncation=truncation)
    deadline = time.perf_counter() + seconds

    def caller():
        calls = 0
        while time.perf_counter() < deadline:
            function(seeds=seeds, truncation=truncation)["samples"].numpy()
            calls += 1
        return calls

    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        calls = sum(pool.map(lambda _: caller(), range(threads)))
    return calls * size / (time.perf_counter() - start)


def rest_body(seeds, row_format):
    """A REST body asking `sample_seeds` for `seeds`: REST requests name every input, so
    `truncation` (1: off) too, in row format one object per seed."""
    import numpy as np

    from tfgan import loadgen

    if not row_format:
        return loadgen.predict_body(SIGNATURE, {"seeds": seeds,
                                                "truncation": np.ones(len(seeds), np.float32)})
    instances = [{"seeds": int(seed), "truncation": 1.0} for seed in seeds]
    return json.dumps({"signature_name": SIGNATURE, "instances": instances}).encode("utf-8")


def in_process_rates(base_path):
    """The best samples/s of the generator in this process, by request size, and each try."""
    import tensorflow as tf

    from tfgan.export import latest_version

    version = latest_version(base_path)
    function = tf.saved_model.load(os.path.join(base_path, str(version))).signatures[SIGNATURE]
    tries = {}
    for size in (int(s) for s in FLAGS.sizes):
        for threads in sorted({1, os.cpu_count() or 1}):
            rate = in_process_rate(function, size, FLAGS.inprocess_seconds, threads)
            tries[f"n={size} threads={threads}"] = round(rate, 1)
            print(f"in-process {SIGNATURE} n={size:<3} threads={threads} {rate:>10.1f} samples/s",
                  flush=True)
    best = {int(s): max(v for k, v in tries.items() if k.startswith(f"n={s} "))
            for s in FLAGS.sizes}
    return best, tries


def free_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess:
    """`tfgan-serve` in a subprocess on free loopback ports; a context manager.

    Args:
        base_path: str, the model base path.
        batching_file: str, a `BatchingParameters` file, or "" for no batching.
        log_path: str, where the server's output goes.
        repo: str, the checkout whose `tfgan` runs. Defaults to this one.
    """

    def __init__(self, base_path, batching_file, log_path, repo=REPO, extra_flags=()):
        self.rest_port, self.grpc_port = free_port(), free_port()
        self.args = [
            sys.executable, "-m", "tfgan.cli.serve", f"--model_name={MODEL_NAME}",
            f"--model_base_path={base_path}", f"--port={self.grpc_port}",
            f"--rest_api_port={self.rest_port}", "--host=127.0.0.1",
            "--file_system_poll_wait_seconds=0",
        ]
        if batching_file:
            self.args += ["--enable_batching", f"--batching_parameters_file={batching_file}"]
        self.args += list(extra_flags)
        self.log_path = log_path
        self.repo = repo
        self.process = None

    def __enter__(self):
        path = self.repo + os.pathsep + os.environ.get("PYTHONPATH", "")
        env = {**os.environ, "PYTHONPATH": path}
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(self.args, cwd=self.repo, env=env, stdout=self._log,
                                        stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{self.rest_port}/v1/models/{MODEL_NAME}"
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                with urllib.request.urlopen(url, timeout=2) as answer:
                    if b"AVAILABLE" in answer.read():
                        return self
            except OSError:
                pass
            time.sleep(0.5)
        self.__exit__()
        with open(self.log_path, "rb") as log:
            tail = log.read()[-2000:].decode("utf-8", "replace")
        raise RuntimeError(f"the server did not become ready; its log ends:\n{tail}")

    def __exit__(self, *exc_info):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


def process_tree(pid):
    """`pid` and its descendants (the extra REST processes of `--rest_api_processes`)."""
    children = [int(child) for task in os.listdir(f"/proc/{pid}/task")
                for child in open(f"/proc/{pid}/task/{task}/children").read().split()]
    return [pid] + [p for child in children for p in process_tree(child)]


def process_cpu_seconds(pid, system_only=False):
    """User + system (or system only) CPU seconds a process and its descendants have used so
    far (Linux /proc)."""
    total = 0
    for member in process_tree(pid):
        with open(f"/proc/{member}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += int(fields[12]) + (0 if system_only else int(fields[11]))
    return total / os.sysconf("SC_CLK_TCK")


def context_switches(pid):
    """Voluntary context switches of all the threads of a process and its descendants so far
    (Linux /proc): threads handing the GIL (or a lock) back and forth sleep and wake once per
    switch."""
    total = 0
    for member in process_tree(pid):
        for thread in os.listdir(f"/proc/{member}/task"):
            with open(f"/proc/{member}/task/{thread}/status") as f:
                total += sum(int(line.split()[1]) for line in f
                             if line.startswith("voluntary_ctxt_switches"))
    return total


def measure_rows(server, batching):
    """Every (transport, size, concurrency) row against one running server."""
    import numpy as np

    from tfgan import loadgen

    rows = []
    for transport in FLAGS.transports:
        for size in (int(s) for s in FLAGS.sizes):
            seeds = np.arange(size, dtype=np.int64)
            for concurrency in (int(c) for c in FLAGS.concurrency):
                if transport == "rest":
                    body = rest_body(seeds, row_format=FLAGS.rest_format == "row")
                    url = (f"http://127.0.0.1:{server.rest_port}/v1/models/{MODEL_NAME}"
                           ":predict")
                    row = wrk_row(url, body, concurrency, server.process.pid)
                    row.update(transport=transport, batching=batching,
                               samples_per_request=size,
                               samples_per_second=round(row["requests_per_second"] * size, 1))
                    print(format_row(row), flush=True)
                    rows.append(row)
                    continue
                request = loadgen.predict_request_bytes(MODEL_NAME, SIGNATURE, {"seeds": seeds})
                send = loadgen.grpc_sender(f"127.0.0.1:{server.grpc_port}", request)

                async def run():
                    try:
                        # Warm-up: connections, the server's traces for this batch size.
                        warmup = await loadgen.run_closed_loop(
                            send, concurrency=concurrency, max_requests=2 * concurrency + 10,
                            max_seconds=30)
                        measured = await loadgen.run_closed_loop(
                            send, concurrency=concurrency,
                            max_requests=FLAGS.max_requests_per_row,
                            max_seconds=FLAGS.seconds_per_row,
                        )
                        return warmup, measured
                    finally:
                        await send.close()

                server_cpu = process_cpu_seconds(server.process.pid)
                client_cpu = time.process_time()
                warmup, result = asyncio.run(run())
                server_cpu = process_cpu_seconds(server.process.pid) - server_cpu
                client_cpu = time.process_time() - client_cpu
                done = sum(r.successes + sum(r.failures.values()) for r in (warmup, result))
                row = {
                    "transport": transport, "batching": batching, "samples_per_request": size,
                    "concurrency": concurrency, "requests": result.successes,
                    "failures": dict(result.failures), "seconds": round(result.seconds, 3),
                    "requests_per_second": round(result.requests_per_second, 1),
                    "samples_per_second": round(result.requests_per_second * size, 1),
                    "p50_ms": round(result.latency_ms(50), 2),
                    "p99_ms": round(result.latency_ms(99), 2),
                    # CPU per request (warm-up and measured): what bounds a row on a small box.
                    "server_cpu_ms_per_request": round(server_cpu * 1e3 / max(done, 1), 3),
                    "client_cpu_ms_per_request": round(client_cpu * 1e3 / max(done, 1), 3),
                }
                print(format_row(row), flush=True)
                rows.append(row)
    return rows


def ensure_wrk():
    """`wrk` on PATH, installed from Debian's archive if missing (as root)."""
    if shutil.which("wrk") is None:
        print("wrk is missing: apt-get install -y wrk", flush=True)
        subprocess.run(["apt-get", "install", "-y", "wrk"], check=False)
    if shutil.which("wrk") is None:
        fail("REST rows need wrk (apt-get install -y wrk), which could not be installed", USAGE)


_WRK_SCRIPT = """wrk.method = "POST"
wrk.body = %s
wrk.headers["Content-Type"] = "application/json"
"""
_WRK_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}


def _wrk_ms(text):
    number = text.rstrip("usm")
    return float(number) * _WRK_UNITS[text[len(number):]]


def wrk_row(url, body, concurrency, server_pid):
    """One closed-loop row of wrk (one thread, `concurrency` connections) POSTing `body`."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(_WRK_SCRIPT % json.dumps(body.decode()))
        script.flush()

        def run(seconds):
            args = ["wrk", "-t1", f"-c{concurrency}", f"-d{seconds}s", "--latency",
                    "-s", script.name, url]
            return subprocess.run(args, check=True, capture_output=True, text=True,
                                  timeout=seconds + 60).stdout

        run(1)  # warm-up: connections, the server's traces for this batch size
        server_cpu = process_cpu_seconds(server_pid)
        server_system = process_cpu_seconds(server_pid, system_only=True)
        switches = context_switches(server_pid)
        client_cpu = os.times().children_user + os.times().children_system
        text = run(max(1, round(FLAGS.seconds_per_row)))
        server_cpu = process_cpu_seconds(server_pid) - server_cpu
        server_system = process_cpu_seconds(server_pid, system_only=True) - server_system
        switches = context_switches(server_pid) - switches
        client_cpu = os.times().children_user + os.times().children_system - client_cpu
    fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    latency = dict(line.split() for line in text.splitlines()
                   if line.strip().endswith(("us", "ms", "s")) and "%" in line.split()[0])
    requests = int(text.split(" requests in ")[0].split()[-1])
    failed = int(fields.get("Non-2xx or 3xx responses", "0"))
    return {
        "concurrency": concurrency, "requests": requests - failed,
        "failures": {"non-2xx": failed} if failed else {},
        "seconds": float(text.split(" requests in ")[1].split("s,")[0]),
        "requests_per_second": float(fields["Requests/sec"]),
        "p50_ms": round(_wrk_ms(latency["50%"]), 2), "p99_ms": round(_wrk_ms(latency["99%"]), 2),
        "server_cpu_ms_per_request": round(server_cpu * 1e3 / max(requests, 1), 3),
        "server_system_cpu_ms_per_request": round(server_system * 1e3 / max(requests, 1), 3),
        "server_context_switches_per_request": round(switches / max(requests, 1), 1),
        "client_cpu_ms_per_request": round(client_cpu * 1e3 / max(requests, 1), 3),
    }


def format_row(row):
    failed = sum(row["failures"].values())
    return (f"{row['transport']:5} batching={row['batching']:3} n={row['samples_per_request']:<3}"
            f" c={row['concurrency']:<3} {row['requests_per_second']:>8.1f} req/s"
            f" {row['samples_per_second']:>9.1f} samples/s"
            f"  p50 {row['p50_ms']:>8.2f} ms  p99 {row['p99_ms']:>8.2f} ms"
            f"  cpu/req server {row['server_cpu_ms_per_request']:.2f} ms"
            + (f" (system {row['server_system_cpu_ms_per_request']:.2f} ms,"
               f" {row['server_context_switches_per_request']:.0f} switches)"
               if "server_system_cpu_ms_per_request" in row else "")
            + f" client {row['client_cpu_ms_per_request']:.2f} ms"
            f"  ({row['requests']} ok, {failed} failed)")


def find(rows, **keys):
    for row in rows:
        if all(row[k] == v for k, v in keys.items()):
            return row
    return None


def targets(rows, in_process):
    """Issue 28's targets for 1-sample requests, and each transport's req/s over the
    in-process calls/s of the same run (n=1: the Python around a call against the call)."""
    out = {}
    for transport in FLAGS.transports:
        for batching, goal in (("off", 2000), ("on", 3000)):
            row = find(rows, transport=transport, batching=batching, samples_per_request=1,
                       concurrency=64)
            if row:
                out[f"{transport} n=1 c=64 batching={batching} req/s (target >= {goal})"] = (
                    row["requests_per_second"])
                if in_process.get(1):
                    out[f"{transport} n=1 c=64 batching={batching} req/s / in-process calls/s"] = (
                        round(row["requests_per_second"] / in_process[1], 3))
        for row in rows:
            if row["transport"] == transport and row["concurrency"] == 8:
                key = (f"{transport} p99 c=8 n={row['samples_per_request']} "
                       f"batching={row['batching']} ms (target < 50)")
                out[key] = row["p99_ms"]
    return out


# ---- --json_only: the REST answer of issue 16 ----------------------------------------------


def timed(function, repeats):
    """(best, median) seconds of `repeats` calls of `function()`, and its last result."""
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        seconds.append(time.perf_counter() - start)
    seconds.sort()
    return (seconds[0], seconds[len(seconds) // 2]), result


def sample_answer(samples, seed=0):
    """What `sample` answers for `samples` MNIST samples: sigmoid outputs and their z."""
    import numpy as np

    rng = np.random.default_rng(seed)
    logits = rng.normal(0.0, 4.0, (samples, 28, 28, 1))
    return {"samples": (1 / (1 + np.exp(-logits))).astype(np.float32),
            "z": rng.uniform(-1, 1, (samples, 100)).astype(np.float32)}


def load_reference_writer():
    """`tests/json_writer_reference.py`, the writer before issue 16's work."""
    path = os.path.join(REPO, "tests", "json_writer_reference.py")
    spec = importlib.util.spec_from_file_location("json_writer_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class BodyServer:
    """An aiohttp server on a free port answering GETs with a fixed body: bytes in one
    `web.Response`, as the server before sent answers, or a callable making a new
    `json_response.PredictResponse` for each request, sent by `rest.send_answer` as the server
    sends answers now; a context manager.
    """

    def __init__(self):
        self.port = free_port()
        self.body = b""
        self._loop = None
        self._ready = threading.Event()

    def __enter__(self):
        threading.Thread(target=self._serve, daemon=True).start()
        self._ready.wait(30)
        return self

    def _serve(self):
        from aiohttp import web

        from tfgan.serving import rest

        async def handle(request):
            if callable(self.body):
                return await rest.send_answer(request, 200, self.body())
            return web.Response(body=self.body, content_type="application/json")

        async def start():
            app = web.Application()
            app.router.add_get("/", handle)
            self._runner = web.AppRunner(app, access_log=None)
            await self._runner.setup()
            await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
            self._ready.set()

        self._loop = asyncio.new_event_loop()
        self._loop.run_until_complete(start())
        self._loop.run_forever()

    def __exit__(self, *exc_info):
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)


def curl_seconds(url, body_file=None):
    """curl's `time_total` for one request (a POST of `body_file` if given), and bytes read."""
    args = ["curl", "-s", "-o", "/dev/null", "-w", "%{time_total} %{size_download}", url]
    if body_file:
        args += ["-X", "POST", "-H", "Content-Type: application/json", "--data-binary",
                 f"@{body_file}"]
    seconds, size = subprocess.run(args, check=True, capture_output=True, text=True,
                                   timeout=120).stdout.split()
    return float(seconds), int(size)


def json_writer_rows(repeats):
    """Each writer's whole answer and its HTTP send, both layouts, on one `sample` answer."""
    from tfgan.serving import json_response

    outputs = sample_answer(FLAGS.json_samples)
    writers = {"before": load_reference_writer(), "after": json_response}
    rows = []
    with BodyServer() as server:
        for layout in (json_response.RequestFormat.COLUMNAR, json_response.RequestFormat.ROW):
            bodies = {}
            for name, writer in writers.items():
                request_format = writer.RequestFormat[layout.name]
                row = {"writer": name, "layout": layout.value}
                (best, median), body = timed(
                    lambda: writer.encode_predict_response(outputs, request_format), repeats)
                row["total_ms"] = [round(best * 1e3, 1), round(median * 1e3, 1)]
                bodies[name] = body
                row["mb"] = round(len(body) / 1e6, 2)
                server.body = body
                if name == "after":
                    chunks = list(json_response.predict_response(outputs, request_format))
                    server.body = lambda: json_response.PredictResponse(chunks, len(body))
                url = f"http://127.0.0.1:{server.port}/"
                curl_seconds(url)
                sends = sorted(curl_seconds(url)[0] for _ in range(repeats))
                row["http_send_ms"] = [round(sends[0] * 1e3, 1),
                                       round(sends[len(sends) // 2] * 1e3, 1)]
                print(" ".join(f"{k}={v}" for k, v in row.items()), flush=True)
                rows.append(row)
            if bodies["before"] != bodies["after"]:
                raise RuntimeError(f"the writers differ on the {layout.value} answer")
    return rows


def request_rows(base_path, repos, repeats, workdir):
    """Whole requests for `--json_samples` samples: REST (curl) both layouts, and gRPC."""
    import grpc
    import numpy as np

    from tfgan import loadgen
    from tfgan.serving.protocol import CHANNEL_OPTIONS

    seeds = np.arange(FLAGS.json_samples, dtype=np.int64)
    bodies = {}
    for layout in ("columnar", "row"):
        bodies[layout] = os.path.join(workdir, f"request_{layout}.json")
        with open(bodies[layout], "wb") as f:
            f.write(rest_body(seeds, row_format=layout == "row"))
    request = loadgen.predict_request_bytes(MODEL_NAME, SIGNATURE, {"seeds": seeds})
    rows = []
    for name, repo in repos.items():
        log = os.path.join(workdir, f"server_{name}.log")
        with ServerProcess(base_path, "", log, repo=repo) as server:
            url = f"http://127.0.0.1:{server.rest_port}/v1/models/{MODEL_NAME}:predict"
            for layout, body_file in bodies.items():
                curl_seconds(url, body_file)
                timings = sorted(curl_seconds(url, body_file) for _ in range(repeats))
                rows.append({"server": name, "transport": f"rest {layout}",
                             "best_ms": round(timings[0][0] * 1e3, 1),
                             "median_ms": round(timings[len(timings) // 2][0] * 1e3, 1),
                             "mb": round(timings[0][1] / 1e6, 2)})
                print(rows[-1], flush=True)
            send = loadgen.grpc_sender(f"127.0.0.1:{server.grpc_port}", request)

            async def run():
                try:
                    await loadgen.run_closed_loop(send, concurrency=1, max_requests=3,
                                                  max_seconds=60)
                    return await loadgen.run_closed_loop(send, concurrency=1,
                                                         max_requests=repeats, max_seconds=60)
                finally:
                    await send.close()

            result = asyncio.run(run())
            with grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}",
                                       options=CHANNEL_OPTIONS) as channel:
                answer = channel.unary_unary(loadgen.PREDICT_METHOD)(request, timeout=60)
            rows.append({"server": name, "transport": "grpc",
                         "best_ms": round(min(result.latencies_s) * 1e3, 1),
                         "median_ms": round(result.latency_ms(50), 1),
                         "mb": round(len(answer) / 1e6, 2)})
            print(rows[-1], flush=True)
    return rows


def json_main(started):
    if shutil.which("curl") is None:
        fail("--json_only times HTTP with curl, which is not on PATH", USAGE)
    repos = {"after": REPO}
    if FLAGS.before_repo:
        repos = {"before": os.path.abspath(FLAGS.before_repo), **repos}
    writer_rows = json_writer_rows(FLAGS.json_repeats)
    with tempfile.TemporaryDirectory(prefix="bench_serve_json_") as workdir:
        base_path = FLAGS.model_base_path or export_untrained_mnist_mlp(
            os.path.join(workdir, "export"))
        requests = request_rows(base_path, repos, FLAGS.json_repeats, workdir)
    report = {
        "samples": FLAGS.json_samples, "repeats": FLAGS.json_repeats, "cpus": os.cpu_count(),
        "load_average_at_end": os.getloadavg(), "writer_rows": writer_rows,
        "request_rows": requests, "wall_seconds": round(time.time() - started, 1),
    }
    os.makedirs(os.path.dirname(os.path.abspath(FLAGS.out)), exist_ok=True)
    with open(FLAGS.out, "w") as f:
        json.dump(report, f, indent=1)
    print(f"wrote {FLAGS.out} ({report['wall_seconds']} s)")


def server_variants():
    """name -> (checkout, extra tfgan-serve flags) of every server to time: `after` (this
    checkout), `before` (`--before_repo`), and each `--server_flags`."""
    servers = {"after": (REPO, [])}
    if FLAGS.before_repo:
        servers = {"before": (os.path.abspath(FLAGS.before_repo), []), **servers}
    for value in FLAGS.server_flags:
        name, _, extra = value.partition("=")
        if not name or not extra.strip() or name in servers:
            fail(f"--server_flags takes NAME=FLAGS with a new name (not before, after or one "
                 f"given twice) and at least one flag; got {value!r}", USAGE)
        servers[name] = (REPO, extra.split())
    return servers


def main(argv):
    del argv
    for name in ("concurrency", "sizes"):
        if not all(v.isdigit() and int(v) > 0 for v in FLAGS[name].value):
            fail(f"--{name} takes positive integers; got {','.join(FLAGS[name].value)!r}", USAGE)
    if not set(FLAGS.transports) <= {"rest", "grpc"} or not set(FLAGS.batching) <= {"on", "off"}:
        fail("--transports takes rest,grpc and --batching takes off,on", USAGE)
    servers = server_variants()
    started = time.time()
    if "rest" in FLAGS.transports and not FLAGS.json_only:
        ensure_wrk()
    if FLAGS.json_only:
        json_main(started)
        return
    with tempfile.TemporaryDirectory(prefix="bench_serve_") as workdir:
        base_path = FLAGS.model_base_path or export_untrained_mnist_mlp(
            os.path.join(workdir, "export"))
        in_process, in_process_tries = in_process_rates(base_path)
        rows = []
        for round_ in range(FLAGS.rounds):
            for batching in FLAGS.batching:
                batching_file = FLAGS.batching_parameters_file if batching == "on" else ""
                for name, (repo, extra) in servers.items():
                    print(f"-- server: {name} ({' '.join([repo, *extra])})", flush=True)
                    log = os.path.join(workdir, f"server_{name}_batching_{batching}.log")
                    with ServerProcess(base_path, batching_file, log, repo=repo,
                                       extra_flags=extra) as server:
                        rows += [{**row, "server": name, "round": round_}
                                 for row in measure_rows(server, batching)]
    ratios = targets([row for row in rows if row["server"] == "after"], in_process)
    print(f"\nin-process {SIGNATURE} n=1: {in_process.get(1)} calls/s")
    print("targets (issue 28):")
    for key, value in ratios.items():
        print(f"  {key}: {value}")
    report = {
        "model": FLAGS.model_base_path or "untrained mnist_mlp (z 100 -> 128 -> 784)",
        "signature": SIGNATURE, "rest_format": FLAGS.rest_format,
        "batching_parameters_file": FLAGS.batching_parameters_file,
        "cpus": os.cpu_count(), "load_average_at_end": os.getloadavg(),
        "in_process_samples_per_second": in_process, "in_process_tries": in_process_tries,
        "rows": rows, "targets": ratios,
        "wall_seconds": round(time.time() - started, 1),
    }
    os.makedirs(os.path.dirname(os.path.abspath(FLAGS.out)), exist_ok=True)
    with open(FLAGS.out, "w") as f:
        json.dump(report, f, indent=1)
    print(f"wrote {FLAGS.out} ({report['wall_seconds']} s)")


if __name__ == "__main__":
    app.run(main, flags_parser=flags_parser(FLAGS, __doc__))
