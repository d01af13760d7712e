"""A new user's first minutes: a template runs on its first click, fresh takes unless reuse is
asked for, old runs open read-only with their own version, versions that cannot serve are
never offered for publishing."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.canvas import drop, new_flow, select_node


def _run(page: Page, prompt: str, *, reuse: bool = False) -> None:
    page.get_by_test_id("run-button").click()
    page.get_by_test_id("run-input-prompt").fill(prompt)
    reuse_box = page.get_by_test_id("run-reuse-cache")
    expect(reuse_box).not_to_be_checked()  # fresh takes by default
    if reuse:
        reuse_box.check()
    page.get_by_test_id("run-submit").click()
    expect(page.get_by_test_id("run-status")).to_have_attribute(
        "data-status", "succeeded", timeout=30_000
    )


def _save_version(page: Page, message: str) -> None:
    """Saves the draft from History → Versions with a message."""
    page.get_by_test_id("sidebar-tab-history").click()
    page.get_by_test_id("history-tab-versions").click()
    page.get_by_test_id("version-message").fill(message)
    page.get_by_test_id("version-save").click()


def test_a_template_runs_reuse_is_a_choice_and_an_old_run_opens_read_only(
    signed_in: Page,
) -> None:
    page = signed_in
    page.get_by_test_id("template-social-card").click()
    page.get_by_test_id("palette").wait_for()

    _run(page, "on a marble plinth", reuse=True)  # computed, and kept for reuse
    expect(page.get_by_test_id("run-cached-note")).to_have_count(0)
    _run(page, "on a marble plinth")
    expect(page.get_by_test_id("run-cached-note")).to_have_count(0)  # a new take
    _run(page, "on a marble plinth", reuse=True)
    expect(page.get_by_test_id("run-cached-note")).to_contain_text("edit")

    # The draft changes; the first run, clicked in History, opens with its own version.
    select_node(page, "card")
    page.keyboard.press("Delete")
    expect(page.get_by_test_id("node-card")).to_have_count(0)
    page.get_by_test_id("sidebar-tab-history").click()
    items = page.get_by_test_id("run-list").locator("li")
    expect(items).to_have_count(3)
    oldest = items.last.get_by_role("button")
    expect(oldest).to_contain_text("v1 · editor")
    expect(oldest).to_contain_text('prompt: "on a marble plinth"')
    oldest.click()
    record = page.get_by_test_id("run-record")
    expect(record.get_by_test_id("run-record-version")).to_contain_text("Ran version v1")
    expect(record.get_by_test_id("run-record-inputs")).to_contain_text("on a marble plinth")
    expect(record.get_by_test_id("run-record-node-card")).to_contain_text("succeeded")
    # long values (the Respond node's JSON) wrap inside the dialog, none runs past it
    respond = record.get_by_test_id("run-record-node-respond")
    expect(respond).to_contain_text("response:")
    assert respond.evaluate("li => li.scrollWidth <= li.clientWidth")
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("node-card")).to_have_count(0)  # the draft is as it was


def test_versions_that_cannot_serve_are_not_offered_for_publishing(signed_in: Page) -> None:
    page = signed_in
    new_flow(page, "No trigger yet")  # version 1: the empty flow
    drop(page, "text", 200, 160)
    _save_version(page, "a text node, no trigger")
    expect(page.get_by_test_id("version-2-message")).to_have_text("a text node, no trigger")
    for number in (1, 2):
        expect(page.get_by_test_id(f"version-{number}-unpublishable")).to_contain_text(
            "HTTP Trigger"
        )
        expect(page.get_by_test_id(f"version-{number}-publish")).to_have_count(0)

    page.get_by_test_id("publish-button").click()
    expect(page.get_by_test_id("publish-version-problems")).to_contain_text("HTTP Trigger")
    expect(page.get_by_test_id("publish-submit")).to_be_disabled()
    page.keyboard.press("Escape")

    drop(page, "http_trigger", 200, 360)
    _save_version(page, "a trigger")
    expect(page.get_by_test_id("version-3-message")).to_have_text("a trigger")
    expect(page.get_by_test_id("version-3-unpublishable")).to_have_count(0)
    page.get_by_test_id("publish-button").click()
    page.get_by_test_id("publish-submit").click()
    expect(page.get_by_test_id("publish-current-version")).to_have_text("v3")
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("version-2-publish")).to_have_count(0)  # no roll back to it
    expect(page.get_by_test_id("version-3-published")).to_be_visible()


NOTHING_CUT = """() => {
  const pane = document.querySelector('[data-testid="canvas"]').getBoundingClientRect();
  const nodes = [...document.querySelectorAll('.react-flow__node')];
  return nodes.length > 0 && nodes.every(n => n.getBoundingClientRect().bottom <= pane.bottom + 1);
}"""


def test_a_run_s_outputs_are_not_left_under_the_run_panel(signed_in: Page) -> None:
    page = signed_in
    page.get_by_test_id("template-social-card").click()
    page.get_by_test_id("palette").wait_for()
    _run(page, "on a marble plinth")
    expect(page.get_by_test_id("run-nodes")).to_be_visible()
    expect(page.get_by_test_id("node-respond").locator("img")).to_be_visible()
    # The panel took the canvas's lower part and the images made the nodes taller: the
    # view moved so that every node, outputs included, ends above the panel.
    page.wait_for_function(NOTHING_CUT)
    canvas = page.get_by_test_id("canvas").bounding_box()
    panel = page.get_by_test_id("run-panel-dock").bounding_box()
    assert canvas is not None
    assert panel is not None
    assert canvas["y"] + canvas["height"] <= panel["y"] + 1
