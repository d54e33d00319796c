"""The deployment files in serving/ parse as the stock server's protos and agree with each other."""

import re
from pathlib import Path

import pytest
from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2

from tfgan.serving import configs
from tfgan.serving.batching import BatchingOptions

SERVING_DIR = Path(__file__).resolve().parents[1] / "serving"
CONFIG_FILES = ("models.config", "batching.config", "monitoring.config")


def parse_text_proto(name, message_class):
    return text_format.Parse((SERVING_DIR / name).read_text(), message_class())


def command_flags(text):
    """The `--flag=value` items of a YAML list, as a dict."""
    return dict(re.findall(r'^\s*- "--([a-z_]+)=([^"]*)"\s*$', text, flags=re.MULTILINE))


def test_models_config_serves_two_models_with_labels_on_served_versions():
    config = parse_text_proto("models.config", model_server_config_pb2.ModelServerConfig)
    models = {model.name: model for model in config.model_config_list.config}
    assert set(models) == {"mnist_mlp", "ring"}
    for name, model in models.items():
        assert model.base_path == f"/models/{name}"
        assert model.model_platform == "tensorflow"
    mnist = models["mnist_mlp"]
    assert list(mnist.model_version_policy.specific.versions) == [1, 2]
    assert dict(mnist.version_labels) == {"stable": 1, "canary": 2}
    assert models["ring"].model_version_policy.WhichOneof("policy_choice") is None


def test_batching_config_parses_and_follows_the_cpu_guide():
    parameters_class = configs.BatchingParameters
    parameters = parse_text_proto("batching.config", parameters_class)
    assert parameters.max_batch_size.value >= 64 * 16  # 64 clients x 64 samples in 4 batches
    assert parameters.batch_timeout_micros.value <= 10_000  # the guide's CPU range
    assert parameters.num_batch_threads.value >= 1
    assert 1 <= parameters.max_enqueued_batches.value <= 16  # online serving: bounded queue
    assert list(parameters.allowed_batch_sizes) == []  # padding would only waste rows
    BatchingOptions.from_proto(parameters)  # valid for the embedded server too


def test_batching_config_explains_which_exports_it_can_serve():
    text = (SERVING_DIR / "batching.config").read_text()
    assert "sample_png" in text and "batchable_only=True" in text and "--batchable_only" in text
    # It points at the section that explains it, which exists.
    assert "serving/README.md, section 5" in text
    assert "## 5. Server-side batching" in (SERVING_DIR / "README.md").read_text()


def test_monitoring_config_enables_prometheus_on_the_documented_path():
    config_class = configs.MonitoringConfig
    config = parse_text_proto("monitoring.config", config_class)
    assert config.prometheus_config.enable
    assert config.prometheus_config.path == "/monitoring/prometheus/metrics"


def test_config_messages_refuse_unknown_fields_and_wrong_types():
    parameters_class = configs.BatchingParameters
    with pytest.raises(text_format.ParseError):
        text_format.Parse("max_batch_size: 64", parameters_class())  # a wrapper, not an int
    with pytest.raises(text_format.ParseError):
        text_format.Parse("max_batch_sise { value: 64 }", parameters_class())


def test_docker_compose_mounts_every_config_file_it_names():
    text = (SERVING_DIR / "docker-compose.yml").read_text()
    assert re.search(r'image: "tensorflow/serving:', text)
    assert '"8500:8500"' in text and '"8501:8501"' in text
    mounted = re.findall(r'"\./([\w.]+):(/config/[\w.]+):ro"', text)
    mounts = {container: host for host, container in mounted}
    assert mounts, "no config files are mounted"
    for container_path, host_name in mounts.items():
        assert container_path == f"/config/{host_name}"
        assert (SERVING_DIR / host_name).is_file()
    named = set(re.findall(r"=(/config/[\w.]+)", text))
    assert named == {f"/config/{name}" for name in CONFIG_FILES}
    assert named <= set(mounts)
    assert re.search(r'"\$\{TFGAN_EXPORT_BASE:-[^}]+\}:/models:ro"', text)


