"""Pure drawing: sample grids, point clouds, class histograms, loss curves, feature space, GIFs.

Every `save_*` function takes arrays and a path and writes one file; `*_figure` functions
return the figure instead (a notebook shows it inline). Figures are built with
matplotlib's object API on an Agg canvas (no `pyplot`, so no global figure state and no
display), and each file is written to a temporary name and renamed into place, so a reader
(an image viewer, TensorBoard, a browser) never sees a half-written plot. GIFs use Pillow.
"""

import io
import math
import os

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from PIL import Image

# A power of two, so pixel sizes survive the pixels -> inches -> pixels round trip exactly.
_DPI = 128
# Grid tiles are upscaled (nearest neighbour) by an integer factor to at least this many pixels.
_MIN_TILE_PIXELS = 64
_GRID_PADDING = 1
_TITLE_PIXELS = 24
_HISTOGRAM_HEADROOM = 1.3
_ZOOM_PAIRS = 200  # before/after pairs drawn in the feature plot's zoom
# A loss axis is clipped when points beyond Tukey's far-out fences (3 IQRs past the
# quartiles) would squeeze the others into less than 1/_CLIP_GAIN of its height.
_FAR_OUT_IQRS = 3.0
_CLIP_GAIN = 2.5
_REAL_COLOR = "tab:blue"
_GENERATED_COLOR = "tab:orange"
_GENERATED_AFTER_COLOR = "tab:green"


class InlineFigure(Figure):
    """A matplotlib figure that a notebook shows inline, with or without pyplot."""

    def _repr_png_(self):
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=_DPI)
        return buffer.getvalue()


def _new_figure(width_inches, height_inches):
    figure = InlineFigure(figsize=(width_inches, height_inches), dpi=_DPI)
    FigureCanvasAgg(figure)
    return figure


def _write_figure(figure, path):
    _make_parent_directory(path)
    temporary_path = f"{path}.tmp"
    try:
        figure.savefig(temporary_path, format="png", dpi=_DPI)
        os.replace(temporary_path, path)
    except BaseException:  # a full disk, say: no half-written file is left behind
        if os.path.exists(temporary_path):
            os.remove(temporary_path)
        raise


def _make_parent_directory(path):
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)


def _tile_images(images, num_columns):
    """Lays `[n, H, W, C]` images out on a padded `[rows, columns]` montage (pad value 1)."""
    num_images, height, width, channels = images.shape
    num_rows = math.ceil(num_images / num_columns)
    pad = _GRID_PADDING
    montage = np.ones(
        (num_rows * (height + pad) + pad, num_columns * (width + pad) + pad, channels),
        dtype=np.float32,
    )
    for index, image in enumerate(images):
        row, column = divmod(index, num_columns)
        top = pad + row * (height + pad)
        left = pad + column * (width + pad)
        montage[top:top + height, left:left + width] = image
    return montage


def save_image_grid(images, path, num_columns=None, title=None):
    """Writes `image_grid_figure(images, num_columns, title)` to the PNG file `path`."""
    _write_figure(image_grid_figure(images, num_columns, title), path)


def image_grid_figure(images, num_columns=None, title=None):
    """A batch of images as one grid without axes.

    Tiles are separated by a 1-pixel white border and upscaled by the same integer factor
    (nearest neighbour) until a tile is at least 64 pixels on its longer side, so the PNG is
    `columns * (W + 1) + 1` by `rows * (H + 1) + 1` grid pixels times that factor, plus a
    24-pixel title strip when `title` is given. Empty cells of the last row stay white.

    Args:
        images: float array `[n, H, W, C]` with values in [0, 1] (clipped) and `C` 1 or 3.
            One-channel images are drawn with a gray colour map.
        num_columns: int or `None`, tiles per row. Defaults to `None`: `ceil(sqrt(n))`.
        title: str or `None`, a line of text above the grid. Defaults to `None`.

    Returns:
        `matplotlib.figure.Figure`.

    Raises:
        ValueError: if `images` is not `[n, H, W, C]` with `n >= 1` and `C` in (1, 3), or
            `num_columns` is not positive.
    """
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 4 or images.shape[0] < 1 or images.shape[-1] not in (1, 3):
        raise ValueError(
            "images must have shape [n, H, W, C] with n >= 1 and C in (1, 3). "
            f"Received: images.shape={images.shape}"
        )
    if num_columns is None:
        num_columns = math.ceil(math.sqrt(images.shape[0]))
    if num_columns < 1:
        raise ValueError(f"num_columns must be positive. Received: num_columns={num_columns}")
    montage = _tile_images(np.clip(images, 0.0, 1.0), num_columns)
    scale = max(1, math.ceil(_MIN_TILE_PIXELS / max(images.shape[1:3])))
    montage = montage.repeat(scale, axis=0).repeat(scale, axis=1)
    montage_height, montage_width = montage.shape[:2]
    title_height = _TITLE_PIXELS if title else 0
    figure = _new_figure(montage_width / _DPI, (montage_height + title_height) / _DPI)
    if montage.shape[-1] == 1:
        figure.figimage(montage[..., 0], cmap="gray", vmin=0.0, vmax=1.0, origin="upper")
    else:
        figure.figimage(montage, origin="upper")
    if title:
        figure.text(
            0.5,
            1.0 - (title_height / 2) / (montage_height + title_height),
            title,
            ha="center",
            va="center",
            fontsize=8,
        )
    return figure


