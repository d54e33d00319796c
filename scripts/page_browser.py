"""A headless Chromium for the sample page: its browser tests and the README's screenshots.

Debian's `chromium` under `chromium-driver` (`apt-get install chromium chromium-driver`),
driven with Selenium (the `dev` extra); nothing is downloaded. Checkout tooling, not server
code: `scripts/page_screenshots.py` imports it from beside itself, the tests through
`tests/scripts_path.py`.
"""

import shutil

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def browser_binaries_missing():
    """str naming the missing binaries (the reason browser tests cannot run), or None."""
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if shutil.which(path) is None]
    if missing:
        return f"{' and '.join(missing)} not installed (apt-get install chromium chromium-driver)"
    return None


def headless_chromium(width=1100, height=1000, download_dir=None):
    """A Selenium `webdriver.Chrome` on a headless Chromium.

    Args:
        width: int, the window width in CSS pixels. Defaults to `1100`.
        height: int, the window height. Defaults to `1000`.
        download_dir: str or None, where downloads are saved. Defaults to None (Chromium's).

    Returns:
        `selenium.webdriver.Chrome`; `quit()` it when done.
    """
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--disable-gpu", "--hide-scrollbars", f"--window-size={width},{height}"):
        options.add_argument(argument)
    if download_dir is not None:
        options.add_experimental_option("prefs", {"download.default_directory": str(download_dir)})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
