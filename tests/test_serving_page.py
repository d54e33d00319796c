"""The sample page (`tfgan/serving/page`) on the embedded server, driven in a headless Chromium.

One server serves five models: `toy` (two versions of a 4x4 image generator), `cond` (a
conditional one whose class shows as its brightest column, with a truncation input), `digits`
(`digit_fixtures`' real MNIST digit per class, exported by `tfgan.export`: the committed
classifier judges what the page shows), and the toys `ring` and `gaussian_1d` exported by
`tfgan.export` with their `real_samples`. One browser serves the
module (its tests are skipped, saying why, where Debian's chromium and chromium-driver are not
installed). The error tests run their own server on a port they can stop and reopen.
"""

import io
import json
import os
import urllib.request

import numpy as np
import pytest
from PIL import Image
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait
from tensorflow_serving.config import model_server_config_pb2

import scripts_path  # noqa: F401  (scripts/ importable)
from digit_fixtures import export_digit_table
from page_browser import browser_binaries_missing, headless_chromium
from page_fixtures import (NUM_CLASSES, export_conditional_model, export_guided_image_model,
                           export_toy_model, image_spread)
from serving_fixtures import exported_model, free_port, http, install_version
from tfgan.serving import BackgroundServer, ServerOptions, single_model_config

WAIT_SECONDS = 60  # a failure bound only: every wait ends when its condition holds


def config_of(models):
    """A `ModelServerConfig` serving `{name: base_path}`, every version of each."""
    config = model_server_config_pb2.ModelServerConfig()
    for name, base_path in models.items():
        model = config.model_config_list.config.add(
            name=name, base_path=str(base_path), model_platform="tensorflow")
        model.model_version_policy.all.SetInParent()
    return config


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("page")
    install_version(exported_model(tmp_path_factory, 1), root / "toy", 1)
    install_version(exported_model(tmp_path_factory, 2), root / "toy", 2)
    export_conditional_model(root / "cond_export")
    install_version(root / "cond_export", root / "cond", 1)
    models = {"toy": root / "toy", "cond": root / "cond",
              "digits": export_digit_table(root / "digits", "digits")}
    models["ring"] = export_toy_model(root / "toys", "ring", rejection_candidates=4)
    models["gaussian_1d"] = export_toy_model(root / "toys", "gaussian_1d")
    models["guided"] = export_guided_image_model(root / "guided_export", "guided")
    options = ServerOptions(config_of(models), grpc_port=None, rest_port=0,
                            file_system_poll_wait_seconds=-1)
    with BackgroundServer(options) as running:
        yield running


@pytest.fixture(scope="module")
def downloads(tmp_path_factory):
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def driver(downloads):
    missing = browser_binaries_missing()
    if missing:
        pytest.skip(missing)
    chromium = headless_chromium(download_dir=downloads)
    yield chromium
    chromium.quit()


def wait(driver, condition):
    return WebDriverWait(driver, WAIT_SECONDS).until(lambda _: condition())


def by_id(driver, element_id):
    return driver.find_element("id", element_id)


def status(driver):
    return by_id(driver, "status").text


def open_page(driver, server, query):
    driver.get(f"{server.rest_url}/?{query}")
    wait(driver, lambda: driver.execute_script("return document.body.dataset.state") != "loading")
    assert driver.execute_script("return document.body.dataset.state") == "ready", status(driver)


def set_value(driver, element_id, value):
    """Types `value` into an input as a person would (clearing it first)."""
    element = by_id(driver, element_id)
    element.clear()
    element.send_keys(str(value))


def grid_pixels(driver):
    """Every grid canvas's gray levels, [n, h, w] in 0..255, read in the page."""
    return np.array(driver.execute_script("""
        return [...document.querySelectorAll('#grid canvas')].map((canvas) => {
          const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
          const rows = [];
          for (let y = 0; y < canvas.height; y++) {
            const row = [];
            for (let x = 0; x < canvas.width; x++) row.push(data[4 * (y * canvas.width + x)]);
            rows.push(row);
          }
          return rows;
        });"""), np.float32)


def walk_picture(driver):
    return driver.execute_script(
        "const c = document.querySelector('#walk-image canvas'); return c && c.toDataURL();")