def test_kubernetes_deployment_runs_the_compose_server_flags():
    compose = (SERVING_DIR / "docker-compose.yml").read_text()
    deployment = (SERVING_DIR / "kubernetes" / "deployment.yaml").read_text()
    default_service = compose.split("tfserving-batching:")[0]
    assert command_flags(deployment) == command_flags(default_service)
    assert command_flags(deployment)["model_config_file"] == "/config/models.config"


def test_kubernetes_service_targets_the_deployment_ports():
    deployment = (SERVING_DIR / "kubernetes" / "deployment.yaml").read_text()
    service = (SERVING_DIR / "kubernetes" / "service.yaml").read_text()
    container_ports = dict(
        re.findall(r"- name: (\w+)\n\s+containerPort: (\d+)", deployment)
    )
    assert container_ports == {"grpc": "8500", "http": "8501"}
    service_ports = re.findall(r"port: (\d+)\n\s+targetPort: (\w+)", service)
    assert sorted(service_ports) == [("8500", "grpc"), ("8501", "http")]
    assert "app: tfgan-serving" in service and "app: tfgan-serving" in deployment


def test_yaml_files_have_the_expected_structure():
    yaml = pytest.importorskip("yaml", reason="pyyaml is not installed; text checks above only")
    compose = yaml.safe_load((SERVING_DIR / "docker-compose.yml").read_text())
    server = compose["services"]["tfserving"]
    assert server["image"].startswith("tensorflow/serving:")
    assert {"8500:8500", "8501:8501"} <= set(server["ports"])
    assert "--monitoring_config_file=/config/monitoring.config" in server["command"]
    batching = compose["services"]["tfserving-batching"]
    assert "--enable_batching=true" in batching["command"]
    deployment = yaml.safe_load((SERVING_DIR / "kubernetes" / "deployment.yaml").read_text())
    service = yaml.safe_load((SERVING_DIR / "kubernetes" / "service.yaml").read_text())
    template = deployment["spec"]["template"]
    assert deployment["spec"]["selector"]["matchLabels"] == template["metadata"]["labels"]
    assert service["spec"]["selector"] == template["metadata"]["labels"]
    (container,) = template["spec"]["containers"]
    assert container["image"].startswith("tensorflow/serving:")
    mounted = {mount["name"] for mount in container["volumeMounts"]}
    assert mounted == {volume["name"] for volume in template["spec"]["volumes"]}


def test_readme_describes_every_deployment_file():
    readme = (SERVING_DIR / "README.md").read_text()
    for path in SERVING_DIR.rglob("*"):
        if path.is_file() and path.name != "README.md":
            assert f"`{path.relative_to(SERVING_DIR)}`" in readme, path


def test_autoscaler_and_training_job_fit_the_deployment_and_the_strategy():
    yaml = pytest.importorskip("yaml", reason="pyyaml is not installed")
    kubernetes = SERVING_DIR / "kubernetes"
    deployment = yaml.safe_load((kubernetes / "deployment.yaml").read_text())
    hpa = yaml.safe_load((kubernetes / "hpa.yaml").read_text())
    assert hpa["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    assert hpa["spec"]["minReplicas"] >= deployment["spec"]["replicas"]
    # CPU utilisation needs a CPU request on the serving container.
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"]["requests"]["cpu"]
    service, job = yaml.safe_load_all((kubernetes / "train-job.yaml").read_text())
    spec = job["spec"]
    assert spec["completionMode"] == "Indexed" and spec["completions"] == spec["parallelism"]
    pod = spec["template"]["spec"]
    assert pod["subdomain"] == service["metadata"]["name"] and service["spec"]["clusterIP"] == "None"
    command = pod["containers"][0]["args"][0]
    workers = re.findall(r'\\"([\w.-]+):(\d+)\\"', command)
    # One worker per completion index, each the stable pod name under the headless Service.
    assert [host for host, _ in workers] == [
        f"{job['metadata']['name']}-{i}.{service['metadata']['name']}"
        for i in range(spec["completions"])]
    assert {int(port) for _, port in workers} == {service["spec"]["ports"][0]["port"]}
    assert "--strategy=multi_worker" in command and "${JOB_COMPLETION_INDEX}" in command
