"""A real JupyterLab and a real Voilà, driven by Playwright in Debian's Chromium (`make test-browser`).

Playwright's own browser download is not used: the system's `/usr/bin/chromium` is (`CHROMIUM` to
point elsewhere). Each server runs on 127.0.0.1 with its own Jupyter config, data and runtime folders,
so nothing of the user's Jupyter set-up (trusted notebooks, settings, workspaces) takes part: a
notebook opens untrusted, as from a fresh clone. Screenshots go to `$BROWSER_SHOTS` (default: a
temporary folder, printed at the end).
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SAVE_HOOK = "iterable_sim.widgets.notebook_files.pre_save_hook"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    """Until the server answers `url` (any HTTP answer counts: it is up)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer in {timeout} s:\n{log.read_text()[-3000:]}")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def shots() -> Iterator[Path]:
    folder = Path(os.environ.get("BROWSER_SHOTS") or tempfile.mkdtemp(prefix="browser-shots-"))
    folder.mkdir(parents=True, exist_ok=True)
    yield folder
    print(f"\nscreenshots: {folder}")


@pytest.fixture(scope="session")
def jupyter_env(tmp_path_factory) -> dict[str, str]:
    """An environment with Jupyter folders of its own (no trusted notebooks, no saved settings), no API key,
    and JupyterLab's news feed off (it would reach the network)."""
    home = tmp_path_factory.mktemp("jupyter-home")
    env = {k: v for k, v in os.environ.items() if k != "ITERABLE_API_KEY"}
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        env[name] = str(home / name.lower())
    labconfig = home / "jupyter_config_dir" / "labconfig"
    labconfig.mkdir(parents=True)
    (labconfig / "page_config.json").write_text(json.dumps(
        {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}))
    return env


@pytest.fixture(scope="session")
def lab(tmp_path_factory, jupyter_env) -> Iterator[dict[str, object]]:
    """JupyterLab on a copy of the committed notebooks (what a fresh clone holds), saving through the
    package's pre-save hook as `make jupyter` does."""
    workdir = tmp_path_factory.mktemp("lab")
    notebooks = workdir / "notebooks"
    shutil.copytree(ROOT / "notebooks", notebooks)
    port = free_port()
    log = workdir / "jupyterlab.log"
    command = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root", f"--port={port}",
               "--ServerApp.ip=127.0.0.1", "--IdentityProvider.token=", "--ServerApp.password=",
               "--ServerApp.disable_check_xsrf=True",
               f"--ServerApp.root_dir={notebooks}", f"--ContentsManager.pre_save_hook={SAVE_HOOK}",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    with log.open("w") as out:
        process = subprocess.Popen(command, env=jupyter_env, stdout=out, stderr=subprocess.STDOUT, cwd=notebooks)
    try:
        wait_for(f"http://127.0.0.1:{port}/api/status", process, log)
        yield {"url": f"http://127.0.0.1:{port}", "root": notebooks, "log": log}
    finally:
        stop(process)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: apt-get install chromium (make test-browser does)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


class Console:
    """The browser console's errors and the page's uncaught exceptions."""

    def __init__(self, page) -> None:
        self.errors: list[str] = []
        page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.console = Console(page)
    yield page
    context.close()