def predict(server, path, body):
    request = urllib.request.Request(server.rest_url + "/" + path, data=json.dumps(body).encode())
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


# ---- the server's static route --------------------------------------------------------------


def test_root_redirects_to_the_served_models_and_the_api_is_not_shadowed(server):
    with urllib.request.urlopen(server.rest_url + "/", timeout=30) as answer:
        assert answer.url == (
            f"{server.rest_url}/?model=toy&model=cond&model=digits&model=ring&model=gaussian_1d"
            "&model=guided")
        assert "<title>tfgan samples</title>" in answer.read().decode()
    assert http("GET", server.rest_url + "/page/page.js")[:2] == (200, "text/javascript")
    assert http("GET", server.rest_url + "/page/missing.js")[0] == 404
    assert http("GET", server.rest_url + "/page/%2e%2e%2fpage.py")[0] == 404
    assert http("GET", server.rest_url + "/v1/models/toy")[0] == 200


# ---- images ----------------------------------------------------------------------------------


def test_the_page_shows_the_asked_number_of_samples_and_their_curl(driver, server):
    open_page(driver, server, "model=toy")
    assert len(grid_pixels(driver)) == 16
    set_value(driver, "num-samples", 5)
    set_value(driver, "seed", 7)
    by_id(driver, "show").click()
    wait(driver, lambda: status(driver) == "toy (latest version): 5 samples from seed 7.")
    pixels = grid_pixels(driver)
    assert pixels.shape == (5, 4, 4)
    assert all(image.std() > 0 for image in pixels), "a blank sample"
    assert image_spread(by_id(driver, "grid").screenshot_as_png) > 10
    # The first curl command is the grid's request: sent again, it gives the same pixels.
    command = by_id(driver, "curl").text.splitlines()[0]
    body, url = command.removeprefix("curl -d '").split("' ")
    assert url == f"{server.rest_url}/v1/models/toy:predict"
    assert json.loads(body) == {"signature_name": "sample",
                                "inputs": {"num_samples": 5, "seed": 7}}
    samples = np.array(predict(server, "v1/models/toy:predict", json.loads(body))["outputs"]
                       ["samples"])
    np.testing.assert_allclose(pixels, np.round(samples[..., 0] * 255), atol=1)


def test_new_samples_draws_another_seed(driver, server):
    open_page(driver, server, "model=toy")
    before = grid_pixels(driver)
    by_id(driver, "new-samples").click()
    wait(driver, lambda: not status(driver).endswith("from seed 0."))
    assert by_id(driver, "seed").get_attribute("value") != "0"
    assert not np.array_equal(grid_pixels(driver), before)


def test_the_version_picker_shows_each_version(driver, server):
    open_page(driver, server, "model=toy")
    versions = Select(by_id(driver, "version"))
    assert [option.text for option in versions.options] == ["latest", "2", "1"]
    pictures = {}
    for version in ("1", "2"):
        versions.select_by_value(version)
        wait(driver, lambda: status(driver).startswith(f"toy version {version}:"))
        pictures[version] = grid_pixels(driver)
    assert not np.array_equal(pictures["1"], pictures["2"])


def test_the_slider_walks_between_two_seeds(driver, server):
    open_page(driver, server, "model=toy")
    wait(driver, lambda: walk_picture(driver) is not None)
    start = walk_picture(driver)
    by_id(driver, "walk").send_keys(Keys.END)
    wait(driver, lambda: "Position 1 " in by_id(driver, "walk-kind").text)
    end = walk_picture(driver)
    assert end != start
    # At the end of the walk the picture is seed 1's own sample.
    seed_one = predict(server, "v1/models/toy:predict",
                       {"signature_name": "sample_seeds", "inputs": {"seeds": [1]}})
    pixels = np.array(driver.execute_script("""
        const c = document.querySelector('#walk-image canvas');
        return [...c.getContext('2d').getImageData(0, 0, c.width, c.height).data]
          .filter((_, i) => i % 4 === 0);"""), np.float32)
    expected = np.round(np.array(seed_one["outputs"]["samples"][0])[..., 0].ravel() * 255)
    np.testing.assert_allclose(pixels, expected, atol=1)


