"""The labeller as a person uses it: JupyterLab in headless Chromium, driven by clicks and keys.

A JupyterLab server starts on a temporary folder holding a tiny notebook (a label store and a
labeller over five 8x8 digits, classes "0".."9"). Chromium opens it, runs every cell from the
Run menu, then clicks a class, Skip and Back and types keys, and after each action reads
``labels.csv`` back. The labeller (header, image, buttons, keys field) must fit in a 1400x1000
window. ``make test`` runs it when a browser is installed (on Debian: ``apt-get install chromium
chromium-driver``; selenium is in the lock file) and skips it, with the reason, when chromium,
chromedriver or selenium is missing.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import diamlib

WINDOW = (1400, 1000)
REPO_ROOT = Path(diamlib.__file__).resolve().parents[1]
CLASSES = [str(d) for d in range(10)]
IDS = [f"digit-{i}" for i in range(5)]
NOTEBOOK_CELLS = [
    "import numpy as np\n"
    "from sklearn.datasets import load_digits\n"
    "from diamlib.userfiles.labelling import LabelStore\n"
    "from diamlib.userfiles.labeller import Labeller\n"
    f"ids = {IDS!r}\n"
    "images = (load_digits().images[:5] * (255 / 16)).round().astype(np.uint8)",
    f"store = LabelStore('labels.csv', {CLASSES!r}, pool_ids=ids)\n"
    "labeller = Labeller(store, ids, images)\n"
    "display(labeller.widget)",
]


def _executable(*names: str) -> str | None:
    for name in names:
        found = shutil.which(name) or (f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").is_file() else None)
        if found:
            return found
    return None


CHROMIUM = _executable("chromium", "chromium-browser", "google-chrome")
CHROMEDRIVER = _executable("chromedriver")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason=f"browser test of the labeller skipped: {'chromium' if CHROMIUM is None else 'chromedriver'} not found "
           f"(on Debian, as root: apt-get install chromium chromium-driver)")


# --------------------------------------------------------------------------- the server
def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _write_notebook(path: Path) -> None:
    cells = [{"cell_type": "code", "execution_count": None, "id": f"cell{i}", "metadata": {}, "outputs": [],
              "source": source} for i, source in enumerate(NOTEBOOK_CELLS)]
    notebook = {"cells": cells, "nbformat": 4, "nbformat_minor": 5,
                "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                            "language": "python"}}}
    path.write_text(json.dumps(notebook, indent=1))


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A JupyterLab server on ``tmp_path/work``; stopped (with its kernels) afterwards."""
    work = tmp_path / "work"
    work.mkdir()
    _write_notebook(work / "labeller.ipynb")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])))
    for variable, folder in [("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_RUNTIME_DIR", "runtime"),
                             ("JUPYTERLAB_SETTINGS_DIR", "settings"), ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"),
                             ("IPYTHONDIR", "ipython")]:
        env[variable] = str(tmp_path / folder)
    no_news = tmp_path / "settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    no_news.parent.mkdir(parents=True)
    no_news.write_text(json.dumps({"fetchNews": "false"}))  # no "Jupyter news?" toast over the page
    port = _free_port()
    log_path = tmp_path / "jupyterlab.log"
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
               "--IdentityProvider.token=", "--ServerApp.password=", f"--ServerApp.root_dir={work}",
               "--ServerApp.terminals_enabled=False", "--LabApp.news_url=None",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    if os.geteuid() == 0:
        command.append("--allow-root")
    with open(log_path, "wb") as log:
        server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(lambda: server.poll() is not None or _responds(f"{url}/api/status"), 60, "JupyterLab to answer")
        if server.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with {server.returncode}:\n{log_path.read_text()[-3000:]}")
        yield {"url": url, "work": work, "log": log_path}
    finally:
        _stop(server)


