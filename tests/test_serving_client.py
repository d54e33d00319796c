"""tfgan.serving.client: one interface, the same answers over REST and gRPC."""

import os
import subprocess
import sys

import numpy as np
import pytest
from tensorflow.core.protobuf import error_codes_pb2 as codes
from tensorflow_serving.apis import get_model_metadata_pb2

from serving_fixtures import (
    MODEL_NAME,
    build_networks,
    exported_model,
    free_port,
    install_version,
    latent,
    model_config,
)
from tfgan.serving import BackgroundServer, ServerOptions, ServingError, connect
from tfgan.serving.client import GrpcClient, RestClient


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    base = tmp_path_factory.mktemp("client") / MODEL_NAME
    install_version(exported_model(tmp_path_factory, 1), base, 1)
    options = ServerOptions(model_config(base), grpc_port=0, rest_port=0,
                            file_system_poll_wait_seconds=-1)
    with BackgroundServer(options) as running:
        yield running


@pytest.fixture(params=["rest", "grpc"])
def client(request, server):
    url = server.rest_url if request.param == "rest" else server.grpc_url
    with connect(url) as opened:
        yield opened


def test_connect_picks_the_transport(server):
    assert isinstance(connect(server.rest_url), RestClient)
    with connect(server.grpc_url) as grpc_client:
        assert isinstance(grpc_client, GrpcClient)
    with pytest.raises(ValueError, match="must start with http://, https:// or grpc://"):
        connect("ftp://127.0.0.1:1")


def test_predict_casts_inputs_and_returns_numpy(client):
    outputs = client.predict(MODEL_NAME, {"num_samples": 3, "seed": 7}, signature_name="sample")
    assert outputs["z"].dtype == np.float32 and outputs["samples"].shape == (3, 4, 4, 1)
    np.testing.assert_allclose(outputs["z"], latent(3, 7).numpy(), rtol=1e-6)
    generator, _ = build_networks(1)
    np.testing.assert_allclose(outputs["samples"], generator(outputs["z"]).numpy(), rtol=1e-5)


def test_single_output_and_version(client):
    z = np.array([[0.5, -0.5, 0.0]])  # float64 in, cast to the signature's float32
    outputs = client.predict(MODEL_NAME, {"z": z}, version=1)
    assert list(outputs) == ["samples"] and outputs["samples"].dtype == np.float32
    generator, _ = build_networks(1)
    np.testing.assert_allclose(outputs["samples"], generator(z.astype(np.float32)).numpy(),
                               rtol=1e-5)


def test_bytes_outputs(client):
    png = client.predict(MODEL_NAME, {"num_samples": 2, "seed": 1},
                         signature_name="sample_png")["png_bytes"]
    assert png.shape == (2,) and png.dtype == object and png[1].startswith(b"\x89PNG")


def test_both_transports_answer_the_same(server):
    with connect(server.rest_url) as rest_client, connect(server.grpc_url) as grpc_client:
        seeds = {"seeds": [4, 2, 4]}
        rest_out = rest_client.predict(MODEL_NAME, seeds, signature_name="sample_seeds")
        grpc_out = grpc_client.predict(MODEL_NAME, seeds, signature_name="sample_seeds")
        for name in ("samples", "z"):
            np.testing.assert_array_equal(rest_out[name], grpc_out[name])
        np.testing.assert_array_equal(rest_out["z"][0], rest_out["z"][2])  # one row per seed
        assert rest_client.status(MODEL_NAME) == grpc_client.status(MODEL_NAME)
        rest_metadata, grpc_metadata = (c.metadata(MODEL_NAME) for c in (rest_client, grpc_client))
        assert rest_metadata.model_spec == grpc_metadata.model_spec
        assert signature_map(rest_metadata) == signature_map(grpc_metadata)


def signature_map(metadata):
    unpacked = get_model_metadata_pb2.SignatureDefMap()
    assert metadata.metadata["signature_def"].Unpack(unpacked)
    return unpacked


def test_status_and_metadata(client):
    [status] = client.status(MODEL_NAME).model_version_status
    assert (status.version, status.state) == (1, 30)
    metadata = client.metadata(MODEL_NAME, version=1)
    assert metadata.model_spec.version.value == 1
    assert "sample_png" in signature_map(metadata).signature_def


def test_errors_carry_the_servers_code_and_message(client):
    with pytest.raises(ServingError) as caught:
        client.predict("nope", {"z": np.zeros((1, 3))})
    assert (caught.value.code, caught.value.message) == (
        codes.NOT_FOUND, "Servable not found for request: Latest(nope)")
    with pytest.raises(ServingError) as caught:
        client.predict(MODEL_NAME, {"z": np.zeros((1, 3))}, signature_name="nope")
    assert caught.value.code == codes.FAILED_PRECONDITION
    with pytest.raises(ServingError) as caught:
        client.predict(MODEL_NAME, {"z": np.zeros((1, 5))})
    assert caught.value.code == codes.INVALID_ARGUMENT
    assert "Matrix size-incompatible" in caught.value.message


@pytest.mark.parametrize("scheme", ["http", "grpc"])
def test_an_unreachable_server_is_unavailable(scheme):
    with connect(f"{scheme}://127.0.0.1:{free_port()}", timeout=5) as unreachable:
        with pytest.raises(ServingError) as caught:
            unreachable.status(MODEL_NAME)
    assert caught.value.code == codes.UNAVAILABLE
    assert caught.value.message.startswith(f"cannot reach {scheme}://127.0.0.1:")


def test_the_client_imports_no_server_module():
    code = ("import sys; from tfgan.serving import connect, ServingError; "
            "loaded = sorted(m for m in sys.modules if m.startswith('tfgan.serving.')); "
            "print(','.join(loaded))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                            check=True)
    assert result.stdout.split()[-1].split(",") == [
        "tfgan.serving.client", "tfgan.serving.errors", "tfgan.serving.protocol"]
