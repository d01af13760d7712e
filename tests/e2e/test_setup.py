"""First run: the setup link `plait serve` prints opens the setup form in the canvas."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Browser, expect

from tests.e2e.conftest import run_server


def test_first_run_setup_from_the_printed_link(browser: Browser, tmp_path: Path) -> None:
    with run_server(tmp_path, admin=False) as server:
        found = re.search(r"(http://\S+/setup\?token=\S+)", server.log.read_text())
        assert found, server.log.read_text()
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        page.goto(found.group(1))
        expect(page.get_by_test_id("setup-token")).not_to_have_value("")
        page.get_by_test_id("setup-email").fill("owner@example.com")
        page.get_by_test_id("setup-password").fill("a long passphrase")
        page.get_by_test_id("setup-password-repeat").fill("a long passphrase")
        page.get_by_test_id("setup-submit").click()
        expect(page.get_by_test_id("new-flow")).to_be_visible()
        expect(page).to_have_url(f"{server.url}/")
        # Signed in with a CSRF token: an unsafe request works.
        page.get_by_test_id("new-flow").click()
        page.get_by_test_id("flow-name-submit").click()
        page.get_by_test_id("palette").wait_for()
        context.close()