def save_points(points, path, reference=None, title=None):
    """Writes `points_figure(points, reference, title)` to the PNG file `path`."""
    _write_figure(points_figure(points, reference, title), path)


def points_figure(points, reference=None, title=None):
    """Generated points against real ones: histograms in 1-D, a scatter plot in 2-D.

    Args:
        points: float array `[n, d]` of generated samples, `d` 1 or 2.
        reference: float array `[m, d]` of real samples drawn underneath, or `None`.
            Defaults to `None`.
        title: str or `None`, the plot title. Defaults to `None`.

    Returns:
        `matplotlib.figure.Figure`.

    Raises:
        ValueError: if `points` is not `[n, d]` with `d` in (1, 2), or `reference` has a
            different number of columns.
    """
    points = np.asarray(points, dtype=np.float32)
    if points.ndim != 2 or points.shape[1] not in (1, 2):
        raise ValueError(
            "points must have shape [n, d] with d in (1, 2). "
            f"Received: points.shape={points.shape}"
        )
    if reference is not None:
        reference = np.asarray(reference, dtype=np.float32)
        if reference.ndim != 2 or reference.shape[1] != points.shape[1]:
            raise ValueError(
                f"reference must have shape [m, {points.shape[1]}] like points. "
                f"Received: reference.shape={reference.shape}"
            )
    figure = _new_figure(5, 5)
    axes = figure.add_subplot()
    if points.shape[1] == 1:
        pooled = points if reference is None else np.concatenate([points, reference])
        bins = np.histogram_bin_edges(pooled[:, 0], bins=50)
        if reference is not None:
            axes.hist(reference[:, 0], bins=bins, density=True, alpha=0.5,
                      color=_REAL_COLOR, label="Real data")
        axes.hist(points[:, 0], bins=bins, density=True, alpha=0.5,
                  color=_GENERATED_COLOR, label="Generated data")
        axes.set_xlabel("x")
        axes.set_ylabel("density")
    else:
        if reference is not None:
            axes.scatter(reference[:, 0], reference[:, 1], s=6, alpha=0.6,
                         color=_REAL_COLOR, label="Real data")
        axes.scatter(points[:, 0], points[:, 1], s=6, alpha=0.6,
                     color=_GENERATED_COLOR, label="Generated data")
        axes.set_xlabel("x")
        axes.set_ylabel("y")
    # Below the axes: inside, the legend would hide points wherever it went.
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, fontsize=8,
                frameon=False)
    if title:
        axes.set_title(title)
    figure.tight_layout()
    return figure


def save_samples(samples, path, reference=None, title=None, num_columns=None):
    """Writes `samples_figure(samples, reference, title, num_columns)` to the PNG file `path`."""
    _write_figure(samples_figure(samples, reference, title, num_columns), path)


def samples_figure(samples, reference=None, title=None, num_columns=None):
    """A batch of generator samples: an image grid for images, a plot for points.

    Args:
        samples: float array, `[n, H, W, C]` images in [0, 1] or `[n, d]` points.
        reference: float array `[m, d]` of real points, or `None`. Images ignore it.
            Defaults to `None`.
        title: str or `None`. Defaults to `None`.
        num_columns: int or `None`, images per row (a conditional grid: one row per class).
            Points ignore it. Defaults to `None`: `ceil(sqrt(n))`.

    Returns:
        `matplotlib.figure.Figure`.

    Raises:
        ValueError: if `samples` is neither rank 4 nor rank 2.
    """
    samples = np.asarray(samples)
    if samples.ndim == 4:
        return image_grid_figure(samples, num_columns=num_columns, title=title)
    if samples.ndim == 2:
        return points_figure(samples, reference=reference, title=title)
    raise ValueError(
        "samples must be images [n, H, W, C] or points [n, d]. "
        f"Received: samples.shape={samples.shape}"
    )


