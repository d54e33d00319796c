"""tfgan.serving.server: options, and --model_config_file re-read while serving."""

import json

import pytest

from serving_fixtures import MODEL_NAME, exported_model, http, install_version
from tfgan.serving import BackgroundServer, ServerOptions, read_model_config_file


def config_text(base, labels=""):
    return (f'model_config_list {{ config {{ name: "{MODEL_NAME}" base_path: "{base}"'
            f' model_platform: "tensorflow" model_version_policy {{ all {{}} }} {labels} }} }}')


def test_a_changed_model_config_file_is_applied_and_a_broken_one_is_not(tmp_path,
                                                                         tmp_path_factory):
    base = tmp_path / MODEL_NAME
    install_version(exported_model(tmp_path_factory, 1), base, 1)
    install_version(exported_model(tmp_path_factory, 2), base, 2)
    path = tmp_path / "models.config"
    path.write_text(config_text(base))
    options = ServerOptions(read_model_config_file(str(path)), grpc_port=None, rest_port=0,
                            file_system_poll_wait_seconds=-1, model_config_file=str(path))
    with BackgroundServer(options) as running:
        label_url = f"{running.rest_url}/v1/models/{MODEL_NAME}/labels/canary/metadata"
        status, _, text = http("GET", label_url)
        assert (status, json.loads(text)) == (
            400, {"error": "Unrecognized servable version label: canary"})
        path.write_text(config_text(base, 'version_labels { key: "canary" value: 2 }'))
        assert running.server.reload_config_file()
        assert json.loads(http("GET", label_url)[2])["model_spec"]["version"] == "2"
        assert not running.server.reload_config_file()  # unchanged: nothing to apply
        path.write_text("model_config_list { config { nam")  # half-written: kept as it was
        assert not running.server.reload_config_file()
        assert http("GET", label_url)[0] == 200


def test_labels_for_unavailable_versions_need_the_flag(tmp_path, tmp_path_factory):
    base = tmp_path / MODEL_NAME
    install_version(exported_model(tmp_path_factory, 1), base, 1)
    path = tmp_path / "models.config"
    path.write_text(config_text(base, 'version_labels { key: "next" value: 7 }'))
    config = read_model_config_file(str(path))
    refused = ServerOptions(config, grpc_port=None, rest_port=0, file_system_poll_wait_seconds=-1)
    with pytest.raises(Exception, match="Request to assign label to version 7"):
        BackgroundServer(refused).start()
    allowed = ServerOptions(config, grpc_port=None, rest_port=0, file_system_poll_wait_seconds=-1,
                            allow_version_labels_for_unavailable_models=True)
    with BackgroundServer(allowed) as running:
        url = f"{running.rest_url}/v1/models/{MODEL_NAME}/labels/next:predict"
        assert http("POST", url, '{"instances": [[0, 0, 0]]}')[0] == 404
