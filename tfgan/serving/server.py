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
import dataclasses
import logging
import signal
import threading

from aiohttp import web

from tfgan.serving import grpc_api, rest
from tfgan.serving.batching import Batcher
from tfgan.serving.core import ModelRegistry, read_model_config_file
from tfgan.serving.errors import ServingError

_log = logging.getLogger("tfgan.serving")

_WORKER_THREADS = 64  # blocking request work; enough to keep many requests queued for batching


@dataclasses.dataclass(frozen=True)
class ServerOptions:
    """What `ModelServer` serves and how.

    Args:
        model_config: `ModelServerConfig` of the models to serve.
        host: str, the address to bind. Defaults to `"127.0.0.1"` (this machine only).
        grpc_port: int or None, the gRPC port; 0 picks a free port, None turns gRPC off.
            Defaults to `8500`.
        rest_port: int or None, the REST port; 0 picks a free port, None turns REST off.
            Defaults to `8501`.
        file_system_poll_wait_seconds: float, seconds between polls of the model base paths.
            Defaults to `1`.
        batching: `BatchingOptions` or None; None runs every request on its own. Defaults to
            None.
        prometheus_path: str or None, where REST serves Prometheus metrics. Defaults to None.
        rest_api_timeout_in_ms: int, REST request time limit; 0 means none. Defaults to
            `30000`.
        max_request_bytes: int, the largest REST request body. Defaults to 64 MiB.
        max_samples_per_request: int, cap on batch sizes and `num_samples`; 0 means no cap.
            Defaults to `0`.
        grace_seconds: float, how long stopping waits for in-flight requests. Defaults to `5`.
        max_num_load_retries: int, retries of a version that failed to load. Defaults to `5`,
            as the stock server.
        load_retry_interval_micros: int, least time between two tries. Defaults to 60 s, as
            the stock server.
        allow_version_labels_for_unavailable_models: bool, let a label name a version that
            is not (yet) available instead of refusing to start. Defaults to `False`, as the
            stock server.
        enable_model_warmup: bool, warm each version up before it serves (see
            `LoadedVersion.warm_up`). Defaults to `True`, as the stock server.
        model_config_file: str or None, the `--model_config_file` path, re-read every
            `model_config_file_poll_wait_seconds`. Defaults to None.
        model_config_file_poll_wait_seconds: float, 0 reads the file once. Defaults to `0`,
            as the stock server.
        rest_max_connections: int, open REST connections past which new ones get `503`; 0
            means no limit. Defaults to `1000`.
        rest_header_timeout_seconds: float, time a REST connection has to send a request's
            headers. Defaults to `30`.
        rest_body_timeout_seconds: float, time a REST client has to send its body. Defaults
            to `30`.
        rest_idle_timeout_seconds: float, idle time after which a REST connection is closed.
            Defaults to `60`.
        grpc_max_concurrent_rpcs: int, gRPC calls in progress past which new ones get
            RESOURCE_EXHAUSTED; 0 means no limit. Defaults to `1000`.
        grpc_idle_timeout_seconds: float, idle time after which a gRPC connection is closed;
            0 keeps it. Defaults to `300`.
    """

    model_config: object
    host: str = "127.0.0.1"
    grpc_port: int = 8500
    rest_port: int = 8501
    file_system_poll_wait_seconds: float = 1.0
    batching: object = None
    prometheus_path: str = None
    rest_api_timeout_in_ms: int = 30000
    max_request_bytes: int = rest.DEFAULT_MAX_REQUEST_BYTES
    max_samples_per_request: int = 0
    grace_seconds: float = 5.0
    max_num_load_retries: int = 5
    load_retry_interval_micros: int = 60_000_000
    allow_version_labels_for_unavailable_models: bool = False
    enable_model_warmup: bool = True
    model_config_file: str = None
    model_config_file_poll_wait_seconds: float = 0.0
    rest_max_connections: int = 1000
    rest_header_timeout_seconds: float = 30.0
    rest_body_timeout_seconds: float = rest.DEFAULT_BODY_TIMEOUT_SECONDS
    rest_idle_timeout_seconds: float = 60.0
    grpc_max_concurrent_rpcs: int = 1000
    grpc_idle_timeout_seconds: float = 300.0

    def __post_init__(self):
        if self.grpc_port is None and self.rest_port is None:
            raise ValueError(
                "at least one of the gRPC and REST ports must be on. "
                f"Received: grpc_port={self.grpc_port}, rest_port={self.rest_port}"
            )
        for name in ("grpc_port", "rest_port"):
            port = getattr(self, name)
            if port is not None and not 0 <= port <= 65535:
                raise ValueError(f"{name} must be in [0, 65535]. Received: {name}={port}")


def _url(scheme, host, port):
    return f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"


