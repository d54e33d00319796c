import pytest

from tfgan.config import MODEL_OPTIONS, ConfigError, TrainConfig


def _config(**overrides):
    return TrainConfig(workdir="run", **overrides)


@pytest.mark.parametrize("overrides, message", [
    (dict(d_learning_rate=-1e-4), r"^--d_learning_rate must be >= 0 \(0: --learning_rate\), got"),
    (dict(g_learning_rate=-1e-4), r"^--g_learning_rate must be >= 0 \(0: --learning_rate\), got"),
    (dict(lr_schedule="step"), r"^--lr_schedule must be one of constant, linear, cosine; got"),
    (dict(lr_warmup_steps=-1), r"^--lr_warmup_steps must be >= 0$"),
    (dict(lr_schedule="cosine", steps=100, lr_warmup_steps=100),
     r"^--lr_warmup_steps \(100\) must be less than --steps \(100\) with --lr_schedule=cosine$"),
    (dict(schedule="worse", lr_warmup_steps=10),
     r"^--lr_schedule and --lr_warmup_steps need --schedule=alternating or simultaneous"),
    (dict(ema_warmup=True), r"^--ema_warmup needs --ema_decay > 0$"),
    (dict(kernel_size=4), r"^--kernel_size must be an odd int >= 1, got 4$"),
    (dict(gradient_penalty_every=0), r"^--gradient_penalty_every must be >= 1$"),
    (dict(unrolled_steps=-1), r"^--unrolled_steps must be >= 0$"),
    (dict(unrolled_learning_rate=-0.1), r"^--unrolled_learning_rate must be >= 0$"),
    (dict(unrolled_steps=5, schedule="simultaneous"),
     r"^--unrolled_steps needs --schedule=alternating, got --schedule=simultaneous$"),
    (dict(mode_seeking_weight=-1.0), r"^--mode_seeking_weight must be >= 0$"),
    (dict(mode_seeking_weight=1.0, schedule="worse"),
     r"^--mode_seeking_weight needs --schedule=alternating, --num_generators=1 and an even "
     r"--batch_size: .* got --schedule=worse --num_generators=1 --batch_size=64$"),
    (dict(mode_seeking_weight=1.0, num_generators=2), r"got --schedule=alternating "
                                                      r"--num_generators=2 --batch_size=64$"),
    (dict(mode_seeking_weight=1.0, batch_size=63), r"--num_generators=1 --batch_size=63$"),
])
def test_recipe_options_are_checked_in_one_line(overrides, message):
    with pytest.raises(ConfigError, match=message):
        _config(**overrides).validate()


@pytest.mark.parametrize("overrides, message", [
    (dict(dataset="quadratic"), r"^--conditional needs labelled data; of the toys only ring, "
                                r"grid have labels \(each point's mode\), got --dataset=quadratic$"),
    (dict(dataset="stacked_mnist"), r"^--conditional: stacked_mnist has no class labels"),
    (dict(pack=2, batch_size=64), r"^--conditional needs --pack=1: a pack would mix labels"),
    (dict(conditioning="acgan", num_discriminators=2),
     r"^--conditioning=acgan needs --num_discriminators=1"),
    (dict(conditioning="dual_projection", unrolled_steps=2),
     r"^--conditioning=dual_projection cannot take --unrolled_steps"),
    (dict(conditioning="film"),
     r"^--conditioning must be one of projection, dual_projection, concat, acgan"),
    (dict(acgan_weight=0.0), r"^--acgan_weight must be positive, got 0.0$"),
    (dict(conditioning="concat", class_stddev=True), r"^--class_stddev needs --conditional and "
     r"--conditioning=projection or dual_projection .*got conditional=True, conditioning=concat$"),
])
def test_conditional_combinations_that_cannot_train_are_refused_in_one_line(overrides, message):
    with pytest.raises(ConfigError, match=message):
        _config(conditional=True, **overrides).validate()


def test_the_class_stddev_needs_a_conditional_gan():
    with pytest.raises(ConfigError, match=r"^--class_stddev needs --conditional"):
        _config(class_stddev=True).validate()
    _config(conditional=True, class_stddev=True).validate()


def test_drawing_the_labels_needs_a_conditional_gan():
    with pytest.raises(ConfigError, match=r"^--draw_labels needs --conditional: it draws the "
                                          r"class of a conditional generator$"):
        _config(draw_labels=True).validate()
    _config(conditional=True, draw_labels=True).validate()


def test_conditional_options_that_work_are_accepted():
    for overrides in (dict(dataset="ring", conditioning="concat", num_generators=2),
                      dict(dataset="mnist", conditioning="acgan", gradient_penalty_weight=1.0),
                      dict(dataset="fashion_mnist", schedule="worse", ema_decay=0.999),
                      dict(dataset="folder", image_dir="x", num_discriminators=2)):
        _config(conditional=True, **overrides).validate()
    assert {"conditional", "conditioning"} <= set(MODEL_OPTIONS)


def test_each_network_learning_rate_falls_back_to_the_shared_one():
    config = _config(learning_rate=1e-3, d_learning_rate=4e-4)
    assert config.network_learning_rate("d") == 4e-4
    assert config.network_learning_rate("g") == 1e-3


def test_unknown_gradient_penalty_is_refused():
    with pytest.raises(ConfigError, match=r"^--gradient_penalty must be one of wgan_gp, r1, r2, "
                                          r"r1_r2; got 'r3'$"):
        _config(gradient_penalty="r3").validate()


def test_options_that_change_the_checkpoints_variables_refuse_a_resume():
    # Power-iteration vectors are variables; a scheduled rate removes the optimizers' rate
    # variable.
    assert {"spectral_norm", "lr_schedule", "lr_warmup_steps"} <= set(MODEL_OPTIONS)


def test_a_warmup_or_a_decay_schedules_the_learning_rates():
    assert not _config().scheduled_learning_rates
    assert _config(lr_warmup_steps=5).scheduled_learning_rates
    assert _config(lr_schedule="linear").scheduled_learning_rates
