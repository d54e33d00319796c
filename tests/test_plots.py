import numpy as np
import pytest
from PIL import Image

from tfgan import plots


def _history(num_rows):
    steps = np.arange(1, num_rows + 1)
    return {
        "step": steps,
        "d_loss": 1.4 - steps / num_rows,
        "g_loss": 0.7 + steps / num_rows,
        "d_real": np.full(num_rows, 0.55),
        "d_fake": np.full(num_rows, 0.45),
    }


def _open_png(path):
    with Image.open(path) as image:
        assert image.format == "PNG"
        image.load()
        return image


@pytest.mark.parametrize(
    "num_images, height, width, channels, num_columns, rows, columns, scale",
    [
        (10, 28, 28, 1, None, 3, 4, 3),  # ceil(sqrt(10)) = 4 columns; 28 px tiles upscaled x3
        (6, 8, 8, 3, 3, 2, 3, 8),
        (5, 16, 32, 1, 5, 1, 5, 2),
    ],
)
def test_image_grid_pixel_size(tmp_path, num_images, height, width, channels, num_columns,
                               rows, columns, scale):
    images = np.random.default_rng(0).random((num_images, height, width, channels))
    path = tmp_path / "grid.png"
    plots.save_image_grid(images, str(path), num_columns=num_columns)
    image = _open_png(path)
    # Tiles are separated and framed by 1-pixel borders, then upscaled by `scale`.
    assert image.size == ((columns * (width + 1) + 1) * scale, (rows * (height + 1) + 1) * scale)


def test_image_grid_draws_pixels_and_title_strip(tmp_path):
    images = np.zeros((4, 8, 8, 1))
    images[1] = 1.0
    path = tmp_path / "sub" / "grid.png"  # the directory is created
    plots.save_image_grid(images, str(path), num_columns=2)
    pixels = np.asarray(_open_png(path).convert("L"))
    assert pixels.shape == (19 * 8, 19 * 8)
    tile_center = 8 * (1 + 4)
    assert pixels[tile_center, tile_center] == 0  # image 0 is black
    assert pixels[tile_center, tile_center + 9 * 8] == 255  # image 1 is white
    assert pixels[0, 0] == 255  # the border is white

    titled = tmp_path / "titled.png"
    plots.save_image_grid(images, str(titled), num_columns=2, title="step 7")
    assert _open_png(titled).size == (19 * 8, 19 * 8 + 24)
    assert not list(tmp_path.glob("**/*.tmp"))


@pytest.mark.parametrize("shape", [(4, 8, 8, 2), (8, 8, 1), (0, 8, 8, 1)])
def test_image_grid_rejects_bad_shapes(tmp_path, shape):
    with pytest.raises(ValueError, match=r"Received: images.shape="):
        plots.save_image_grid(np.zeros(shape), str(tmp_path / "x.png"))


@pytest.mark.parametrize("dim", [1, 2])
def test_save_points_writes_png(tmp_path, dim):
    rng = np.random.default_rng(1)
    path = tmp_path / "points.png"
    plots.save_points(rng.normal(size=(50, dim)), str(path),
                      reference=rng.normal(size=(60, dim)), title="step 3")
    image = _open_png(path)
    assert image.size == (5 * 128, 5 * 128) and image.mode == "RGBA"


def test_save_points_rejects_bad_shapes(tmp_path):
    with pytest.raises(ValueError, match=r"Received: points.shape=\(5, 3\)"):
        plots.save_points(np.zeros((5, 3)), str(tmp_path / "x.png"))
    with pytest.raises(ValueError, match=r"Received: reference.shape=\(5, 1\)"):
        plots.save_points(np.zeros((5, 2)), str(tmp_path / "x.png"), reference=np.zeros((5, 1)))


def test_save_samples_dispatches_on_rank(tmp_path):
    plots.save_samples(np.zeros((4, 8, 8, 1)), str(tmp_path / "images.png"))
    plots.save_samples(np.zeros((4, 2)), str(tmp_path / "points.png"))
    assert _open_png(tmp_path / "images.png").size == (19 * 8, 19 * 8)
    assert _open_png(tmp_path / "points.png").size == (640, 640)
    with pytest.raises(ValueError, match=r"Received: samples.shape=\(4, 2, 2\)"):
        plots.save_samples(np.zeros((4, 2, 2)), str(tmp_path / "x.png"))


def test_save_loss_plot_accepts_columns_and_rows(tmp_path):
    history = _history(20)
    plots.save_loss_plot(history, str(tmp_path / "columns.png"))
    rows = [dict(zip(history, values)) for values in zip(*history.values())]
    plots.save_loss_plot(rows, str(tmp_path / "rows.png"))
    for name in ("columns.png", "rows.png"):
        image = _open_png(tmp_path / name)
        assert image.size == (8.5 * 128, 6 * 128) and image.mode == "RGBA"
    columns = np.asarray(_open_png(tmp_path / "columns.png"))
    np.testing.assert_array_equal(columns, np.asarray(_open_png(tmp_path / "rows.png")))


def test_loss_axis_limits_leave_an_early_spike_off_the_axis():
    losses = np.concatenate([[10.5], np.linspace(0.3, 3.4, 39)])
    low, high = plots.loss_axis_limits(losses)
    assert low < 0.3 and 3.4 < high < 4.0
    # Curves without far-out points keep matplotlib's own axis.
    assert plots.loss_axis_limits(np.linspace(0.3, 3.4, 40)) is None
    assert plots.loss_axis_limits(np.full(40, 0.69)) is None
    assert plots.loss_axis_limits(np.array([10.5, 1.0, 1.0])) is None  # too few to judge
    # A WGAN critic's loss is negative: a spike below is clipped the same way.
    low, high = plots.loss_axis_limits(np.concatenate([[-50.0], np.linspace(-2, 0, 30)]))
    assert -2.2 < low < -2 and 0 < high < 0.2


