import pytest

from tfgan.config import MODEL_OPTIONS, ConfigError, TrainConfig


def _config(**overrides):
    return TrainConfig(workdir="run", **overrides)


@pytest.mark.parametrize("overrides, message", [
    (dict(d_learning_rate=-1e-4), r"^--d_learning_rate must be >= 0 \(0: --learning_rate\), got"),
    (dict(g_learning_rate=-1e-4), r"^--g_learning_rate must be >= 0 \(0: --learning_rate\), got"),
])
def test_recipe_options_are_checked_in_one_line(overrides, message):
    with pytest.raises(ConfigError, match=message):
        _config(**overrides).validate()


def test_each_network_learning_rate_falls_back_to_the_shared_one():
    config = _config(learning_rate=1e-3, d_learning_rate=4e-4)
    assert config.network_learning_rate("d") == 4e-4
    assert config.network_learning_rate("g") == 1e-3


def test_unknown_gradient_penalty_is_refused():
    with pytest.raises(ConfigError, match=r"^--gradient_penalty must be one of wgan_gp, r1, r2, "
                                          r"r1_r2; got 'r3'$"):
        _config(gradient_penalty="r3").validate()


def test_spectral_norm_shapes_the_networks():
    # Its power-iteration vectors are variables: a run cannot resume with it switched.
    assert "spectral_norm" in MODEL_OPTIONS
