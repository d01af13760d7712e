"""Browser tests: Playwright for Python driving Debian's Chromium against a real `plait serve`.

Never downloads a browser: without /usr/bin/chromium the tests fail, saying to
`apt-get install chromium` (.ci/run does). They are never skipped quietly.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, sync_playwright

from tests import loopback

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "correct horse battery"  # a test account
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
STATIC_INDEX = ROOT / "src" / "plait" / "web" / "static" / "index.html"


@dataclass
class Server:
    url: str
    data_dir: Path
    log: Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def run_server(data_dir: Path, *, admin: bool = True) -> Iterator[Server]:
    """`plait serve` on a free loopback port with its own data dir, in preview mode.

    With `admin`, the admin account comes from PLAIT_ADMIN_EMAIL/PASSWORD; without,
    the server starts in first-run mode and prints a setup link.
    """
    if not STATIC_INDEX.is_file():
        pytest.fail("the canvas bundle is missing: run scripts/check-web.sh")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("PLAIT_", "GEMINI_", "GOOGLE_API"))
    }
    env.update(
        PLAIT_DATA_DIR=str(data_dir),
        PLAIT_BASE_URL=url,
        PLAIT_IMAGE_BACKEND="preview",
        PYTHONUNBUFFERED="1",
    )
    if admin:
        env.update(PLAIT_ADMIN_EMAIL=ADMIN_EMAIL, PLAIT_ADMIN_PASSWORD=ADMIN_PASSWORD)
    log_path = data_dir / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "plait", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=data_dir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_healthy(process, url, log_path)
            yield Server(url, data_dir, log_path)
        finally:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_healthy(process: subprocess.Popen[bytes], url: str, log_path: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            output = log_path.read_text(errors="replace")
            pytest.fail(f"plait serve exited with {process.returncode}:\n{output}")
        try:
            if loopback.get(f"{url}/api/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            pytest.fail("plait serve did not answer /api/health within 60 s")
        time.sleep(0.1)


# Package scope: Playwright's sync API keeps an event loop running in this thread while it
# is open, which async tests elsewhere cannot share; it must close when these tests end.
@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the browser tests, with the admin account set from the environment."""
    with run_server(tmp_path_factory.mktemp("plait-e2e")) as live:
        yield live


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("browser tests need Debian's Chromium: apt-get install -y chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@contextmanager
def browser_page(
    browser: Browser, server: Server, storage_state: Path | None = None
) -> Iterator[Page]:
    """A page in its own context; fails the test if the page threw an uncaught error."""
    context = browser.new_context(
        viewport={"width": 1440, "height": 900},
        base_url=server.url,
        storage_state=storage_state,
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield page
    finally:
        context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


@pytest.fixture(scope="package")
def session_state(
    browser: Browser, server: Server, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """Signs in through the page once (sign-in attempts are rate-limited per account) and
    keeps the session cookie for the other tests."""
    path = tmp_path_factory.mktemp("browser") / "session.json"
    with browser_page(browser, server) as page:
        sign_in(page)
        page.context.storage_state(path=path)
    return path


@pytest.fixture
def signed_in(browser: Browser, server: Server, session_state: Path) -> Iterator[Page]:
    """A fresh page with the admin's session, on the flow list."""
    with browser_page(browser, server, session_state) as page:
        page.goto("/")
        page.get_by_test_id("new-flow").wait_for()
        yield page


def sign_in(page: Page) -> None:
    page.goto("/")
    page.get_by_test_id("login-email").fill(ADMIN_EMAIL)
    page.get_by_test_id("login-password").fill(ADMIN_PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.get_by_test_id("new-flow").wait_for()


_SAVE_SCREENSHOTS: list[bool] = [False]


@pytest.fixture(scope="package", autouse=True)
def _screenshots_option(request: pytest.FixtureRequest) -> None:
    _SAVE_SCREENSHOTS[0] = bool(request.config.getoption("--screenshots"))


def screenshot(target: Page | Locator, name: str) -> None:
    """Renders the page, or one element of it; saves it as docs/screenshots/NAME.png only
    with `pytest --screenshots` (scripts/screenshots.sh): tests never rewrite committed
    files."""
    image = target.screenshot()
    assert image.startswith(b"\x89PNG")
    if _SAVE_SCREENSHOTS[0]:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        (SCREENSHOTS / f"{name}.png").write_bytes(image)
