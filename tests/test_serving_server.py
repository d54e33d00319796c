"""tfgan.serving.server: options, and --model_config_file re-read while serving."""

import asyncio
import json
import os
import subprocess
import sys
import threading
import urllib.error
import urllib.request

import pytest

from serving_fixtures import MODEL_NAME, exported_model, http, install_version
from tfgan.serving import BackgroundServer, ServerOptions, ServingError, read_model_config_file
from tfgan.serving.server import default_threads


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


def test_a_config_file_reload_is_all_or_nothing(tmp_path, tmp_path_factory):
    base = tmp_path / MODEL_NAME
    install_version(exported_model(tmp_path_factory, 1), base, 1)
    other = tmp_path / "other"
    install_version(exported_model(tmp_path_factory, 2), other, 1)
    path = tmp_path / "models.config"
    served = config_text(base)
    path.write_text(served)
    options = ServerOptions(grpc_port=None, rest_port=0, file_system_poll_wait_seconds=-1,
                            model_config_file=str(path))
    with BackgroundServer(options) as running:
        # Drops toy, adds other, and labels a version of other that does not exist.
        path.write_text(f'model_config_list {{ config {{ name: "other" base_path: "{other}" '
                        'version_labels { key: "next" value: 9 } } }')
        assert not running.server.reload_config_file()
        assert running.registry.model_names == [MODEL_NAME]
        assert http("GET", f"{running.rest_url}/v1/models/{MODEL_NAME}")[0] == 200
        path.write_text(served)  # the old text again: still served, nothing to apply
        assert not running.server.reload_config_file()
        assert http("GET", f"{running.rest_url}/v1/models/{MODEL_NAME}")[0] == 200


def test_config_files_linked_out_of_the_allowed_roots_are_refused(tmp_path, tmp_path_factory):
    base = tmp_path / "models" / MODEL_NAME
    install_version(exported_model(tmp_path_factory, 1), base, 1)
    outside = tmp_path / "elsewhere.config"
    outside.write_text(config_text(base))
    (tmp_path / "models" / "models.config").symlink_to(outside)
    options = ServerOptions(grpc_port=None, rest_port=0, file_system_poll_wait_seconds=-1,
                            model_config_file=str(tmp_path / "models" / "models.config"))
    with pytest.raises(ServingError, match="--model_config_file .* is outside the directories"):
        BackgroundServer(options).start()


def test_cors_headers_when_enabled(tmp_path, tmp_path_factory):
    base = tmp_path / MODEL_NAME
    install_version(exported_model(tmp_path_factory, 1), base, 1)
    for cors in (False, True):
        options = ServerOptions(model_config_file="", model_base_path=str(base),
                                model_name=MODEL_NAME, grpc_port=None, rest_port=0,
                                file_system_poll_wait_seconds=-1,
                                rest_api_enable_cors_support=cors)
        with BackgroundServer(options) as running:
            for url in (f"{running.rest_url}/v1/models/{MODEL_NAME}",
                        f"{running.rest_url}/v1/models/nothing"):
                request = urllib.request.Request(url)
                try:
                    headers = urllib.request.urlopen(request, timeout=30).headers
                except urllib.error.HTTPError as error:
                    headers = error.headers
                assert (headers.get("Access-Control-Allow-Origin") == "*") == cors
                assert (headers.get("Access-Control-Allow-Methods") == "POST, GET") == cors


def test_the_server_is_serving_once_a_version_is_available(tmp_path, tmp_path_factory):
    base = tmp_path / MODEL_NAME
    base.mkdir()
    options = ServerOptions(model_base_path=str(base), model_name=MODEL_NAME, grpc_port=None,
                            rest_port=0, file_system_poll_wait_seconds=-1)
    with BackgroundServer(options) as running:
        assert not running.server.serving.is_set()
        install_version(exported_model(tmp_path_factory, 1), base, 1)
        running.registry.poll_once()
        running.run(asyncio.wait_for(running.server.serving.wait(), 30))
        assert http("GET", f"{running.rest_url}/v1/models/{MODEL_NAME}")[0] == 200


def threads_named(prefix):
    return sum(thread.name.startswith(prefix + "_") for thread in threading.enumerate())


CPUS = len(os.sched_getaffinity(0))


@pytest.mark.parametrize("flags, rest_threads, grpc_threads", [
    ({"rest_api_num_threads": 2, "grpc_max_threads": 3}, 2, 3),
    ({}, CPUS, CPUS),  # 0, the default: one per CPU
    ({"enable_batching": True}, 4 * CPUS, 4 * CPUS),  # room to wait for a batch, as stock
])
def test_each_api_runs_its_work_on_as_many_threads_as_its_flag(
        tmp_path, tmp_path_factory, flags, rest_threads, grpc_threads):
    base = tmp_path / MODEL_NAME
    install_version(exported_model(tmp_path_factory, 1), base, 1)
    options = ServerOptions(model_base_path=str(base), model_name=MODEL_NAME, grpc_port=0,
                            rest_port=0, file_system_poll_wait_seconds=-1, **flags)
    with BackgroundServer(options) as running:
        for api, threads in (("rest", rest_threads), ("grpc", grpc_threads)):
            # Work that blocks until released: no thread becomes idle, so each submit starts a
            # thread until the pool's limit, and the rest queue.
            release = threading.Event()
            futures = [running.server.executors[api].submit(release.wait)
                       for _ in range(threads + 5)]
            assert threads_named(f"tfgan-{api}") == threads
            release.set()
            assert all(future.result() for future in futures)


def test_rest_processes_share_the_cpus_of_the_default_thread_counts():
    assert default_threads(False, processes=2) == max(1, CPUS // 2)
    assert default_threads(False, processes=CPUS + 1) == 1
    # Threads waiting for their batch: four per CPU of the machine in each process.
    assert default_threads(True, processes=2) == 4 * CPUS


def test_tensorflow_parallelism_flags_set_tensorflows_thread_counts():
    # In a fresh process: TensorFlow takes thread counts only before it runs an op.
    script = """
import tensorflow as tf
from tfgan.serving import ServerOptions
from tfgan.serving.server import set_thread_counts
threading = tf.config.threading
for flags in ({"tensorflow_session_parallelism": 4},
              {"tensorflow_session_parallelism": 4, "tensorflow_intra_op_parallelism": 2},
              {"tensorflow_inter_op_parallelism": 3},
              {"rest_api_processes": 2},  # each of 2 processes takes half the CPUs
              {"rest_api_processes": 2, "tensorflow_inter_op_parallelism": 3}):
    set_thread_counts(ServerOptions(model_base_path="/models/m", **flags))
    print(threading.get_intra_op_parallelism_threads(),
          threading.get_inter_op_parallelism_threads())
tf.constant(1.0) + 1.0  # TensorFlow has started: too late, logged
set_thread_counts(ServerOptions(model_base_path="/models/m", tensorflow_session_parallelism=1))
print(threading.get_intra_op_parallelism_threads(), threading.get_inter_op_parallelism_threads())
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    half = max(1, CPUS // 2)
    assert done.stdout.split("\n") == ["4 4", "2 4", "2 3", f"{half} {half}", f"{half} 3",
                                        f"{half} 3", ""]
    assert "--tensorflow_*_parallelism has no effect" in done.stderr
