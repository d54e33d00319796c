"""The embedded model server: TF Serving's REST and gRPC APIs over SavedModel directories.

`ModelRegistry` (core) loads and polls versions and runs signatures; `rest` and `grpc_api` are
thin edges over it; `codec` reads and writes JSON exactly as the stock server;
`batching` gathers concurrent requests; `server` runs both APIs on one event loop; `client`
talks to any TF Serving server over either API.
"""

from tfgan.serving.batching import Batcher, BatchingOptions, read_batching_parameters
from tfgan.serving.client import ServingClient, connect
from tfgan.serving.core import (
    LoadedVersion,
    ModelRegistry,
    ServingError,
    read_model_config_file,
    single_model_config,
)
from tfgan.serving.rest import read_monitoring_config
from tfgan.serving.server import BackgroundServer, ModelServer, ServerOptions, run_server