class ModelServer:
    """REST and gRPC front ends over one model registry, on the running asyncio loop.

    Args:
        options: `ServerOptions`.

    Attributes:
        registry: `ModelRegistry`, once started.
        rest_url: str or None, `http://host:port` once started.
        grpc_url: str or None, `grpc://host:port` once started.
    """

    def __init__(self, options):
        self.options = options
        self.registry = None
        self.rest_url = None
        self.grpc_url = None
        self._executor = None
        self._batcher = None
        self._runner = None
        self._grpc_server = None
        self._config_poller = None
        self._config_text = None

    async def start(self):
        """Loads the models, then binds the ports.

        Raises:
            OSError: if a port cannot be bound.
            ServingError: if a version label names a version that did not load.
        """
        options = self.options
        self._executor = concurrent.futures.ThreadPoolExecutor(
            _WORKER_THREADS, thread_name_prefix="tfgan-serving"
        )
        self._batcher = Batcher(options.batching) if options.batching is not None else None
        self.registry = ModelRegistry(
            options.model_config,
            file_system_poll_wait_seconds=options.file_system_poll_wait_seconds,
            batcher=self._batcher,
            max_samples_per_request=options.max_samples_per_request,
            max_num_load_retries=options.max_num_load_retries,
            load_retry_interval_micros=options.load_retry_interval_micros,
            allow_version_labels_for_unavailable_models=(
                options.allow_version_labels_for_unavailable_models),
            enable_model_warmup=options.enable_model_warmup,
        )
        try:
            await asyncio.get_running_loop().run_in_executor(self._executor, self.registry.start)
            if options.rest_port is not None:
                self._runner = web.ServerRunner(rest.create_server(
                    self.registry, self._executor,
                    rest_api_timeout_in_ms=options.rest_api_timeout_in_ms,
                    max_request_bytes=options.max_request_bytes,
                    prometheus_path=options.prometheus_path,
                    body_timeout_seconds=options.rest_body_timeout_seconds,
                    max_connections=options.rest_max_connections,
                    header_timeout_seconds=min(options.rest_header_timeout_seconds,
                                               options.rest_idle_timeout_seconds),
                ), shutdown_timeout=options.grace_seconds)
                await self._runner.setup()
                await web.TCPSite(self._runner, options.host, options.rest_port).start()
                port = self._runner.addresses[0][1]
                self.rest_url = _url("http", options.host, port)
            if options.grpc_port is not None:
                self._grpc_server = grpc_api.create_server(
                    self.registry, self._executor,
                    max_concurrent_rpcs=options.grpc_max_concurrent_rpcs or None,
                    idle_timeout_seconds=options.grpc_idle_timeout_seconds,
                )
                address = _url("grpc", options.host, options.grpc_port)[len("grpc://"):]
                try:
                    port = self._grpc_server.add_insecure_port(address)
                except RuntimeError as error:
                    raise OSError(f"cannot bind gRPC to {address}: {error}") from None
                if not port:
                    raise OSError(f"cannot bind gRPC to {address}")
                await self._grpc_server.start()
                self.grpc_url = _url("grpc", options.host, port)
            if options.model_config_file and options.model_config_file_poll_wait_seconds > 0:
                self._config_poller = asyncio.get_running_loop().create_task(
                    self._poll_config_file())
        except BaseException:
            await self.stop()
            raise

    def reload_config_file(self):
        """Re-reads `--model_config_file` and applies it if it changed (blocking).

        As the stock server's `--model_config_file_poll_wait_seconds`: models added, removed
        or changed (versions, labels) take effect; a file that does not read or validate is
        logged and the running config is kept.

        Returns:
            bool, whether a new config was applied.
        """
        path = self.options.model_config_file
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
            if text == self._config_text:
                return False
            self.registry.reload_config(read_model_config_file(path))
        except (OSError, ValueError, ServingError) as error:
            _log.error("not applying %s: %s", path, error)
            return False
        self._config_text = text
        _log.info("applied the model config in %s", path)
        return True

    async def _poll_config_file(self):
        loop = asyncio.get_running_loop()
        with open(self.options.model_config_file, encoding="utf-8") as f:
            self._config_text = f.read()  # what start() served
        while True:
            await asyncio.sleep(self.options.model_config_file_poll_wait_seconds)
            await loop.run_in_executor(self._executor, self.reload_config_file)

    async def stop(self):
        """Stops accepting requests, lets in-flight ones finish, stops polling and batching."""
        grace = self.options.grace_seconds
        if self._config_poller is not None:
            self._config_poller.cancel()
            self._config_poller = None
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
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    def ready_message(self):
        """One line naming the models and the URLs, printed when the server is ready."""
        urls = " and ".join(
            f"{kind} {url}"
            for kind, url in (("REST", self.rest_url), ("gRPC", self.grpc_url))
            if url
        )
        return f"Serving {', '.join(self.registry.model_names)} on {urls}"


def run_server(options, on_ready=print):
    """Runs a `ModelServer` until SIGINT or SIGTERM, then stops it gracefully.

    Args:
        options: `ServerOptions`.
        on_ready: callable taking the ready message (`ModelServer.ready_message`). Defaults
            to `print`.

    Raises:
        OSError, ServingError: as `ModelServer.start`.
    """

    async def main():
        server = ModelServer(options)
        await server.start()
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stopping.set)
        on_ready(server.ready_message())
        try:
            await stopping.wait()
        finally:
            await server.stop()

    asyncio.run(main())


class BackgroundServer:
    """A `ModelServer` on its own event loop in a daemon thread; a context manager.

    Args:
        options: `ServerOptions`.

    Attributes:
        server: `ModelServer`.
    """

    def __init__(self, options):
        self.server = ModelServer(options)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="tfgan-serving-loop", daemon=True
        )

    @property
    def rest_url(self):
        """str or None, `http://host:port` once started."""
        return self.server.rest_url

    @property
    def grpc_url(self):
        """str or None, `grpc://host:port` once started."""
        return self.server.grpc_url

    @property
    def registry(self):
        """`ModelRegistry`, once started."""
        return self.server.registry

    def start(self):
        """Starts the loop and the server; returns once both ports listen."""
        self._thread.start()
        try:
            asyncio.run_coroutine_threadsafe(self.server.start(), self._loop).result()
        except BaseException:
            self._close_loop()
            raise
        return self

    def stop(self):
        """Stops the server gracefully, then the loop."""
        asyncio.run_coroutine_threadsafe(self.server.stop(), self._loop).result()
        self._close_loop()

    def _close_loop(self):
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()
