"""`--strategy`: one flag moves training from one device to many, and trains the same.

Strategies with several replicas need devices configured before TensorFlow starts, so those
runs happen in fresh processes: two logical CPU devices for `mirrored`, two worker processes
on 127.0.0.1 for `multi_worker`.
"""

import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest
import tensorflow as tf

from script_fixtures import write_random_mnist
from serving_fixtures import free_port
from tfgan import distribute
from tfgan.config import ConfigError, TrainConfig

TOY_FLAGS = ["--dataset=gaussian_1d", "--architecture=mlp", "--z_dim=1", "--g_hidden_units=8",
             "--d_hidden_units=8", "--activation=leaky_relu", "--output_activation=linear",
             "--batch_size=32", "--num_grid_samples=50", "--seed=1"]
ENV = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "TF_CPP_MIN_LOG_LEVEL": "2"}


@pytest.mark.parametrize("tf_config, chief", [
    ({}, True),
    ({"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 0}}, True),
    ({"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 1}}, False),
    ({"cluster": {"chief": ["c:0"], "worker": ["a:1"]}, "task": {"type": "worker", "index": 0}},
     False),
    ({"cluster": {"chief": ["c:0"], "worker": ["a:1"]}, "task": {"type": "chief", "index": 0}},
     True),
])
def test_the_chief_is_the_chief_task_or_else_worker_0(tf_config, chief):
    assert distribute.is_chief(tf_config) is chief
    checkpoints = distribute.worker_checkpoint_dir("run/checkpoints", tf_config)
    assert (checkpoints == "run/checkpoints") is chief


@pytest.mark.parametrize("name, environ, message", [
    ("parameter_server", {}, "--strategy=parameter_server is not supported"),
    ("multi_worker", {}, "--strategy=multi_worker needs the TF_CONFIG environment variable"),
    ("multi_worker", {"TF_CONFIG": "{bad"}, "TF_CONFIG is not JSON"),
    ("multi_worker", {"TF_CONFIG": "[1]"}, "TF_CONFIG must be a JSON object"),
    ("several", {}, "--strategy must be one of default, mirrored, multi_worker"),
])
def test_strategies_that_cannot_be_made_say_why(name, environ, message, monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(distribute.StrategyError, match=message):
        distribute.make_strategy(name)


def test_default_is_tensorflows_default_strategy():
    assert distribute.make_strategy("default") is tf.distribute.get_strategy()
    with pytest.raises(ConfigError, match="--strategy must be one of"):
        TrainConfig(workdir="run", strategy="tpu").validate()


_MIRRORED = textwrap.dedent(
    """
    import sys
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import numpy as np
    from tfgan import training
    from tfgan.config import ConfigError, TrainConfig
    from tfgan.presets import parse_flags

    def config(*args):
        return TrainConfig(**parse_flags([*sys.argv[2:], *args]))

    common = ["--steps=20", "--sample_every=10", "--log_every=10", "--checkpoint_every=10",
              "--ema_decay=0.9"]
    weights = {}
    for strategy in ("default", "mirrored"):
        gan, _ = training.train(config(*common, f"--strategy={strategy}",
                                    f"--workdir={sys.argv[1]}/{strategy}"))
        replicas = gan.distribute_strategy.num_replicas_in_sync
        print(strategy, replicas, int(gan.step.numpy()))
        weights[strategy] = [w.numpy() for w in gan.generator.weights
                             + gan.discriminator.weights + gan.ema_generator.weights]
    for one, two in zip(weights["default"], weights["mirrored"]):
        np.testing.assert_allclose(one, two, rtol=1e-5, atol=1e-6)
    for args, message in ((["--batch_size=33"], "must split evenly across the 2 replicas"),
                          (["--schedule=worse"], "--schedule=worse needs one replica")):
        try:
            training.train(config(*common, *args, "--strategy=mirrored",
                                  f"--workdir={sys.argv[1]}/refused"))
            sys.exit(f"{args} trained")
        except ConfigError as error:
            assert message in str(error), error
    print("OK")
    """
)


# The conditional ring: labels split across the replicas with their samples.
CONDITIONAL_FLAGS = [*TOY_FLAGS, "--dataset=ring", "--z_dim=2", "--conditional",
                     "--gradient_penalty=r1", "--gradient_penalty_weight=0.1"]


@pytest.mark.parametrize("flags", [TOY_FLAGS, CONDITIONAL_FLAGS], ids=["toy", "conditional"])
def test_mirrored_over_two_devices_trains_the_same_weights_as_one(tmp_path, flags):
    # The global batch of 32 splits into 16 per replica; every replica draws its rows of the
    # same global z, and the optimizers sum the replicas' halves of the mean loss.
    result = subprocess.run([sys.executable, "-c", _MIRRORED, str(tmp_path), *flags],
                            capture_output=True, text=True, timeout=300, env=ENV)
    assert result.returncode == 0, result.stderr[-3000:]
    summary = [line for line in result.stdout.splitlines()
               if line.split(" ")[0] in ("default", "mirrored", "OK")]
    assert summary == ["default 1 20", "mirrored 2 20", "OK"]
    assert os.path.exists(tmp_path / "mirrored" / "checkpoints" / "ckpt-20.index")
    assert not os.path.exists(tmp_path / "refused")


_BATCH_NORM = textwrap.dedent(
    """
    import sys
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import numpy as np
    from tfgan import training
    from tfgan.config import TrainConfig
    from tfgan.presets import parse_flags

    args = ["--dataset=mnist", f"--mnist_path={sys.argv[2]}", "--architecture=dcgan",
            "--width=0.125", "--output_activation=tanh", "--z_dim=8", "--batch_size=16",
            "--steps=4", "--sample_every=4", "--log_every=4", "--checkpoint_every=4",
            "--num_grid_samples=4", "--ema_decay=0.5", "--dropout=0", "--seed=1"]
    weights = {}
    for strategy in ("default", "mirrored"):
        gan, _ = training.train(TrainConfig(**parse_flags(
            [*args, f"--strategy={strategy}", f"--workdir={sys.argv[1]}/{strategy}"])))
        weights[strategy] = [w.numpy() for w in gan.generator.weights
                             + gan.ema_generator.weights]
    for variable in gan.generator.non_trainable_weights:  # the moving statistics
        first, second = (copy.numpy() for copy in variable.value.values)
        np.testing.assert_array_equal(first, second)
    for one, two in zip(weights["default"], weights["mirrored"]):
        np.testing.assert_allclose(one, two, rtol=1e-4, atol=1e-5)
    print("OK")
    """
)


def test_batch_norm_statistics_are_the_global_batchs_on_every_replica(tmp_path):
    # The DCGAN generator's batch norm: two replicas of 8 rows each normalise with the
    # statistics of all 16, keep the same moving statistics, and train the one-device weights.
    mnist = tmp_path / "mnist.npz"
    write_random_mnist(mnist)
    result = subprocess.run([sys.executable, "-c", _BATCH_NORM, str(tmp_path), str(mnist)],
                            capture_output=True, text=True, timeout=300, env=ENV)
    assert result.returncode == 0 and result.stdout.strip().endswith("OK"), \
        result.stderr[-3000:]


def _start_workers(workdir, steps):
    workers = [f"127.0.0.1:{free_port()}" for _ in range(2)]
    processes = []
    for index in range(2):
        tf_config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "tfgan.cli.train", *TOY_FLAGS, "--strategy=multi_worker",
             f"--workdir={workdir}", f"--steps={steps}", "--checkpoint_every=100",
             "--log_every=100", "--sample_every=1000", "--steps_per_execution=10",
             f"--export_dir={workdir}/export"],
            env={**ENV, "TF_CONFIG": json.dumps(tf_config)}, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True))
    return processes


def test_two_workers_train_are_killed_resume_and_export(tmp_path):
    workdir = tmp_path / "run"
    processes = _start_workers(workdir, steps=100_000)
    # The chief prints step 200's progress line after step 100's checkpoint was saved whole.
    for line in processes[0].stdout:
        if line.startswith("step 200/"):
            break
    for process in processes:
        process.send_signal(signal.SIGKILL)
        process.communicate()
    assert (workdir / "checkpoints" / "ckpt-100.index").exists()
    # The other worker saved its part of each checkpoint outside the run directory.
    assert sorted(os.listdir(workdir / "checkpoints"))[0] == "checkpoint"

    processes = _start_workers(workdir, steps=300)
    outputs = [process.communicate(timeout=300)[0] for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs[0][-2000:]
    assert "Resumed from" in outputs[0] and "Resumed from" in outputs[1]
    with open(workdir / "history.csv") as f:
        steps = [int(line.split(",")[0]) for line in f.read().splitlines()[1:]]
    assert steps == sorted(set(steps)) and steps[-1] == 300
    sample = tf.saved_model.load(str(workdir / "export" / "gaussian_1d" / "1")).signatures["sample"]
    samples = sample(num_samples=tf.constant(4), seed=tf.constant(0, tf.int64),
                     truncation=tf.constant(1.0))["samples"]
    assert samples.shape == (4, 1)