def _responds(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return answer.status == 200
    except OSError:
        return False


def _stop(server: subprocess.Popen) -> None:
    """SIGTERM (the server shuts its kernels down), then SIGKILL to the whole process group."""
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(server.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    server.wait(timeout=10)


def _wait(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout:.0f} s for {what}")
        time.sleep(0.1)


# --------------------------------------------------------------------------- the browser
@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    """Headless Chromium at 1400x1000 through chromedriver; quit afterwards."""
    webdriver = pytest.importorskip("selenium.webdriver", reason="browser test of the labeller skipped: selenium "
                                                                 "is not installed (pip install selenium)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'chromium'}",
                 f"--window-size={WINDOW[0]},{WINDOW[1]}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = webdriver.ChromeService(executable_path=CHROMEDRIVER, log_output=str(tmp_path / "chromedriver.log"))
    driver = webdriver.Chrome(options=options, service=service)
    try:
        driver.set_page_load_timeout(60)
        yield driver
    finally:
        driver.quit()


def _labels(work: Path) -> dict[str, str]:
    path = work / "labels.csv"
    if not path.exists() or not path.read_text().strip():
        return {}
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    return dict(zip(table["pool_id"], table["label"]))


def _rects(driver: Any) -> dict[str, dict[str, float]]:
    """Viewport rectangles of the labeller's parts, after scrolling the labeller to the top of the view."""
    return driver.execute_script("""
        const box = document.querySelector('.diamlib-labeller');
        box.scrollIntoView({block: 'start'});
        const rect = (el) => { const r = el.getBoundingClientRect();
            return {left: r.left, top: r.top, right: r.right, bottom: r.bottom, width: r.width, height: r.height}; };
        const parts = {window: {left: 0, top: 0, right: window.innerWidth, bottom: window.innerHeight,
                                width: window.innerWidth, height: window.innerHeight},
                       labeller: rect(box)};
        for (const name of ['header', 'image', 'back', 'skip', 'keys'])
            parts[name] = rect(document.querySelector('.diamlib-labeller-' + name));
        document.querySelectorAll('.diamlib-labeller-class').forEach((el, i) => { parts['class ' + i] = rect(el); });
        return parts;""")


def test_labeller_in_jupyterlab(lab, browser):
    from selenium.webdriver.common.by import By

    started = time.monotonic()
    driver, work = browser, lab["work"]

    def header() -> str:
        return driver.find_element(By.CSS_SELECTOR, ".diamlib-labeller-header").text

    def labels_become(expected: dict[str, str], action: str) -> None:
        _wait(lambda: _labels(work) == expected, 15, f"labels.csv to hold {expected} after {action} "
                                                    f"(it holds {_labels(work)})")

    def class_button(name: str) -> Any:
        return next(b for b in driver.find_elements(By.CSS_SELECTOR, ".diamlib-labeller-class")
                    if b.text.split(" [")[0] == name)

    try:
        driver.get(f"{lab['url']}/lab/tree/labeller.ipynb")
        _wait(lambda: "| Idle" in driver.find_element(By.TAG_NAME, "body").text, 60, "the kernel to be idle")
        driver.find_element(By.XPATH, "//li[contains(@class, 'lm-MenuBar-item')][normalize-space()='Run']").click()
        run_all = "//li[contains(@class, 'lm-Menu-item')][normalize-space()='Run All Cells']"
        _wait(lambda: driver.find_elements(By.XPATH, run_all), 10, "the Run menu").pop().click()
        _wait(lambda: driver.find_elements(By.CSS_SELECTOR, "img.diamlib-labeller-image"), 60, "the labeller")
        assert "digit-0" in header() and "1 / 5" in header()

        # one screen: header, image and every button inside the 1400x1000 window at once
        rects = _rects(driver)
        window = rects.pop("window")  # the page's part of the 1400x1000 window
        outside = {name: r for name, r in rects.items() if r["left"] < 0 or r["top"] < 0
                   or r["right"] > window["width"] or r["bottom"] > window["height"]}
        assert not outside, f"parts of the labeller outside the {WINDOW} window's page {window}: {outside}"
        assert 240 <= rects["image"]["width"] <= 320 and 240 <= rects["image"]["height"] <= 320, rects["image"]
        print("window", window, "labeller rectangles (px):", {k: {c: round(v) for c, v in r.items()} for k, r in rects.items()
                                            if not k.startswith("class ") or k in ("class 0", "class 9")})

        class_button("3").click()  # a click labels the shown point and moves on
        labels_become({"digit-0": "3"}, "clicking 3")
        _wait(lambda: "2 / 5" in header(), 10, "the second point")
        driver.find_element(By.CSS_SELECTOR, ".diamlib-labeller-skip").click()
        _wait(lambda: "3 / 5" in header() and "digit-2" in header(), 10, "Skip to show the third point")
        driver.find_element(By.CSS_SELECTOR, ".diamlib-labeller-back").click()
        _wait(lambda: "2 / 5" in header() and "digit-1" in header(), 10, "Back to show the second point")
        assert _labels(work) == {"digit-0": "3"}  # moving labels nothing

        # after a click the focus is in the keys field: keys go on from there
        keys_field = driver.find_element(By.CSS_SELECTOR, ".diamlib-labeller-keys input")
        _wait(lambda: driver.switch_to.active_element == keys_field, 10, "the keys field to take the focus")
        driver.switch_to.active_element.send_keys("7")
        labels_become({"digit-0": "3", "digit-1": "7"}, "typing 7")
        _wait(lambda: "3 / 5" in header() and "digit-2" in header(), 10, "the third point after a key")
        keys_field.send_keys("s")
        _wait(lambda: "4 / 5" in header(), 10, "the key s to skip")
        keys_field.send_keys("b")
        _wait(lambda: "3 / 5" in header(), 10, "the key b to go back")
        keys_field.send_keys("0")
        labels_become({"digit-0": "3", "digit-1": "7", "digit-2": "0"}, "typing 0")
        class_button("7").click()  # and a click after keys
        labels_become({"digit-0": "3", "digit-1": "7", "digit-2": "0", "digit-3": "7"}, "clicking 7")

        # no key reached JupyterLab's own shortcuts (e.g. 7 would make the cell a heading, b add a cell)
        cells = driver.find_elements(By.CSS_SELECTOR, ".jp-Notebook .jp-Cell")
        assert len(cells) == len(NOTEBOOK_CELLS)
        assert all("jp-CodeCell" in cell.get_attribute("class") for cell in cells)
        print(f"browser test: {time.monotonic() - started:.1f} s from opening the notebook")
    except BaseException:
        print("---- JupyterLab log (tail)\n" + lab["log"].read_text()[-4000:])
        try:
            print("---- browser console\n" + "\n".join(str(e) for e in driver.get_log("browser")[-30:]))
            driver.save_screenshot(str(lab["work"].parent / "failure.png"))
            print(f"---- screenshot: {lab['work'].parent / 'failure.png'}")
        except Exception as exc:  # the browser itself may be what failed
            print(f"---- no browser log: {exc}")
        raise