def save_class_histogram(histogram, path, title=None):
    """Draws the fraction of samples per predicted class as bars, against the uniform level.

    Mode dropping shows as missing or short bars: the dashed line marks `1 / K`, where every
    class of a uniform data set (MNIST digits, Stacked MNIST's 1000 triples) would be.

    Args:
        histogram: float array `[K]` of class fractions, `K >= 1`, e.g. from
            `tfgan.metrics.class_histogram`.
        path: str, the PNG file to write; its directory is created if needed.
        title: str or `None`, the plot title. Defaults to `None`.

    Raises:
        ValueError: if `histogram` is not a non-empty 1-D array of non-negative numbers.
    """
    histogram = np.asarray(histogram, dtype=np.float64)
    if histogram.ndim != 1 or not len(histogram) or not np.all(histogram >= 0):
        raise ValueError(
            "histogram must be a non-empty 1-D array of non-negative fractions. "
            f"Received: histogram.shape={histogram.shape}"
        )
    num_classes = len(histogram)
    uniform = 1.0 / num_classes
    figure = _new_figure(7, 4)
    axes = figure.add_subplot()
    axes.bar(np.arange(num_classes), histogram, width=0.8 if num_classes <= 100 else 1.0,
             color=_GENERATED_COLOR, label="Generated data")
    axes.axhline(uniform, color="black", linestyle="--", linewidth=0.8,
                 label=f"Uniform (1/{num_classes})")
    if num_classes <= 20:
        axes.set_xticks(np.arange(num_classes))
    axes.set_xlim(-0.5, num_classes - 0.5)
    # Headroom above the tallest bar keeps the legend, one row across the top, off the bars.
    axes.set_ylim(0.0, _HISTOGRAM_HEADROOM * max(float(histogram.max()), uniform))
    axes.set_xlabel("predicted class")
    axes.set_ylabel("fraction of samples")
    axes.legend(loc="upper center", ncol=2, fontsize=8)
    if title:
        axes.set_title(title)
    figure.tight_layout()
    _write_figure(figure, path)


_HISTORY_COLUMNS = ("step", "d_loss", "g_loss", "d_real", "d_fake")


def _history_columns(history):
    """Turns a dict of columns or a list of row dicts into a dict of float arrays."""
    if isinstance(history, dict):
        columns = {name: history.get(name) for name in _HISTORY_COLUMNS}
    else:
        rows = list(history)
        columns = {name: [row.get(name) for row in rows] for name in _HISTORY_COLUMNS}
    missing = [name for name, values in columns.items() if values is None or None in values]
    if missing:
        raise ValueError(
            f"history needs the columns {_HISTORY_COLUMNS} in every row. "
            f"Received: missing={missing}"
        )
    columns = {name: np.asarray(values, dtype=np.float64) for name, values in columns.items()}
    if len(columns["step"]) == 0:
        raise ValueError("history must have at least one row. Received: history with 0 rows")
    return columns


def loss_axis_limits(values):
    """The loss axis range that leaves far-out points (an early spike) off the axis.

    Points beyond Tukey's far-out fences (3 interquartile ranges past the quartiles) are
    left out when the rest would otherwise fill less than 1/2.5 of the axis.

    Args:
        values: float array of every loss value drawn (non-finite ones are ignored).

    Returns:
        `(low, high)` with a 5 % margin, or `None` when nothing needs clipping.
    """
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    if len(values) < 4:
        return None
    q1, q3 = np.percentile(values, [25, 75])
    reach = _FAR_OUT_IQRS * (q3 - q1)
    inside = values[(values >= q1 - reach) & (values <= q3 + reach)]
    inside_range = inside.max() - inside.min()
    if inside_range <= 0 or values.max() - values.min() <= _CLIP_GAIN * inside_range:
        return None
    margin = 0.05 * inside_range
    return inside.min() - margin, inside.max() + margin


def _clip_outliers(axes, steps, curves):
    """Clips `axes` to `loss_axis_limits` and names the farthest point left off, if any."""
    limits = loss_axis_limits(np.concatenate(list(curves.values())))
    if limits is None:
        return
    axes.set_ylim(*limits)
    center = np.mean(limits)
    farthest = (-1.0, None, None)
    for name, curve in curves.items():
        distance = np.nan_to_num(np.abs(curve - center), nan=-1.0, posinf=-1.0)
        index = int(np.argmax(distance))
        farthest = max(farthest, (distance[index], name, index), key=lambda item: item[0])
    _, name, index = farthest
    axes.set_title(f"axis clipped: {name} reaches {curves[name][index]:.3g} at step "
                   f"{steps[index]:g}", fontsize=9)


