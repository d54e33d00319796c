"""The embedded model server: TF Serving's REST and gRPC APIs over SavedModel directories.

`ModelRegistry` (core) loads and polls versions and runs signatures; `rest` and `grpc_api` are
thin edges over it; `json_request` reads JSON requests and `json_response` writes answers
exactly as the stock server; `batching` gathers concurrent requests; `server` runs both APIs
on one event loop; `client` talks to any TF Serving server over either API.

Names are imported on first use, so `from tfgan.serving import connect` (a client) loads the
client, `errors` and `protocol` only, and none of the server's modules.
"""

import importlib

_EXPORTS = {
    "Batcher": "batching",
    "BatchingOptions": "batching",
    "read_batching_parameters": "batching",
    "ServingClient": "client",
    "connect": "client",
    "read_model_config_file": "configs",
    "single_model_config": "configs",
    "ModelRegistry": "core",
    "ServingError": "errors",
    "read_monitoring_config": "configs",
    "BackgroundServer": "server",
    "ModelServer": "server",
    "ServerOptions": "server",
    "run_server": "server",
    "LoadedVersion": "versions",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'tfgan.serving' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"tfgan.serving.{module}"), name)
    globals()[name] = value
    return value
