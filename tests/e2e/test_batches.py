"""Batches on the canvas (upload rows, confirm, follow, download) and the cached-node mark.

The node cache is shared by every flow on the server: prompts here are unlike the other
browser tests', so that no other test finds its image already cached."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from pathlib import Path

from PIL import Image
from playwright.sync_api import Page, expect

from tests.e2e.conftest import screenshot

FLOW = {
    "format": 1,
    "name": "Batch shots",
    "nodes": [
        {
            "id": "trigger",
            "type": "http_trigger",
            "config": {"fields": [{"name": "prompt"}]},
            "position": {"x": 60, "y": 120},
        },
        {
            "id": "image",
            "type": "image",
            "config": {"prompt": "A catalogue photo of {{ trigger.prompt }}"},
            "position": {"x": 360, "y": 120},
        },
        {
            "id": "respond",
            "type": "respond",
            "config": {"fields": [{"name": "image"}]},
            "position": {"x": 700, "y": 120},
        },
    ],
    "edges": [{"from": "image.image", "to": "respond.image"}],
}


def _import(page: Page, tmp_path: Path, name: str) -> None:
    """Imports FLOW from the flow list and waits for the editor."""
    path = tmp_path / "flow.json"
    path.write_text(json.dumps({**FLOW, "name": name}))
    page.get_by_test_id("import-file").set_input_files(path)
    page.wait_for_url(re.compile(r"/flows/[^/]+$"))
    expect(page.get_by_test_id("node-image")).to_be_visible()


def test_upload_rows_confirm_follow_and_download(signed_in: Page, tmp_path: Path) -> None:
    page = signed_in
    _import(page, tmp_path, "Batch shots")
    page.get_by_test_id("batches-link").click()
    page.wait_for_url(re.compile(r"/flows/[^/]+/batches$"))

    bad = tmp_path / "bad.csv"
    bad.write_text("prompt,colour\na red teapot,red\n")
    page.get_by_test_id("batch-rows").set_input_files(bad)
    page.get_by_test_id("batch-estimate").click()
    problems = page.get_by_test_id("batch-problems")
    expect(problems).to_contain_text("colour")
    expect(problems).to_contain_text("not a field of the trigger")
    expect(page.get_by_test_id("batch-start")).to_have_count(0)

    rows = tmp_path / "shots.csv"
    rows.write_text("prompt\na red teapot\na blue kettle\na green lamp\n")
    page.get_by_test_id("batch-rows").set_input_files(rows)
    page.get_by_test_id("batch-estimate").click()
    expect(page.get_by_test_id("batch-estimate-result")).to_contain_text(
        "3 rows on the preview backend"
    )
    expect(problems).to_have_count(0)
    page.get_by_test_id("batch-start").click()

    view = page.get_by_test_id("batch-view")
    expect(view).to_have_attribute("data-state", "finished", timeout=60_000)
    expect(page.get_by_test_id("batch-done")).to_contain_text("3 / 3")
    expect(page.get_by_test_id("batch-failed")).to_have_text("0")
    expect(page.get_by_test_id("batch-progress")).to_have_attribute("aria-valuenow", "3")
    for number in (1, 2, 3):
        expect(page.get_by_test_id(f"batch-row-{number}")).to_contain_text("succeeded")
    expect(page.get_by_test_id("batch-row-2")).to_contain_text("a blue kettle")
    expect(page.get_by_test_id("batch-list")).to_contain_text("shots.csv")
    screenshot(page, "batches")

    with page.expect_download() as download:
        page.get_by_test_id("batch-download").click()
    saved = tmp_path / "results.zip"
    download.value.save_as(saved)
    archive = zipfile.ZipFile(saved)
    manifest = list(csv.DictReader(io.StringIO(archive.read("manifest.csv").decode())))
    assert [(m["row"], m["status"]) for m in manifest] == [
        ("1", "succeeded"),
        ("2", "succeeded"),
        ("3", "succeeded"),
    ]
    images = [m["outputs"] for m in manifest]
    assert images == ["row-00001-image.png", "row-00002-image.png", "row-00003-image.png"]
    assert sorted(archive.namelist()) == sorted([*images, "manifest.csv"])


def test_a_rerun_marks_the_nodes_served_from_the_cache(signed_in: Page, tmp_path: Path) -> None:
    page = signed_in
    _import(page, tmp_path, "Cached shots")
    for attempt in ("first", "second"):
        page.get_by_test_id("run-button").click()
        page.get_by_test_id("run-input-prompt").fill("a cached teapot")
        page.get_by_test_id("run-reuse-cache").check()  # runs compute fresh unless asked
        page.get_by_test_id("run-submit").click()
        expect(page.get_by_test_id("run-status")).to_have_attribute("data-status", "succeeded")
        if attempt == "first":
            expect(
                page.get_by_test_id("node-image").get_by_test_id("node-status")
            ).to_have_attribute("data-status", "succeeded")
            expect(page.get_by_test_id("run-cached-note")).to_have_count(0)
    badge = page.get_by_test_id("node-image").get_by_test_id("node-status")
    expect(badge).to_have_attribute("data-status", "cached")
    expect(badge).to_have_text("↺ cached")
    expect(page.get_by_test_id("node-image")).to_have_class(re.compile(r"\brun-cached\b"))
    expect(page.get_by_test_id("run-node-status-image")).to_have_text("↺ cached")
    note = page.get_by_test_id("run-cached-note")
    expect(note).to_contain_text("reused cached outputs")
    expect(note).to_contain_text("image")
    expect(page.get_by_test_id("run-cost")).to_have_text("$0")


PHOTO_FLOW = {
    "format": 1,
    "name": "Batch photos",
    "nodes": [
        {
            "id": "trigger",
            "type": "http_trigger",
            "config": {
                "fields": [
                    {"name": "prompt", "description": "what to show"},
                    {"name": "photo", "type": "image"},
                    {"name": "seed", "type": "number", "required": False},
                ]
            },
            "position": {"x": 60, "y": 120},
        },
        {
            "id": "image",
            "type": "image",
            "config": {
                "prompt": "A poster of {{ trigger.prompt }} (batch thumbnails)",
                "references": [{"port": "ref_1", "caption": "this"}],
            },
            "position": {"x": 360, "y": 120},
        },
        {
            "id": "respond",
            "type": "respond",
            "config": {"fields": [{"name": "image"}]},
            "position": {"x": 700, "y": 120},
        },
    ],
    "edges": [
        {"from": "trigger.photo", "to": "image.ref_1"},
        {"from": "image.image", "to": "respond.image"},
    ],
}


def test_the_columns_a_template_csv_and_row_thumbnails(signed_in: Page, tmp_path: Path) -> None:
    page = signed_in
    path = tmp_path / "photos.json"
    path.write_text(json.dumps(PHOTO_FLOW))
    page.get_by_test_id("import-file").set_input_files(path)
    page.wait_for_url(re.compile(r"/flows/[^/]+$"))
    page.get_by_test_id("batches-link").click()
    page.wait_for_url(re.compile(r"/flows/[^/]+/batches$"))

    # The expected columns, each with what a cell holds.
    columns = page.get_by_test_id("batch-columns")
    expect(columns.locator("tbody tr")).to_have_count(3)
    expect(page.get_by_test_id("batch-column-prompt")).to_contain_text("what to show")
    expect(page.get_by_test_id("batch-column-photo")).to_contain_text("URL")
    expect(page.get_by_test_id("batch-column-seed")).to_contain_text("no")  # not required
    with page.expect_download() as download:
        page.get_by_test_id("batch-template-csv").click()
    template = tmp_path / "template.csv"
    download.value.save_as(template)
    assert download.value.suggested_filename == "Batch-photos-rows.csv"
    assert list(csv.reader(io.StringIO(template.read_text()))) == [["prompt", "photo", "seed"]]

    # Filled in (the template's own header), the rows run; each row shows its images.
    rows = tmp_path / "photos.csv"
    rows.write_text(template.read_text() + "a red one,red.png,\r\na blue one,blue.png,\r\n")
    for colour in ("red", "blue"):
        Image.new("RGB", (64, 48), colour).save(tmp_path / f"{colour}.png")
    page.get_by_test_id("batch-rows").set_input_files(rows)
    page.get_by_test_id("batch-files").set_input_files(
        [tmp_path / "red.png", tmp_path / "blue.png"]
    )
    page.get_by_test_id("batch-estimate").click()
    page.get_by_test_id("batch-start").click()
    expect(page.get_by_test_id("batch-view")).to_have_attribute(
        "data-state", "finished", timeout=60_000
    )
    for number in (1, 2):
        given = page.get_by_test_id(f"batch-row-{number}-input")
        made = page.get_by_test_id(f"batch-row-{number}-output")
        expect(given).to_be_visible()
        expect(made).to_be_visible()
        assert given.evaluate("img => img.decode().then(() => img.naturalWidth)") == 64
        # the ratio is auto: the image keeps its 4:3 reference's shape
        size = made.evaluate(
            "img => img.decode().then(() => [img.naturalWidth, img.naturalHeight])"
        )
        assert size == [1200, 896]
    first = page.get_by_test_id("batch-row-1-input").get_attribute("src")
    second = page.get_by_test_id("batch-row-2-input").get_attribute("src")
    assert first != second