def save_loss_plot(history, path):
    """Draws the training curves: the two losses, and mean D(x) / D(G(z)) around 0.5.

    At the equilibrium the discriminator can no longer tell real from generated samples, so
    both D(x) and D(G(z)) settle near 0.5 (seed 001); the lower panel marks 0.5 with a dashed
    line. An early spike would flatten the rest of the loss curves: the loss axis is then
    clipped (`loss_axis_limits`) and its title names the farthest point left off.

    Args:
        history: dict of column name -> list of numbers, or a list of row dicts, with the
            columns `step`, `d_loss`, `g_loss`, `d_real` (mean D(x)) and `d_fake`
            (mean D(G(z))). Other columns are ignored.
        path: str, the PNG file to write; its directory is created if needed.

    Raises:
        ValueError: if a column is missing or there are no rows.
    """
    columns = _history_columns(history)
    steps = columns["step"]
    figure = _new_figure(8.5, 6)
    loss_axes, probability_axes = figure.subplots(2, 1, sharex=True)
    loss_axes.plot(steps, columns["d_loss"], linewidth=0.8, label="Discriminator loss")
    loss_axes.plot(steps, columns["g_loss"], linewidth=0.8, label="Generator loss")
    loss_axes.set_ylabel("loss")
    _clip_outliers(loss_axes, steps, {"d_loss": columns["d_loss"], "g_loss": columns["g_loss"]})
    # Outside, right of each panel: inside, a legend hides part of a curve or the 0.5 line.
    loss_axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    probability_axes.plot(steps, columns["d_real"], linewidth=0.8, label="D(x)")
    probability_axes.plot(steps, columns["d_fake"], linewidth=0.8, label="D(G(z))")
    probability_axes.axhline(0.5, color="black", linestyle="--", linewidth=0.8)
    probability_axes.set_ylim(0.0, 1.0)
    probability_axes.set_xlabel("step")
    probability_axes.set_ylabel("mean discriminator output")
    probability_axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    figure.tight_layout()
    _write_figure(figure, path)


def _centroid(axes, point, color, marker, label):
    axes.scatter(point[0], point[1], s=260, color=color, marker=marker, edgecolors="black",
                 linewidths=1.2, zorder=4, label=label)


def _draw_generated_move(axes, before, after, with_labels):
    """G(z) before (hollow circles) and after (filled dots) a G step, each pair joined."""
    segments = np.stack([before, after], axis=1)
    axes.add_collection(LineCollection(segments, colors="0.55", linewidths=0.6, zorder=1))
    axes.scatter(before[:, 0], before[:, 1], s=28, facecolors="none",
                 edgecolors=_GENERATED_COLOR, linewidths=1.0, zorder=2,
                 label="G(z) before the G step" if with_labels else None)
    axes.scatter(after[:, 0], after[:, 1], s=9, color=_GENERATED_AFTER_COLOR, zorder=3,
                 label="G(z) after the G step" if with_labels else None)
    centroid_before, centroid_after = before.mean(axis=0), after.mean(axis=0)
    _centroid(axes, centroid_before, _GENERATED_COLOR, "P",
              "centroid of G(z) before" if with_labels else None)
    _centroid(axes, centroid_after, _GENERATED_AFTER_COLOR, "P",
              "centroid of G(z) after" if with_labels else None)
    axes.annotate("", xy=centroid_after, xytext=centroid_before, zorder=5,
                  arrowprops={"arrowstyle": "->", "color": "black", "linewidth": 1.5})
    axes.autoscale_view()


