"""The flow list and the settings page in a real browser."""

from __future__ import annotations

import json
import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.canvas import drop, new_flow


def test_flow_list_rename_duplicate_export_import_delete(signed_in: Page, tmp_path: Path) -> None:
    page = signed_in
    flow_id = new_flow(page, "Catalogue")
    drop(page, "text", 200, 160)
    page.get_by_test_id("save-button").click()
    expect(page.get_by_test_id("save-state")).to_have_text("Saved · v2")
    page.get_by_role("link", name="← Flows").click()

    row = page.get_by_test_id(f"flow-row-{flow_id}")
    row.get_by_role("button", name="Rename").click()
    page.get_by_test_id("flow-name-input").fill("Catalogue shots")
    page.get_by_test_id("flow-name-submit").click()
    expect(row.get_by_role("link")).to_have_text("Catalogue shots")

    row.get_by_role("button", name="Duplicate").click()
    expect(page.get_by_role("link", name="Catalogue shots (copy)")).to_be_visible()

    with page.expect_download() as download:
        row.get_by_role("button", name="Export").click()
    exported = tmp_path / "exported.json"
    download.value.save_as(exported)
    document = json.loads(exported.read_text())
    assert document["name"] == "Catalogue shots"
    assert [n["id"] for n in document["nodes"]] == ["text"]

    document["name"] = "Imported"
    exported.write_text(json.dumps(document))
    page.get_by_test_id("import-file").set_input_files(exported)
    page.wait_for_url(re.compile(r"/flows/[^/]+$"))
    expect(page.get_by_test_id("flow-name")).to_have_value("Imported")
    expect(page.get_by_test_id("node-text")).to_be_visible()
    page.get_by_role("link", name="← Flows").click()

    row.get_by_role("button", name="Delete").click()
    page.get_by_test_id("confirm-delete").click()
    expect(row).to_have_count(0)
    expect(page.get_by_role("link", name="Imported")).to_be_visible()


def test_settings_gemini_key_is_write_only_and_tokens_are_shown_once(signed_in: Page) -> None:
    page = signed_in
    page.get_by_role("link", name="Settings").click()
    expect(page.get_by_test_id("settings-key-hint")).to_have_text("none")

    page.get_by_test_id("gemini-key-input").fill("AIzaTESTKEY-not-real-1234")
    page.get_by_test_id("gemini-key-save").click()
    expect(page.get_by_test_id("settings-key-hint")).to_contain_text("1234")
    expect(page.get_by_test_id("settings-key-hint")).not_to_contain_text("AIzaTESTKEY")
    expect(page.get_by_test_id("gemini-key-input")).to_have_value("")
    page.get_by_role("button", name="Remove stored key").click()
    expect(page.get_by_test_id("settings-key-hint")).to_have_text("none")

    page.get_by_test_id("token-name").fill("CI")
    page.get_by_test_id("token-scope-read").uncheck()
    page.get_by_test_id("token-scope-write").uncheck()  # a token that only runs flows
    page.get_by_test_id("token-expiry").select_option(label="in 30 days")
    page.get_by_test_id("token-create").click()
    token = page.get_by_test_id("token-value").inner_text()
    assert token.startswith("plait_")
    table = page.get_by_test_id("token-table")
    expect(table).to_contain_text("CI")
    expect(page.get_by_test_id("token-row-scopes")).to_have_text("run")
    expect(table).not_to_contain_text("never never")  # it expires, though never used yet
    expect(table).not_to_contain_text(token)
    table.get_by_role("button", name="Delete").click()
    expect(page.get_by_test_id("token-table")).to_have_count(0)


def test_settings_show_the_mcp_url_and_a_client_configuration(signed_in: Page) -> None:
    page = signed_in
    page.get_by_role("link", name="Settings").click()
    url = page.get_by_test_id("settings-mcp-url")
    expect(url).to_have_text(re.compile(r"^http://127\.0\.0\.1:\d+/mcp$"))
    config = json.loads(page.get_by_test_id("settings-mcp-config").inner_text())
    server = config["mcpServers"]["plait"]
    assert server["url"] == url.inner_text()
    assert server["headers"]["Authorization"].startswith("Bearer ")
