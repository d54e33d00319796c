"""The embedded model server: REST and gRPC on one asyncio loop over one `ModelRegistry`.

`ModelServer` is the async object; `run_server` runs one until SIGINT/SIGTERM and stops it
gracefully (in-flight requests finish, polling stops); `BackgroundServer` runs one in a thread
for tests and notebooks:

```python
config = single_model_config("mnist", "/models/mnist")
with BackgroundServer(ServerOptions(config, grpc_port=0, rest_port=0)) as server:
    print(server.rest_url, server.grpc_url)
```
"""

import asyncio
import concurrent.futures
import ctypes
import dataclasses
import logging
import os
import signal
import socket
import threading

import tensorflow as tf
from aiohttp import web

from tfgan.serving import grpc_api, rest
from tfgan.serving.batching import Batcher, BatchingOptions, read_batching_parameters
from tfgan.serving.configs import (
    read_model_config_file,
    read_monitoring_config,
    single_model_config,
    startup_roots,
)
from tfgan.serving.core import ModelRegistry
from tfgan.serving.errors import ServingError
from tfgan.serving.rest_processes import RestProcesses

_log = logging.getLogger("tfgan.serving")


def cpus_per_process(processes=1):
    """The CPUs this process may use, shared among `processes` server processes (at least 1)."""
    return max(1, len(os.sched_getaffinity(0)) // processes)


def default_threads(enable_batching, processes=1):
    """The threads of each API's pool when its flag is 0: one per CPU this process may use
    (its share, with `processes` REST processes); with batching, four per CPU of the machine
    (the stock server's default), where requests wait for their batch. Python runs one thread
    at a time: more threads than CPUs trade the interpreter lock (docs/benchmarks.md: 64
    threads served 1-sample REST requests at 0.5-0.6x the rate of 2 on 2 CPUs, at twice the
    CPU per request)."""
    if enable_batching:
        return 4 * cpus_per_process()
    return cpus_per_process(processes)


def _option(default, help, **metadata):
    return dataclasses.field(default=default, metadata={"help": help, **metadata})


def _zero_is_off(port):
    return port or None


def _python_only(default):
    return dataclasses.field(default=default, metadata={"flag": None})


@dataclasses.dataclass(frozen=True)
class ServerOptions:
    """Everything `ModelServer` serves and how; each field makes its `tfgan-serve` flag.

    Field names are the flag names, except `grpc_port` (`--port`) and `rest_port`
    (`--rest_api_port`), where a flag of 0 is None here (off) and 0 here picks a free port.
    Python-only: `model_config` (instead of the model flags), `prometheus_path` (instead of
    `--monitoring_config_file`), `grace_seconds` (how long stopping waits for requests in
    flight). ValueError for contradictory or missing options.
    """

    model_config: object = _python_only(None)
    model_name: str = _option("default", "Name of the model served from --model_base_path.")
    model_base_path: str = _option("", "Directory holding <version>/saved_model.pb.")
    model_config_file: str = _option(
        "", "ModelServerConfig text proto (instead of --model_name/--model_base_path).")
    model_config_file_poll_wait_seconds: int = _option(
        0, "Seconds between reads of --model_config_file; 0 reads it once.", lower_bound=0)
    file_system_poll_wait_seconds: int = _option(
        1, "Seconds between polls for new versions; 0 polls once at start.")
    allow_version_labels_for_unavailable_models: bool = _option(
        False, "Let a version label name a version that is not available yet.")
    max_num_load_retries: int = _option(
        5, "Retries of a version that failed to load.", lower_bound=0)
    load_retry_interval_micros: int = _option(
        60_000_000, "Least time between two tries of a version that failed to load.",
        lower_bound=0)
    enable_model_warmup: bool = _option(
        True, "Warm each version up before it serves (assets.extra/tf_serving_warmup_requests, "
        "else one request per signature).")
    num_request_iterations_for_warmup: int = _option(
        0, "Times each warm-up request is replayed; 0 (the stock default): once.",
        lower_bound=0)
    saved_model_tags: tuple = _option(
        ("serve",), "Tags of the MetaGraph to load, comma-separated.")
    allowed_model_roots: tuple = _option(
        (), "Directories every model base path and config file must lie in, symlinks "
        "resolved (a reload naming another path is refused); empty: those given at start-up "
        "(the directory holding each base path, and --model_config_file's directory).")
    allow_reload_config_requests: bool = _option(
        False, "Answer ModelService.HandleReloadConfigRequest (stock: always on). Off, anyone "
        "who reaches the gRPC port cannot load or unload models; the config file still polls.")
    grpc_port: int = _option(8500, "gRPC port; 0 turns gRPC off.", flag="port",
                             from_flag=_zero_is_off, lower_bound=0, upper_bound=65535)
    grpc_socket_path: str = _option("", "Also serve gRPC on this unix socket.")
    rest_port: int = _option(8501, "REST port; 0 turns REST off.", flag="rest_api_port",
                             from_flag=_zero_is_off, lower_bound=0, upper_bound=65535)
    host: str = _option("127.0.0.1", "Address to bind (0.0.0.0 for every interface).")
    rest_api_num_threads: int = _option(
        0, "Threads running REST requests, in each REST process; 0: one per CPU (shared among "
        "--rest_api_processes), four per CPU with --enable_batching.",
        lower_bound=0)
    rest_api_processes: int = _option(
        1, "Processes answering REST on the one port (tfgan's own flag), each with the models "
        "loaded: 2 on 2 CPUs served 2.5x the 1-sample requests of 1, 4x batched "
        "(docs/benchmarks.md). They share the CPUs by the 0 defaults of the thread flags. Not "
        "with --monitoring_config_file or --allow_reload_config_requests (each process would "
        "count and reload alone).", lower_bound=1)
    grpc_max_threads: int = _option(
        0, "Threads running gRPC requests; 0: one per CPU (four with --enable_batching).",
        lower_bound=0)
    rest_api_timeout_in_ms: int = _option(
        30000, "REST request time limit; 0 = none.", lower_bound=0)
    rest_api_enable_cors_support: bool = _option(
        False, "Add CORS headers (Access-Control-Allow-Origin: *) to REST answers.")
    grpc_channel_arguments: tuple = _option(
        (), "gRPC server arguments, comma-separated key=value (grpc.max_connection_age_ms="
        "2000); grpc.so_reuseport is always 0, so a second server cannot share the port.")
    enable_serialization_as_tensor_content: bool = _option(
        False, "Put gRPC Predict outputs in tensor_content instead of float_val, int_val, ...")
    enable_batching: bool = _option(
        False, "Batch concurrent requests on batchable signatures.")
    batching_parameters_file: str = _option("", "BatchingParameters text proto.")
    monitoring_config_file: str = _option("", "MonitoringConfig text proto (Prometheus).")
    tensorflow_intra_op_parallelism: int = _option(
        0, "Threads one op may use; 0: TensorFlow's choice.", lower_bound=0)
    tensorflow_inter_op_parallelism: int = _option(
        0, "Ops run at once; 0: TensorFlow's choice.", lower_bound=0)
    tensorflow_session_parallelism: int = _option(
        0, "Both of the above when they are 0.", lower_bound=0)
    max_samples_per_request: int = _option(
        1024, "Largest batch or num_samples a request may ask for; 0 = no limit (stock: no "
        "limit).", lower_bound=0)
    max_request_bytes: int = _option(
        64 * 2**20, "Largest REST body (larger ones get 413) and gRPC "
        "request (RESOURCE_EXHAUSTED).", lower_bound=1)
    rest_max_connections: int = _option(
        1000, "Open REST connections past which new ones get 503; 0 = no limit.",
        lower_bound=0)
    rest_header_timeout_seconds: float = _option(
        30.0, "Time a REST connection has to send a request's headers; 0 = none.",
        lower_bound=0)
    rest_body_timeout_seconds: float = _option(
        30.0, "Time a REST client has to send its body; 0 = none.",
        lower_bound=0)
    rest_idle_timeout_seconds: float = _option(
        60.0, "Idle time after which a REST connection is closed.", lower_bound=0)
    grpc_max_concurrent_rpcs: int = _option(
        1000, "gRPC calls in progress past which new ones get RESOURCE_EXHAUSTED; 0 = no limit.",
        lower_bound=0)
    grpc_idle_timeout_seconds: float = _option(
        300.0, "Idle time after which a gRPC connection is closed; 0 = never.", lower_bound=0)
    prometheus_path: str = _python_only(None)
    grace_seconds: float = _python_only(5.0)

    def __post_init__(self):
        if self.grpc_port is None and self.rest_port is None and not self.grpc_socket_path:
            raise ValueError("at least one of the gRPC and REST ports must be on. Received: "
                             f"port={self.grpc_port}, rest_api_port={self.rest_port}")
        if self.model_config_file and self.model_base_path:
            raise ValueError(
                "--model_config_file and --model_base_path cannot both be set. Received: "
                f"model_config_file={self.model_config_file}, "
                f"model_base_path={self.model_base_path}")
        if self.model_config is None and not (self.model_config_file or self.model_base_path):
            raise ValueError("set --model_base_path (with --model_name) or --model_config_file")
        if self.rest_api_processes > 1:
            if self.rest_port is None:
                raise ValueError(f"--rest_api_processes={self.rest_api_processes} needs REST "
                                 "on; --rest_api_port is 0")
            alone = [name for name, value in (
                ("--monitoring_config_file", self.monitoring_config_file),
                ("prometheus_path", self.prometheus_path),
                ("--allow_reload_config_requests", self.allow_reload_config_requests)) if value]
            if alone:
                raise ValueError(f"--rest_api_processes={self.rest_api_processes} cannot be "
                                 f"set with {', '.join(alone)}: metrics and reloads would each "
                                 "reach one process only")

    def models(self):
        """The `ModelServerConfig` to serve: `model_config`, else `--model_config_file`
        (ValueError if it does not read or validate), else `--model_name` / `--model_base_path`."""
        if self.model_config is not None:
            return self.model_config
        if self.model_config_file:
            return read_model_config_file(self.model_config_file, self.allowed_model_roots or (
                os.path.dirname(os.path.abspath(self.model_config_file)),))
        return single_model_config(self.model_name, os.path.abspath(self.model_base_path))

    def batching_options(self):
        """`BatchingOptions`, or None when batching is off."""
        if not self.enable_batching:
            return None
        if self.batching_parameters_file:
            return read_batching_parameters(self.batching_parameters_file)
        return BatchingOptions()

    def metrics_path(self):
        """Where REST serves Prometheus metrics, or None."""
        if self.prometheus_path is not None or not self.monitoring_config_file:
            return self.prometheus_path
        return read_monitoring_config(self.monitoring_config_file)


def _url(scheme, host, port):
    return f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"


class ModelServer:
    """REST and gRPC front ends over one model registry, on the running asyncio loop.

    Args:
        options: `ServerOptions`.
        on_config_applied: callable or None, given `ready_message()` each time a changed
            `--model_config_file` is applied. Defaults to None.
        sleep: async callable taking seconds, awaited before each read of
            `--model_config_file` (tests pass one they release). Defaults to `asyncio.sleep`.
        rest_socket: `socket.socket` or None, a listening socket to answer REST on instead
            of binding `rest_port` (an extra REST process's). Defaults to None.

    Attributes:
        registry: `ModelRegistry`, once started.
        executors: dict, `rest` / `grpc` -> the `ThreadPoolExecutor` running that API's
            blocking work (`--rest_api_num_threads`, `--grpc_max_threads` threads).
        rest_url: str or None, `http://host:port` once started.
        grpc_url: str or None, `grpc://host:port` once started.
    """

    def __init__(self, options, on_config_applied=None, sleep=asyncio.sleep, rest_socket=None):
        self.options = options
        self.rest_socket = rest_socket
        self.on_config_applied = on_config_applied or (lambda message: None)
        self._sleep = sleep
        self.registry = None
        self.rest_url = None
        self.grpc_url = None
        self.serving = asyncio.Event()  # set once a version of some model is available
        self.executors = {}
        self._batcher = None
        self._runner = None
        self._grpc_server = None
        self._config_poller = None
        self._served_config = None
        self._rest_processes = None

    def _executor(self, threads, api):
        options = self.options
        executor = concurrent.futures.ThreadPoolExecutor(
            threads or default_threads(options.enable_batching, options.rest_api_processes),
            thread_name_prefix=f"tfgan-{api}")
        self.executors[api] = executor
        return executor

    async def start(self):
        """Loads the models, then binds the ports (OSError if one cannot be bound; ServingError
        for a label of a version that did not load; ValueError for a config file that does not
        read or validate)."""
        options = self.options
        loop = asyncio.get_running_loop()
        config = options.models()
        roots = options.allowed_model_roots or startup_roots(config, options.model_config_file)
        self._served_config = config
        batching = options.batching_options()
        prometheus_path = options.metrics_path()
        self._batcher = Batcher(batching) if batching is not None else None
        self.registry = ModelRegistry(
            config,
            file_system_poll_wait_seconds=options.file_system_poll_wait_seconds,
            batcher=self._batcher,
            max_samples_per_request=options.max_samples_per_request,
            max_num_load_retries=options.max_num_load_retries,
            load_retry_interval_micros=options.load_retry_interval_micros,
            allow_version_labels_for_unavailable_models=(
                options.allow_version_labels_for_unavailable_models),
            warmup_iterations=(max(1, options.num_request_iterations_for_warmup)
                               if options.enable_model_warmup else 0),
            saved_model_tags=options.saved_model_tags,
            allowed_roots=roots,
            on_available=lambda: loop.call_soon_threadsafe(self.serving.set),
        )
        try:
            await loop.run_in_executor(None, self.registry.start)
            if options.rest_port is not None:
                self._runner = web.ServerRunner(rest.create_server(
                    self.registry, self._executor(options.rest_api_num_threads, "rest"), options,
                    prometheus_path), shutdown_timeout=options.grace_seconds)
                await self._runner.setup()
                if self.rest_socket is None:  # the first process: binds, starts the others
                    self.rest_socket, *others = _listening_sockets(
                        options.host, options.rest_port, options.rest_api_processes)
                    if others:
                        self._rest_processes = RestProcesses(options, others)
                await web.SockSite(self._runner, self.rest_socket).start()
                self.rest_url = _url("http", options.host, self.rest_socket.getsockname()[1])
            if options.grpc_port is not None or options.grpc_socket_path:
                await self._start_grpc()
            if self._rest_processes is not None:
                await self._rest_processes.start()
            if options.model_config_file and options.model_config_file_poll_wait_seconds > 0:
                self._config_poller = loop.create_task(self._poll_config_file())
        except BaseException:
            await self.stop()
            raise

    async def _start_grpc(self):
        options = self.options
        self._grpc_server = grpc_api.create_server(
            self.registry, self._executor(options.grpc_max_threads, "grpc"), options)
        addresses = [f"unix:{options.grpc_socket_path}"] if options.grpc_socket_path else []
        if options.grpc_port is not None:
            addresses.append(_url("grpc", options.host, options.grpc_port)[len("grpc://"):])
        for address in addresses:
            try:
                port = self._grpc_server.add_insecure_port(address)
            except RuntimeError as error:
                raise OSError(f"cannot bind gRPC to {address}: {error}") from None
            if not port:
                raise OSError(f"cannot bind gRPC to {address} (in use?)")
        await self._grpc_server.start()
        if options.grpc_port is not None:
            self.grpc_url = _url("grpc", options.host, port)

    def reload_config_file(self):
        """Re-reads `--model_config_file` and applies it if it changed (blocking); returns
        whether it did. A file that does not read or validate is logged and not applied."""
        path = self.options.model_config_file
        try:
            config = read_model_config_file(path, self.registry.allowed_roots)
            if config == self._served_config:
                return False
            self.registry.reload_config(config)
        except (OSError, ValueError, ServingError) as error:  # all or nothing: none applied
            _log.error("not applying %s: %s", path, error)
            return False
        self._served_config = config
        _log.info("applied the model config in %s", path)
        return True

    async def _poll_config_file(self):
        loop = asyncio.get_running_loop()
        while True:
            await self._sleep(self.options.model_config_file_poll_wait_seconds)
            if await loop.run_in_executor(None, self.reload_config_file):
                self.on_config_applied(self.ready_message())

    async def stop(self):
        """Stops accepting requests, lets in-flight ones finish, stops polling and batching."""
        grace = self.options.grace_seconds
        if self._config_poller is not None:
            self._config_poller.cancel()
            self._config_poller = None
        if self._rest_processes is not None:
            await self._rest_processes.stop(grace)
            self._rest_processes = None
        if self._grpc_server is not None:
            await self._grpc_server.stop(grace)
            self._grpc_server = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self.registry is not None:
            self.registry.stop()
        if self._batcher is not None:
            self._batcher.close()
            self._batcher = None
        for executor in self.executors.values():
            executor.shutdown(wait=True)
        self.executors = {}

    def ready_message(self):
        """One line naming the models and the URLs, printed when the server is ready."""
        socket_path = self.options.grpc_socket_path
        rest_url = self.rest_url
        if rest_url and self.options.rest_api_processes > 1:
            rest_url += f" ({self.options.rest_api_processes} processes)"
        urls = " and ".join(
            f"{kind} {url}"
            for kind, url in (("REST", rest_url), ("gRPC", self.grpc_url),
                              ("gRPC", socket_path and f"unix:{socket_path}"))
            if url
        )
        return f"Serving {', '.join(self.registry.model_names)} on {urls}"


def _listening_sockets(host, port, count):
    """`count` TCP sockets listening on `host:port` (OSError naming them if it is taken).

    Several share the port with SO_REUSEPORT, one per REST process: the kernel spreads the
    connections evenly over them (one socket accepted by every process gave one of two
    processes 60-64 of 64 connections). They are bound once the port is known to be free, so
    no other server's sockets share it.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        first = socket.create_server((host, port), family=family, backlog=1024)
        if count == 1:
            return [first]
        port = first.getsockname()[1]
        first.close()
        return [socket.create_server((host, port), family=family, backlog=1024, reuse_port=True)
                for _ in range(count)]
    except OSError as error:
        raise OSError(f"cannot bind REST to {host}:{port}: {error.strerror}") from None


def set_thread_counts(options):
    """Applies `--tensorflow_*_parallelism` to this process's TensorFlow (before it runs ops);
    with several REST processes, each takes its share of the CPUs by default."""
    shared = options.tensorflow_session_parallelism or (
        cpus_per_process(options.rest_api_processes) if options.rest_api_processes > 1 else 0)
    intra = options.tensorflow_intra_op_parallelism or shared
    inter = options.tensorflow_inter_op_parallelism or shared
    try:
        if intra:
            tf.config.threading.set_intra_op_parallelism_threads(intra)
        if inter:
            tf.config.threading.set_inter_op_parallelism_threads(inter)
    except RuntimeError as error:  # TensorFlow already ran ops in this process
        _log.warning("--tensorflow_*_parallelism has no effect: %s", error)


# glibc's `mallopt` parameter: allocations of at least this many bytes are mmapped, so each
# goes back to the system when freed.
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD_BYTES = 128 * 1024


def return_freed_bodies_to_the_system():
    """Has glibc hand every freed allocation of 128 KiB or more back to the system at once.

    By default glibc raises that threshold after each large free (up to 32 MiB), so the
    bodies of refused requests (60 MB of JSON, a gzip body inflated to the limit) stay
    resident once freed: +107 MB after the memory battery of docs/reliability.md, 0.3 MB with
    the threshold fixed. Does nothing where the C library is not glibc.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_BYTES)


