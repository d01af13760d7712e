"""The canvas end to end: build, run, publish, call, edit, roll back — in a real browser."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from PIL import Image as PILImage
from playwright.sync_api import Page, Response, expect

from tests import loopback
from tests.e2e.canvas import (
    click_edge,
    connect,
    drop,
    edge,
    new_flow,
    select_node,
    wait_valid,
)
from tests.e2e.conftest import Server, screenshot


def call(endpoint: str, prompt: str) -> dict[str, Any]:
    answer = loopback.post(endpoint, json={"prompt": prompt}, timeout=60)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert isinstance(body, dict)
    return body


def _answers_publish(response: Response) -> bool:
    return response.request.method == "POST" and response.url.endswith("/publish")


def test_build_run_publish_call_edit_and_roll_back(signed_in: Page, server: Server) -> None:
    page = signed_in
    new_flow(page, "Product shot")

    # Build HTTP Trigger → Image → Respond on the empty canvas by dragging from the palette.
    drop(page, "http_trigger", 130, 160)
    drop(page, "image", 430, 160)
    drop(page, "respond", 730, 160)
    for node in ("trigger", "image", "respond"):
        expect(page.get_by_test_id(f"node-{node}")).to_be_visible()
    connect(page, "trigger.prompt", "image.prompt")
    connect(page, "image.image", "respond.image")
    expect(edge(page, "trigger.prompt", "image.prompt")).to_have_count(1)
    expect(edge(page, "image.image", "respond.image")).to_have_count(1)

    # The prompt: the trigger's text wrapped in a template (so the edge goes, the reference stays).
    page.get_by_test_id("config-panel").wait_for()
    select_node(page, "image")
    page.get_by_test_id("config-prompt").fill("A studio photo of {{ trigger.prompt }}")
    click_edge(page, "trigger.prompt", "image.prompt")
    page.keyboard.press("Delete")
    expect(edge(page, "trigger.prompt", "image.prompt")).to_have_count(0)
    wait_valid(page)

    # Run in preview mode: the image appears on the Image node.
    expect(page.get_by_test_id("preview-banner")).to_be_visible()
    page.get_by_test_id("run-button").click()
    expect(page.get_by_test_id("run-cost-estimate")).to_contain_text("offline, free")
    page.get_by_test_id("run-input-prompt").fill("a red sneaker")
    page.get_by_test_id("run-submit").click()
    expect(page.get_by_test_id("node-image-image")).to_be_visible(timeout=30_000)
    expect(page.get_by_test_id("run-status")).to_have_attribute("data-status", "succeeded")
    expect(page.get_by_test_id("node-image").locator(".preview-tag")).to_be_visible()
    expect(page.get_by_test_id("run-node-image")).to_contain_text("preview")
    image_url = page.get_by_test_id("node-image-image").get_attribute("src")
    assert image_url
    assert loopback.get(image_url).headers["content-type"].startswith("image/")
    # the settled run's record: its duration shows (the screenshots show a finished run)
    expect(page.get_by_test_id("run-duration")).to_have_text(re.compile(r"\d"))
    screenshot(page, "editor")
    screenshot(page.get_by_test_id("run-panel"), "run-panel")

    # Publish: the dialog shows the secret once, the endpoint and examples.
    page.get_by_test_id("publish-button").click()
    page.get_by_test_id("publish-submit").click()
    secret = page.get_by_test_id("publish-secret").inner_text()
    assert len(secret) >= 40
    endpoint = page.get_by_test_id("publish-endpoint-trigger").inner_text()
    assert endpoint == f"{server.url}/api/trigger/{secret}/trigger"
    expect(page.get_by_test_id("publish-example-curl")).to_contain_text(secret)
    # The new flow was version 1 (empty); publishing saved the draft as version 2.
    expect(page.get_by_test_id("publish-current-version")).to_have_text("v2")
    screenshot(page, "publish-dialog")
    page.keyboard.press("Escape")

    # Call the endpoint over HTTP: JSON with a signed link to the image.
    body = call(endpoint, "a red sneaker")
    assert body["image"].startswith(f"{server.url}/files/")
    assert "version" not in body
    assert loopback.get(body["image"]).status_code == 200

    # Edit: the response gains a field; publish again (saving first makes version 3).
    select_node(page, "respond")
    page.get_by_test_id("config-fields-add").click()
    page.get_by_test_id("config-fields-1-name").fill("version")
    page.get_by_test_id("config-fields-1-value").fill("two")
    wait_valid(page)
    expect(page.get_by_test_id("save-state")).to_have_text("Unsaved changes")
    page.get_by_test_id("publish-button").click()
    page.get_by_test_id("publish-submit").click()
    expect(page.get_by_test_id("publish-current-version")).to_have_text("v3")
    expect(page.get_by_test_id("save-state")).to_have_text("Saved · v3")
    assert call(endpoint, "a red sneaker")["version"] == "two"

    # Roll back: publish version 2 again; the endpoint serves the old flow.
    page.get_by_test_id("publish-version").select_option("2")
    expect(page.get_by_test_id("publish-submit")).to_have_text("Roll back to v2")
    page.get_by_test_id("publish-submit").click()
    expect(page.get_by_test_id("publish-current-version")).to_have_text("v2")
    assert "version" not in call(endpoint, "a red sneaker")

    # A daily budget: set, shown with today's spending (previews cost nothing), kept, removed.
    page.get_by_test_id("publish-daily-budget").fill("0.25")
    expect(page.get_by_test_id("publish-submit")).to_have_text("Update")
    page.get_by_test_id("publish-submit").click()
    expect(page.get_by_test_id("publish-spending")).to_contain_text("spent today $0 of $0.250")
    expect(page.get_by_test_id("publish-spending")).to_contain_text("resets at 00:00 UTC")
    page.keyboard.press("Escape")
    page.get_by_test_id("publish-button").click()
    expect(page.get_by_test_id("publish-daily-budget")).to_have_value("0.25")
    page.get_by_test_id("publish-daily-budget").fill("")
    page.get_by_test_id("publish-version").select_option("2")  # the dialog offers the latest
    page.get_by_test_id("publish-submit").click()
    expect(page.get_by_test_id("publish-spending")).to_have_count(0)

    # Offered as an MCP tool: off by default, kept once turned on.
    expect(page.get_by_test_id("publish-mcp")).not_to_be_checked()
    page.get_by_test_id("publish-mcp").check()
    page.get_by_test_id("publish-version").select_option("2")
    # closed only once the server answered: a dialog reopened before shows the old state
    with page.expect_response(_answers_publish) as published:
        page.get_by_test_id("publish-submit").click()
    assert published.value.ok
    page.keyboard.press("Escape")
    page.get_by_test_id("publish-button").click()
    expect(page.get_by_test_id("publish-mcp")).to_be_checked()

    # Rotate the secret: the new one is shown once; the old one works during the grace period.
    page.get_by_test_id("publish-rotate").click()
    expect(page.get_by_test_id("publish-rotate-question")).to_contain_text("1 hour")
    page.get_by_test_id("publish-rotate-confirm").click()
    expect(page.get_by_test_id("publish-secret")).not_to_have_text(secret)
    new_secret = page.get_by_test_id("publish-secret").inner_text()
    new_endpoint = page.get_by_test_id("publish-endpoint-trigger").inner_text()
    assert new_endpoint == f"{server.url}/api/trigger/{new_secret}/trigger"
    assert "image" in call(new_endpoint, "a red sneaker")
    assert "image" in call(endpoint, "a red sneaker")
    page.keyboard.press("Escape")

    # History: the versions, v2 published, and a diff between v2 and v3.
    page.get_by_test_id("sidebar-tab-history").click()
    page.get_by_test_id("history-tab-versions").click()
    expect(page.get_by_test_id("version-2-published")).to_be_visible()
    page.get_by_test_id("version-2").get_by_role("checkbox").check()
    page.get_by_test_id("version-3").get_by_role("checkbox").check()
    expect(page.get_by_test_id("version-diff")).to_contain_text("respond")

    # Restore version 2 into the draft: saved as version 4, without the extra field.
    page.get_by_test_id("version-2-restore").click()
    expect(page.get_by_test_id("save-state")).to_have_text("Saved · v4")
    select_node(page, "respond")
    expect(page.get_by_test_id("config-fields-1-name")).to_have_count(0)

    # Unpublish: the endpoint stops answering.
    page.get_by_test_id("publish-button").click()
    page.get_by_test_id("publish-unpublish").click()
    page.get_by_test_id("publish-unpublish-confirm").click()
    expect(page.get_by_test_id("publish-status")).to_contain_text("Not published")
    assert loopback.post(new_endpoint, json={"prompt": "x"}).status_code == 404


def test_an_edge_between_incompatible_ports_is_refused(signed_in: Page) -> None:
    page = signed_in
    new_flow(page, "Refusals")
    drop(page, "http_trigger", 130, 160)
    drop(page, "text_overlay", 480, 160)
    expect(page.get_by_test_id("handle-overlay-in-image")).to_be_visible()

    connect(page, "trigger.prompt", "overlay.image")

    expect(page.get_by_test_id("toast")).to_contain_text("text output cannot feed an image input")
    expect(page.locator(".react-flow__edge")).to_have_count(0)


def test_click_to_add_undo_redo_copy_paste(signed_in: Page) -> None:
    page = signed_in
    new_flow(page, "Keyboard")
    page.get_by_test_id("palette-search").fill("resize")
    expect(page.get_by_test_id("palette-image")).to_have_count(0)
    page.get_by_test_id("palette-image_resize").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("node-resize")).to_be_visible()

    page.get_by_test_id("node-resize").locator(".node-header").click()
    page.keyboard.press("Control+c")
    page.keyboard.press("Control+v")
    expect(page.get_by_test_id("node-resize_2")).to_be_visible()

    page.keyboard.press("Control+z")
    expect(page.get_by_test_id("node-resize_2")).to_have_count(0)
    page.keyboard.press("Control+z")
    expect(page.get_by_test_id("node-resize")).to_have_count(0)
    page.keyboard.press("Control+Shift+z")
    expect(page.get_by_test_id("node-resize")).to_be_visible()

    page.get_by_test_id("save-button").click()
    expect(page.get_by_test_id("save-state")).to_have_text("Saved · v2")


def test_renaming_a_trigger_field_keeps_its_edge(signed_in: Page) -> None:
    page = signed_in
    new_flow(page, "Renames")
    drop(page, "http_trigger", 130, 160)
    drop(page, "image", 480, 160)
    connect(page, "trigger.prompt", "image.prompt")
    expect(edge(page, "trigger.prompt", "image.prompt")).to_have_count(1)

    select_node(page, "trigger")
    page.get_by_test_id("config-fields-0-name").fill("subject")

    expect(edge(page, "trigger.subject", "image.prompt")).to_have_count(1)
    expect(page.get_by_test_id("handle-trigger-out-subject")).to_be_visible()
    wait_valid(page)
    expect(page.get_by_test_id("dangling-edges")).to_have_count(0)


def test_an_uploaded_image_feeds_a_captioned_reference(signed_in: Page, tmp_path: Path) -> None:
    page = signed_in
    photo = tmp_path / "photo.png"
    PILImage.new("RGB", (64, 48), (200, 40, 40)).save(photo)
    new_flow(page, "References")
    drop(page, "http_trigger", 130, 160)
    drop(page, "image", 480, 160)

    select_node(page, "trigger")
    page.get_by_test_id("config-fields-0-name").fill("photo")
    page.get_by_test_id("config-fields-0-type").select_option("image")
    expect(page.get_by_test_id("handle-trigger-out-photo")).to_be_visible()

    select_node(page, "image")
    page.get_by_test_id("config-model").select_option("gemini-nano-banana-2.1")
    expect(page.get_by_test_id("config-image-size")).to_be_enabled()
    page.get_by_test_id("config-aspect-ratio").select_option("4:1")
    page.get_by_test_id("config-prompt").fill("Put the product on a beach")
    page.get_by_test_id("reference-add").click()
    page.get_by_test_id("reference-0-caption").fill("the product:")
    expect(page.get_by_test_id("handle-image-in-ref_1")).to_be_visible()
    connect(page, "trigger.photo", "image.ref_1")
    expect(edge(page, "trigger.photo", "image.ref_1")).to_have_count(1)
    wait_valid(page)

    page.get_by_test_id("run-button").click()
    page.get_by_test_id("run-input-photo").set_input_files(photo)
    expect(page.get_by_test_id("run-submit")).to_be_enabled()
    page.get_by_test_id("run-submit").click()
    image = page.get_by_test_id("node-image-image")
    expect(image).to_be_visible(timeout=30_000)
    expect(page.get_by_test_id("run-status")).to_have_attribute("data-status", "succeeded")
    # The preview backend renders at the model's exact size for 4:1 at 1K.
    # read once decoded: visible is not loaded (the CI run read 0 × 0 before it was)
    size = image.evaluate("img => img.decode().then(() => [img.naturalWidth, img.naturalHeight])")
    assert size == [2048, 512]


def test_a_deprecated_model_shows_its_dates_and_switches_to_its_successor(
    signed_in: Page,
) -> None:
    page = signed_in
    new_flow(page, "Retiring model")
    drop(page, "image", 300, 160)
    select_node(page, "image")
    model = page.get_by_test_id("config-model")
    expect(model).to_have_value("gemini-nano-banana-2.1")  # the catalog's default
    expect(page.get_by_test_id("model-lifecycle")).to_have_count(0)
    options = model.locator("option").all_inner_texts()
    assert not any("Nano Banana 2)" in o for o in options)  # the shut-down 3.1 Flash Image
    assert any("Nano Banana) " in o and "deprecated, shuts down 2027-03-15" in o for o in options)

    model.select_option("gemini-2.5-flash-image")
    page.get_by_test_id("config-aspect-ratio").select_option("21:9")
    page.get_by_test_id("config-prompt").fill("A lighthouse at dusk")
    badge = page.get_by_test_id("model-lifecycle-badge")
    expect(badge).to_have_text("deprecated 2026-09-18")
    expect(page.get_by_test_id("model-lifecycle")).to_contain_text(
        "Google shuts it down on 2027-03-15. It still runs."
    )
    switch = page.get_by_test_id("model-switch")
    expect(switch).to_have_text("Switch to Gemini 3.1 Flash-Lite Image (Nano Banana 2 Lite)")
    switch.click()

    expect(model).to_have_value("gemini-3.1-flash-lite-image")
    expect(page.get_by_test_id("config-aspect-ratio")).to_have_value("21:9")  # Lite offers it
    expect(page.get_by_test_id("config-prompt")).to_have_value("A lighthouse at dusk")
    expect(page.get_by_test_id("model-lifecycle")).to_have_count(0)
    wait_valid(page)


def test_the_image_form_shows_the_stored_defaults(signed_in: Page) -> None:
    page = signed_in
    new_flow(page, "Defaults")
    drop(page, "image", 480, 160)
    select_node(page, "image")

    expect(page.get_by_test_id("config-aspect-ratio")).to_have_value("auto")
    expect(page.get_by_test_id("modality-image")).to_be_checked()
    expect(page.get_by_test_id("modality-image")).to_be_disabled()
    expect(page.get_by_test_id("modality-text")).to_be_checked()  # the default: TEXT + IMAGE
    page.get_by_test_id("modality-text").uncheck()
    expect(page.get_by_test_id("modality-text")).not_to_be_checked()
    expect(page.get_by_test_id("modality-image")).to_be_checked()
    page.get_by_test_id("reference-add").click()
    expect(page.get_by_test_id("config-aspect-ratio")).to_contain_text("keep the reference's shape")


def test_a_flow_can_be_built_from_the_keyboard(signed_in: Page) -> None:
    page = signed_in
    new_flow(page, "Keys only")

    def add(node_type: str) -> None:
        page.get_by_test_id(f"palette-{node_type}").focus()
        page.keyboard.press("Enter")

    add("http_trigger")
    add("image")
    expect(page.get_by_test_id("config-node-id")).to_have_text("image")
    page.get_by_test_id("wire-prompt").select_option("trigger.prompt")
    add("respond")
    expect(page.get_by_test_id("config-node-id")).to_have_text("respond")
    # Only compatible outputs are offered; Respond's fields take anything.
    page.get_by_test_id("wire-image").select_option("image.image")

    expect(edge(page, "trigger.prompt", "image.prompt")).to_have_count(1)
    expect(edge(page, "image.image", "respond.image")).to_have_count(1)
    wait_valid(page)
