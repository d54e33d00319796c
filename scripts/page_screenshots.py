"""The README's screenshots of the sample page, from real exports, in a headless Chromium.

    MNIST_PATH=/path/to/mnist.npz
    tfgan-train --flagfile=configs/mnist_mlp.flags --steps=10000 --workdir=runs/shots/mnist \
      --export_dir=runs/shots/export --model_name=mnist
    tfgan-train --flagfile=configs/ring.flags --steps=15000 --workdir=runs/shots/ring \
      --export_dir=runs/shots/export --model_name=ring
    python scripts/page_screenshots.py --export_dir=runs/shots/export --out_dir=docs/img
    # The class-conditional page: docs/metrics.md's 15-minute mnist_conditional run, one row
    # of ten samples per class (a 760-pixel window holds ten 64-pixel columns).
    tfgan-export --workdir=runs/mnist_conditional --export_dir=runs/shots/export \
      --model_name=mnist_conditional
    python scripts/page_screenshots.py --export_dir=runs/shots/export --out_dir=docs/img \
      --models=mnist_conditional --width=760

Serves every model under `--export_dir` with the embedded server on a free loopback port,
opens the page for each of `--models` (images: seed `--seed`, the walk half-way, and for a
class-conditional model one row of `--per_class` samples per class; toys: the points over the
data and D's surface) and saves the whole page as `<out_dir>/page_<model>.png`.
Needs Debian's `chromium` and `chromium-driver`.
"""

import base64
import os

import _checkout  # noqa: F401  (this checkout's tfgan first)
from absl import app, flags
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait
from tensorflow_serving.config import model_server_config_pb2

from page_browser import browser_binaries_missing, headless_chromium
from tfgan.cli.errors import FAILURE, USAGE, fail
from tfgan.cli.flags import flags_parser
from tfgan.serving import BackgroundServer, ServerOptions

FLAGS = flags.FlagValues()
flags.DEFINE_string("export_dir", "runs/shots/export", "Holds one directory per model.",
                    flag_values=FLAGS)
flags.DEFINE_list("models", ["mnist", "ring"], "The models to photograph.", flag_values=FLAGS)
flags.DEFINE_string("out_dir", "docs/img", "Where the PNGs go.", flag_values=FLAGS)
flags.DEFINE_integer("seed", 7, "The seed of the samples shown.", lower_bound=0,
                     flag_values=FLAGS)
flags.DEFINE_integer("per_class", 10, "Conditional models: the samples in each class's row.",
                     lower_bound=1, flag_values=FLAGS)
flags.DEFINE_integer("width", 1000, "The window width in CSS pixels.", lower_bound=375,
                     flag_values=FLAGS)
WAIT_SECONDS = 120


def model_config(names):
    config = model_server_config_pb2.ModelServerConfig()
    for name in names:
        config.model_config_list.config.add(
            name=name, base_path=os.path.abspath(os.path.join(FLAGS.export_dir, name)),
            model_platform="tensorflow")
    return config


def wait_for(driver, condition):
    WebDriverWait(driver, WAIT_SECONDS).until(lambda _: condition())


def page_state(driver):
    return driver.execute_script("return document.body.dataset.state")


def photograph(driver, server, name):
    """Shows model `name` at `--seed`, walks half-way for images, a row per class for a
    conditional model, and saves the whole page."""
    driver.get(f"{server.rest_url}/?model={name}")
    wait_for(driver, lambda: page_state(driver) != "loading")
    conditional = driver.find_element("id", "class-controls").is_displayed()
    if conditional:
        count = driver.find_element("id", "num-samples")
        count.clear()
        count.send_keys(str(FLAGS.per_class))
    seed = driver.find_element("id", "seed")
    seed.clear()
    seed.send_keys(str(FLAGS.seed))
    if conditional:
        driver.find_element("id", "per-class").click()  # shows the rows for this seed
    else:
        seed.send_keys(Keys.ENTER)
    samples = f"{FLAGS.per_class} samples" if conditional else "samples"
    wait_for(driver, lambda: driver.find_element("id", "status").text.endswith(
        f"{samples} from seed {FLAGS.seed}."))
    if driver.find_element("id", "walk-view").is_displayed():
        driver.find_element("id", "walk").send_keys(*[Keys.ARROW_RIGHT] * 10)
        wait_for(driver, lambda: "Position 0.5 " in driver.find_element("id", "walk-kind").text)
    driver.execute_script("document.activeElement.blur()")
    if page_state(driver) != "ready":
        fail(f"the page for {name} says: {driver.find_element('id', 'status').text}", FAILURE)
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip})
    path = os.path.join(FLAGS.out_dir, f"page_{name}.png")
    with open(path, "wb") as f:
        f.write(base64.b64decode(shot["data"]))
    print(f"wrote {path}")


def main(argv):
    del argv
    missing = browser_binaries_missing()
    if missing:
        fail(missing, USAGE)
    absent = [m for m in FLAGS.models if not os.path.isdir(os.path.join(FLAGS.export_dir, m))]
    if absent:
        fail(f"--export_dir={FLAGS.export_dir} holds no model {', '.join(absent)}", USAGE)
    os.makedirs(FLAGS.out_dir, exist_ok=True)
    options = ServerOptions(model_config(FLAGS.models), grpc_port=None, rest_port=0,
                            file_system_poll_wait_seconds=-1)
    with BackgroundServer(options) as server:
        driver = headless_chromium(width=FLAGS.width)
        try:
            for name in FLAGS.models:
                photograph(driver, server, name)
        finally:
            driver.quit()


if __name__ == "__main__":
    app.run(main, flags_parser=flags_parser(FLAGS, __doc__))