def test_the_walk_is_spherical_for_a_normal_prior_and_straight_for_a_uniform_one(driver, server):
    open_page(driver, server, "model=toy")
    walks = driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        import('./page/latent.js').then(({ lerp, looksNormal, slerp }) => done({
          arc: slerp([3, 0], [0, 3], 0.5), line: lerp([3, 0], [0, 3], 0.5),
          ends: [slerp([1, 2], [-2, 5], 0), slerp([1, 2], [-2, 5], 1)],
          normal: looksNormal([0.5, -1.5], [0.1, 0.2]), uniform: looksNormal([0.5, -0.9])}));""")
    np.testing.assert_allclose(walks["arc"], [3 / np.sqrt(2)] * 2)  # keeps the norm, 3
    np.testing.assert_allclose(walks["line"], [1.5, 1.5])
    np.testing.assert_allclose(walks["ends"], [[1, 2], [-2, 5]], atol=1e-12)
    assert walks["normal"] and not walks["uniform"]


def test_the_grid_downloads_as_a_png(driver, server, downloads):
    open_page(driver, server, "model=toy")
    by_id(driver, "download").click()
    png = downloads / "toy-seed0.png"
    wait(driver, lambda: png.exists() and png.stat().st_size > 0)
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG")
    assert image_spread(data) > 10
    # 16 samples of 4x4 pixels in 4 rows of 4, 2 pixels apart.
    assert Image.open(io.BytesIO(data)).size == (4 * 6 + 2, 4 * 6 + 2)


# ---- conditional models: the class picker and truncation -------------------------------------


def brightest_columns(pixels):
    return [int(np.argmax(image.mean(axis=0))) for image in pixels]


def test_the_class_picker_asks_for_the_class(driver, server):
    open_page(driver, server, "model=cond")
    classes = Select(by_id(driver, "class"))
    assert [option.text for option in classes.options] == [str(k) for k in range(NUM_CLASSES)]
    assert brightest_columns(grid_pixels(driver)) == [0] * 16
    classes.select_by_value("3")
    wait(driver, lambda: brightest_columns(grid_pixels(driver)) == [3] * 16)
    assert '"labels":3' in by_id(driver, "curl").text


def test_one_row_per_class_of_as_many_classes_as_asked(driver, server):
    open_page(driver, server, "model=cond")
    set_value(driver, "num-samples", 4)
    set_value(driver, "num-classes", 6)
    by_id(driver, "per-class").click()
    wait(driver, lambda: len(grid_pixels(driver)) == 4 * 6)
    columns = brightest_columns(grid_pixels(driver))
    assert columns == [k for k in range(6) for _ in range(4)]
    headings = driver.find_elements("css selector", "#grid .row-label")
    assert [h.text for h in headings] == [f"Class {k}" for k in range(6)]


@pytest.fixture(scope="module")
def judge():
    """The committed MNIST classifier's digit for each of `grid_pixels`' images."""
    from tfgan.metrics import classifier as classifier_lib

    classifier = classifier_lib.load_classifier()

    def digits(pixels):
        logits, _ = classifier_lib.classifier_outputs(classifier, pixels[..., None] / 255.0)
        return [int(k) for k in logits.argmax(axis=1)]

    return digits


def test_the_class_picker_shows_the_digit_picked_as_the_classifier_judges(driver, server,
                                                                          judge):
    open_page(driver, server, "model=digits")
    set_value(driver, "num-samples", 3)
    by_id(driver, "show").click()
    wait(driver, lambda: len(grid_pixels(driver)) == 3)
    classes = Select(by_id(driver, "class"))
    assert [option.text for option in classes.options] == [str(k) for k in range(NUM_CLASSES)]
    for k in range(NUM_CLASSES):
        classes.select_by_value(str(k))
        # The grid and its curl command (the first line) change together.
        wait(driver, lambda: f'"labels":[{k},{k},{k}]' in by_id(driver, "curl").text
             .splitlines()[0])
        assert judge(grid_pixels(driver)) == [k] * 3, f"class {k} picked"


def test_one_row_per_class_shows_each_row_s_digit_as_the_classifier_judges(driver, server,
                                                                          judge):
    open_page(driver, server, "model=digits")
    set_value(driver, "num-samples", 2)
    by_id(driver, "per-class").click()
    wait(driver, lambda: len(grid_pixels(driver)) == 2 * NUM_CLASSES)
    assert judge(grid_pixels(driver)) == [k for k in range(NUM_CLASSES) for _ in range(2)]
    headings = driver.find_elements("css selector", "#grid .row-label")
    assert [h.text for h in headings] == [f"Class {k}" for k in range(NUM_CLASSES)]


def test_the_truncation_control_changes_the_samples(driver, server):
    open_page(driver, server, "model=toy")
    assert not by_id(driver, "truncation-control").is_displayed()
    open_page(driver, server, "model=cond")
    assert by_id(driver, "truncation-control").is_displayed()
    before = grid_pixels(driver)
    by_id(driver, "truncation").send_keys(Keys.HOME)  # psi = 0: every z is 0
    wait(driver, lambda: '"truncation":0' in by_id(driver, "curl").text)
    after = grid_pixels(driver)
    assert not np.array_equal(after, before)
    assert all(np.array_equal(image, after[0]) for image in after)


def test_a_guided_export_gets_its_rejection_strength_from_the_page(driver, server):
    open_page(driver, server, "model=gaussian_1d")
    assert not by_id(driver, "rejection-control").is_displayed()
    open_page(driver, server, "model=ring")
    assert by_id(driver, "rejection-control").is_displayed()
    # REST names every input: the guided signatures get the strength the control shows.
    wait(driver, lambda: '"rejection":1' in by_id(driver, "curl").text)
    by_id(driver, "rejection").send_keys(Keys.HOME)  # r = 0: the unguided samples
    wait(driver, lambda: '"rejection":0' in by_id(driver, "curl").text)
    assert "error" not in status(driver).lower()


def test_the_walk_of_a_guided_export_sends_its_strength_and_follows_it(driver, server):
    open_page(driver, server, "model=guided")
    wait(driver, lambda: walk_picture(driver) is not None)
    # The walk's sample_seeds request names every input, the strength too (REST).
    assert driver.execute_script("return document.body.dataset.state") == "ready", status(driver)
    start = walk_picture(driver)
    by_id(driver, "rejection").send_keys(Keys.END)  # r = 4: other candidates kept
    wait(driver, lambda: '"rejection":4' in by_id(driver, "curl").text)
    wait(driver, lambda: walk_picture(driver) != start)
    assert driver.execute_script("return document.body.dataset.state") == "ready", status(driver)


# ---- toys --------------------------------------------------------------------------------------


def canvas_colours(driver):
    return driver.execute_script("""
        const c = document.getElementById('toy-plot');
        const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        const colours = new Set();
        for (let i = 0; i < data.length; i += 4) colours.add(data[i] << 16 | data[i + 1] << 8 | data[i + 2]);
        return colours.size;""")


@pytest.mark.parametrize("model, cells", [("ring", 48 * 48), ("gaussian_1d", 200)])
def test_a_toy_draws_real_and_generated_points_and_the_discriminator(driver, server, model,
                                                                     cells):
    open_page(driver, server, f"model={model}")
    plot = by_id(driver, "toy-plot")
    assert not by_id(driver, "grid-view").is_displayed()
    assert plot.get_attribute("data-real") == "1000"
    assert int(plot.get_attribute("data-fake")) > 0
    assert plot.get_attribute("data-cells") == str(cells)
    assert canvas_colours(driver) > 20
    assert image_spread(plot.screenshot_as_png) > 10
    assert "real_samples" in by_id(driver, "curl").text


# ---- keyboard and small screens ---------------------------------------------------------------


def test_the_controls_are_reached_in_order_with_tab_and_work_with_keys(driver, server):
    open_page(driver, server, "model=toy")
    driver.execute_script("document.activeElement.blur()")
    reached = []
    for _ in range(6):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        reached.append(driver.switch_to.active_element.get_attribute("id"))
    assert reached == ["model", "version", "num-samples", "seed", "show", "new-samples"]
    ActionChains(driver).send_keys(Keys.ENTER).perform()  # on "New samples"
    wait(driver, lambda: not status(driver).endswith("from seed 0."))


def test_the_class_controls_are_reached_with_tab_and_work_with_keys(driver, server, judge):
    open_page(driver, server, "model=digits")
    set_value(driver, "num-samples", 3)
    by_id(driver, "num-samples").send_keys(Keys.ENTER)
    wait(driver, lambda: status(driver).endswith(": 3 samples from seed 0."))
    driver.execute_script("document.getElementById('new-samples').focus()")
    reached = []
    for _ in range(2):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        reached.append(driver.switch_to.active_element.get_attribute("id"))
    assert reached == ["class", "per-class"]  # the classes come from the model: no count
    ActionChains(driver).key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT).perform()
    ActionChains(driver).send_keys(Keys.ARROW_DOWN * 3).perform()  # class 3
    wait(driver, lambda: '"labels":[3,3,3]' in by_id(driver, "curl").text.splitlines()[0])
    assert judge(grid_pixels(driver)) == [3] * 3
    ActionChains(driver).send_keys(Keys.TAB, Keys.SPACE).perform()  # one row per class
    wait(driver, lambda: len(grid_pixels(driver)) == 3 * NUM_CLASSES)
    assert judge(grid_pixels(driver)) == [k for k in range(NUM_CLASSES) for _ in range(3)]


@pytest.mark.parametrize("model", ["toy", "cond", "digits", "ring"])
def test_nothing_overflows_a_375_pixel_wide_screen(driver, server, model):
    size = driver.get_window_size()
    driver.set_window_size(375, 800)
    try:
        open_page(driver, server, f"model={model}")
        width = driver.execute_script("return document.documentElement.clientWidth")
        assert width <= 375
        assert driver.execute_script("return document.documentElement.scrollWidth") <= width
    finally:
        driver.set_window_size(size["width"], size["height"])


# ---- errors a person understands --------------------------------------------------------------


def test_a_bad_seed_is_said_in_one_line_and_the_page_keeps_working(driver, server):
    open_page(driver, server, "model=toy")
    set_value(driver, "seed", "12x")
    by_id(driver, "show").click()
    wait(driver, lambda: "Seed must be a whole number" in status(driver))
    assert driver.execute_script("return document.body.dataset.state") == "error"
    assert "\n" not in status(driver)
    set_value(driver, "seed", 3)
    by_id(driver, "show").click()
    wait(driver, lambda: status(driver) == "toy (latest version): 16 samples from seed 3.")


class LoneServer:
    """A server of its own on a fixed port, which a test can stop and start again."""

    def __init__(self, base):
        self.base = base
        self.options = ServerOptions(single_model_config("toy", str(base)), grpc_port=None,
                                     rest_port=free_port(), file_system_poll_wait_seconds=-1)
        self.running = None

    def start(self):
        self.running = BackgroundServer(self.options).start()

    def stop(self):
        self.running.stop()
        self.running = None


@pytest.fixture
def lone_server(tmp_path, tmp_path_factory):
    install_version(exported_model(tmp_path_factory, 1), tmp_path / "toy", 1)
    lone = LoneServer(tmp_path / "toy")
    lone.start()
    yield lone
    if lone.running is not None:
        lone.stop()


def test_a_model_that_goes_away_is_said_and_shown_again_when_back(driver, lone_server,
                                                                  tmp_path):
    running, base = lone_server.running, lone_server.base
    open_page(driver, running, "model=toy")
    os.rename(base / "1", tmp_path / "away")
    running.registry.poll_once()
    by_id(driver, "show").click()
    wait(driver, lambda: status(driver).startswith("Not served: "))
    assert "Trying again" in status(driver) and "\n" not in status(driver)
    os.rename(tmp_path / "away", base / "1")
    running.registry.poll_once()
    wait(driver, lambda: status(driver) == "toy (latest version): 16 samples from seed 0.")
    assert len(grid_pixels(driver)) == 16


def test_a_server_that_stops_is_said_and_the_page_works_when_it_is_back(driver, lone_server):
    open_page(driver, lone_server.running, "model=toy")
    lone_server.stop()
    by_id(driver, "new-samples").click()
    wait(driver, lambda: "does not answer" in status(driver))
    seed = by_id(driver, "seed").get_attribute("value")
    lone_server.start()
    wait(driver, lambda: status(driver).endswith(f"16 samples from seed {seed}."))


def test_the_screenshot_check_sees_a_blank_picture_as_blank():
    from PIL import Image

    blank = io.BytesIO()
    Image.new("RGB", (8, 8), (255, 255, 255)).save(blank, format="PNG")
    assert image_spread(blank.getvalue()) == 0