def run_server(options, on_ready=print, rest_socket=None, on_started=None):
    """Runs a `ModelServer` until SIGINT or SIGTERM, then stops it gracefully.

    As the stock server, a start where a model's versions are on disk but none loads fails
    (ServingError naming each such model); otherwise `on_ready` is given the ready message once
    a version of some model is available, and again each time a changed `--model_config_file`
    is applied. `rest_socket` and `on_started` (called once the ports listen and what is on
    disk has loaded) serve an extra REST process. Raises what `ModelServer.start` raises.
    """
    set_thread_counts(options)
    return_freed_bodies_to_the_system()

    async def main():
        server = ModelServer(options, on_config_applied=on_ready, rest_socket=rest_socket)
        await server.start()
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stopping.set)
        try:
            failed = server.registry.failed_models()
            if failed:
                raise ServingError.failed_precondition("no version of these models loads: "
                                                       + "; ".join(failed))
            if on_started is not None:
                on_started()
            waits = [loop.create_task(event.wait()) for event in (stopping, server.serving)]
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            for wait in waits:
                wait.cancel()
            if server.serving.is_set() and not stopping.is_set():
                on_ready(server.ready_message())
            await stopping.wait()
        finally:
            await server.stop()

    asyncio.run(main())


class BackgroundServer:
    """A `ModelServer` on its own event loop in a daemon thread; a context manager.

    Args:
        options: `ServerOptions`.
        **server_args: passed on to `ModelServer`.

    Attributes:
        server: `ModelServer`.
    """

    def __init__(self, options, **server_args):
        self.server = ModelServer(options, **server_args)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="tfgan-serving-loop", daemon=True
        )

    rest_url = property(lambda self: self.server.rest_url)
    grpc_url = property(lambda self: self.server.grpc_url)
    registry = property(lambda self: self.server.registry)

    def start(self):
        """Starts the loop and the server; returns once both ports listen."""
        self._thread.start()
        try:
            self.run(self.server.start())
        except BaseException:
            self._close_loop()
            raise
        return self

    def run(self, coroutine):
        """Runs `coroutine` on the server's loop and returns its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    def stop(self):
        """Stops the server gracefully, then the loop."""
        self.run(self.server.stop())
        self._close_loop()

    def _close_loop(self):
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()