def test_a_clipped_loss_plot_names_the_point_left_off(tmp_path, monkeypatch):
    history = _history(40)
    history["d_loss"] = np.concatenate([[10.5], history["d_loss"][1:]])
    plots.save_loss_plot(history, str(tmp_path / "losses.png"))
    assert _open_png(tmp_path / "losses.png").size == (8.5 * 128, 6 * 128)
    drawn = []
    monkeypatch.setattr(plots, "_write_figure", lambda figure, path: drawn.append(figure))
    plots.save_loss_plot(history, str(tmp_path / "unused.png"))
    loss_axes = drawn[0].axes[0]
    assert loss_axes.get_title() == "axis clipped: d_loss reaches 10.5 at step 1"
    assert loss_axes.get_ylim()[1] < 3


def test_save_loss_plot_errors(tmp_path):
    history = _history(3)
    del history["d_fake"]
    with pytest.raises(ValueError, match=r"Received: missing=\['d_fake'\]"):
        plots.save_loss_plot(history, str(tmp_path / "x.png"))
    with pytest.raises(ValueError, match="at least one row"):
        plots.save_loss_plot([], str(tmp_path / "x.png"))


@pytest.mark.parametrize("feature_dim", [2, 5])
def test_save_feature_space_writes_png(tmp_path, feature_dim):
    rng = np.random.default_rng(2)
    real = rng.normal(size=(30, feature_dim))
    fake = rng.normal(size=(20, feature_dim)) + 2.0
    path = tmp_path / "features.png"
    plots.save_feature_space(real, fake, real, fake - 1.0, str(path), step=12)
    image = _open_png(path)
    assert image.size == (11 * 128, 6 * 128) and image.mode == "RGBA"
    # Real features that moved are drawn before and after too.
    plots.save_feature_space(real, fake, real + 1.0, fake - 1.0, str(path))
    assert _open_png(path).size == image.size


def test_save_feature_space_rejects_mismatched_features(tmp_path):
    with pytest.raises(ValueError, match="Received: shapes="):
        plots.save_feature_space(np.zeros((3, 2)), np.zeros((3, 3)), np.zeros((3, 2)),
                                 np.zeros((3, 2)), str(tmp_path / "x.png"))
    with pytest.raises(ValueError, match="as many before as after"):
        plots.save_feature_space(np.zeros((3, 2)), np.zeros((3, 2)), np.zeros((3, 2)),
                                 np.zeros((4, 2)), str(tmp_path / "x.png"))
    one = np.zeros((3, 1))
    with pytest.raises(ValueError, match="feature_dim >= 2"):
        plots.save_feature_space(one, one, one, one, str(tmp_path / "x.png"))


def test_save_gif_resizes_frames_to_the_first(tmp_path):
    paths = []
    for index, size in enumerate([(40, 30), (20, 10), (40, 30)]):
        path = tmp_path / f"{index}.png"
        Image.new("RGB", size, color=(80 * index, 0, 255 - 80 * index)).save(path)
        paths.append(str(path))
    gif_path = tmp_path / "out" / "progress.gif"
    plots.save_gif(paths, str(gif_path), duration_ms=120)
    with Image.open(gif_path) as gif:
        assert gif.format == "GIF"
        assert gif.n_frames == 3 and gif.is_animated
        assert gif.size == (40, 30)
        assert gif.info["duration"] == 120 and gif.info["loop"] == 0
        gif.seek(1)
        assert gif.size == (40, 30)


def test_save_gif_errors(tmp_path):
    with pytest.raises(ValueError, match=r"Received: frame_paths=\[\]"):
        plots.save_gif([], str(tmp_path / "x.gif"))
    with pytest.raises(ValueError, match="Received: duration_ms=0"):
        plots.save_gif(["a.png"], str(tmp_path / "x.gif"), duration_ms=0)


def _orange_pixels(path):
    """Pixels of the generated-data colour (tab:orange, #ff7f0e)."""
    pixels = np.asarray(_open_png(path).convert("RGB")).astype(int)
    return int(np.sum(np.abs(pixels - [255, 127, 14]).sum(axis=-1) < 30))


def test_save_class_histogram_draws_one_bar_per_class(tmp_path):
    plots.save_class_histogram(np.full(10, 0.1), str(tmp_path / "uniform.png"), title="mnist")
    plots.save_class_histogram(np.eye(10)[3], str(tmp_path / "collapsed.png"))
    plots.save_class_histogram(np.full(1000, 0.001), str(tmp_path / "stacked.png"))
    for name in ("uniform.png", "collapsed.png", "stacked.png"):
        assert _open_png(tmp_path / name).size == (7 * 128, 4 * 128)
    # Ten full-height bars cover far more of the plot than the one bar of a collapsed model.
    collapsed = _orange_pixels(tmp_path / "collapsed.png")
    assert collapsed > 0
    assert _orange_pixels(tmp_path / "uniform.png") > 5 * collapsed


@pytest.mark.parametrize("histogram", [np.zeros((2, 5)), np.zeros(0), np.array([0.5, -0.5])])
def test_save_class_histogram_rejects_bad_histograms(tmp_path, histogram):
    with pytest.raises(ValueError, match="Received: histogram.shape="):
        plots.save_class_histogram(histogram, str(tmp_path / "x.png"))