def save_feature_space(real_before, fake_before, real_after, fake_after, path, step=None):
    """Draws the discriminator's features of real and generated samples around a G update.

    Seed 000's plot: the last hidden layer of the discriminator (2 units) for a batch of real
    samples and for G(z), before and after one generator update. The left panel shows real
    and generated features with their centroids (large "P" markers, named in the legend) and
    an arrow from the generated centroid before to the one after; the right panel zooms onto
    the generated features, where each point before the step (hollow circle) is joined to the
    same z's point after it (dot), for the first 200 z. The generated centroid should move
    towards the real one.
    When the real features do not move (the discriminator is the same on both sides, as
    `tfgan.callbacks.FeatureSpacePlot` draws it) they are drawn once; otherwise before
    (hollow) and after (dots).

    Args:
        real_before: float array `[n, feature_dim]`, features of real samples before.
        fake_before: float array `[m, feature_dim]`, features of G(z) before.
        real_after: float array `[n, feature_dim]`, features of real samples after.
        fake_after: float array `[m, feature_dim]`, features of G(z) after, row `i` from the
            same z as row `i` of `fake_before`.
        path: str, the PNG file to write; its directory is created if needed.
        step: int or `None`, the training step shown in the title. Defaults to `None`.

    Raises:
        ValueError: if the arrays are not rank 2 with one shared `feature_dim >= 2`, or the
            generated arrays differ in length. When `feature_dim > 2` only the first two
            features are drawn and the title says so.
    """
    groups = {
        "real_before": real_before,
        "fake_before": fake_before,
        "real_after": real_after,
        "fake_after": fake_after,
    }
    groups = {name: np.asarray(values, dtype=np.float32) for name, values in groups.items()}
    shapes = {name: values.shape for name, values in groups.items()}
    feature_dim = groups["real_before"].shape[-1]
    if any(len(shape) != 2 or shape[1] != feature_dim for shape in shapes.values()) or (
        feature_dim < 2
    ) or shapes["fake_before"] != shapes["fake_after"]:
        raise ValueError(
            "features must all be [n, feature_dim] with one feature_dim >= 2, and G(z) as "
            f"many before as after. Received: shapes={shapes}"
        )
    real_before, fake_before, real_after, fake_after = (
        groups[name][:, :2] for name in ("real_before", "fake_before", "real_after",
                                         "fake_after"))
    figure = _new_figure(11, 6)
    overview, zoom = figure.subplots(1, 2)
    real_moved = real_before.shape != real_after.shape or not np.allclose(real_before,
                                                                          real_after)
    if real_moved:
        overview.scatter(real_before[:, 0], real_before[:, 1], s=28, facecolors="none",
                         edgecolors=_REAL_COLOR, linewidths=1.0, label="real data before")
        overview.scatter(real_after[:, 0], real_after[:, 1], s=9, color=_REAL_COLOR,
                         label="real data after")
        _centroid(overview, real_before.mean(axis=0), _REAL_COLOR, "P",
                  "centroid of real data before")
        _centroid(overview, real_after.mean(axis=0), _REAL_COLOR, "X",
                  "centroid of real data after")
    else:
        overview.scatter(real_before[:, 0], real_before[:, 1], s=12, alpha=0.6,
                         color=_REAL_COLOR, label="real data (D unchanged by the G step)")
        _centroid(overview, real_before.mean(axis=0), _REAL_COLOR, "P", "centroid of real data")
    _draw_generated_move(overview, fake_before, fake_after, with_labels=True)
    overview.set_title("Real and generated")
    shown = min(len(fake_before), _ZOOM_PAIRS)
    _draw_generated_move(zoom, fake_before[:shown], fake_after[:shown], with_labels=False)
    zoom.set_title("Zoom: each z's G(z) before -> after"
                   + (f" ({shown} of {len(fake_before)})" if shown < len(fake_before) else ""))
    for axes in (overview, zoom):
        axes.set_xlabel("feature 0")
        axes.set_ylabel("feature 1")
    title = "Discriminator features before and after one generator step"
    if step is not None:
        title += f" (step {step})"
    if feature_dim > 2:
        title += f"; first 2 of {feature_dim} features"
    figure.suptitle(title)
    handles, labels = overview.get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=3, fontsize=8, frameon=False)
    # Fixed margins: tight_layout would double the drawing time of the training's most
    # frequent plot.
    figure.subplots_adjust(left=0.07, right=0.98, top=0.87, bottom=0.2, wspace=0.22)
    _write_figure(figure, path)


def save_gif(frame_paths, path, duration_ms=300):
    """Joins PNG frames into an animated GIF that loops forever.

    Args:
        frame_paths: list of str, the frames in order; each is resized to the first one's size.
        path: str, the GIF file to write; its directory is created if needed.
        duration_ms: int, how long each frame is shown, in milliseconds. Defaults to `300`.

    Raises:
        ValueError: if `frame_paths` is empty or `duration_ms` is not positive.
    """
    frame_paths = list(frame_paths)
    if not frame_paths:
        raise ValueError("frame_paths must name at least one frame. Received: frame_paths=[]")
    if duration_ms <= 0:
        raise ValueError(f"duration_ms must be positive. Received: duration_ms={duration_ms}")
    frames = []
    for frame_path in frame_paths:
        with Image.open(frame_path) as frame:
            frames.append(frame.convert("RGB"))
    size = frames[0].size
    frames = [frame if frame.size == size else frame.resize(size) for frame in frames]
    _make_parent_directory(path)
    temporary_path = f"{path}.tmp"
    frames[0].save(
        temporary_path,
        format="GIF",
        save_all=True,
        append_images=frames[1:],
        duration=duration_ms,
        loop=0,
    )
    os.replace(temporary_path, path)
