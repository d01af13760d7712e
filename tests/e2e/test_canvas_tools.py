"""The canvas's tools for building flows quickly and seeing them whole: click-to-add after
the selected node, Tidy, node search on double-click, reference edges, the node inspector
with "Run to here", and a layout where nothing covers anything."""

from __future__ import annotations

import json
import re
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from tests.e2e.canvas import connect, drop, edge, new_flow, select_node, wait_valid
from tests.integration.api import flows

LEFT_OF = """([a, b]) => {
  const r = id => document.querySelector(`[data-testid="node-${id}"]`).getBoundingClientRect();
  return r(a).right < r(b).left;
}"""


def box(locator: Locator) -> dict[str, float]:
    found = locator.bounding_box()
    assert found is not None, f"{locator} is not on screen"
    return {"x": found["x"], "y": found["y"], "width": found["width"], "height": found["height"]}


def overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


FLOW_BOX = """id => {
  const el = document.querySelector(`.react-flow__node[data-id="${id}"]`);
  const m = new DOMMatrix(getComputedStyle(el).transform);
  return {x: m.e, y: m.f, width: el.offsetWidth, height: el.offsetHeight};
}"""


def flow_box(page: Page, node_id: str) -> dict[str, float]:
    """A node's box on the canvas in flow coordinates (whatever the pan and zoom)."""
    found: dict[str, float] = page.evaluate(FLOW_BOX, node_id)
    return found


def add(page: Page, node_type: str) -> None:
    page.get_by_test_id(f"palette-{node_type}").click()


def click_pane(page: Page) -> None:
    """Clears the selection with a click on an empty spot of the canvas."""
    canvas = box(page.get_by_test_id("canvas"))
    page.mouse.click(canvas["x"] + canvas["width"] - 40, canvas["y"] + 30)


def test_a_click_adds_the_node_right_of_the_selected_one_and_wires_it(signed_in: Page) -> None:
    page = signed_in
    new_flow(page, "Click to add")
    add(page, "http_trigger")
    add(page, "image")  # the trigger is selected: the image goes right of it, wired
    add(page, "respond")
    trigger, image, respond = (flow_box(page, n) for n in ("trigger", "image", "respond"))
    assert image["x"] > trigger["x"] + trigger["width"]
    assert respond["x"] > image["x"] + image["width"]
    assert abs(image["y"] - trigger["y"]) < 2
    assert abs(respond["y"] - image["y"]) < 2
    expect(edge(page, "trigger.prompt", "image.prompt")).to_have_count(1)
    expect(edge(page, "image.image", "respond.image")).to_have_count(1)
    # the third node lands beyond the canvas's right edge: the view moves to show it whole
    expect(page.get_by_test_id("node-respond")).to_be_in_viewport(ratio=1)
    wait_valid(page)

    # With nothing selected, clicks never pile nodes on one another.
    click_pane(page)
    add(page, "text")
    add(page, "text")  # the first text node is selected now: this one goes right of it
    click_pane(page)
    add(page, "image_url")
    ids = page.locator(".react-flow__node").evaluate_all("nodes => nodes.map(n => n.dataset.id)")
    boxes = [flow_box(page, i) for i in ids]
    assert len(boxes) == 6
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not overlap(a, b), (a, b)
    # a Text node takes no inputs: the second one is placed after the first, not wired
    text, text_2 = flow_box(page, "text"), flow_box(page, "text_2")
    assert text_2["x"] > text["x"] + text["width"]
    expect(page.locator(".react-flow__edge:not(.edge-reference)")).to_have_count(2)


def test_tidy_lays_the_flow_out_left_to_right(signed_in: Page) -> None:
    page = signed_in
    new_flow(page, "Tidy")
    # dropped right to left, each a little lower
    for node_type, x, y in (("respond", 150, 300), ("image", 500, 320), ("http_trigger", 850, 340)):
        drop(page, node_type, x, y)
    select_node(page, "image")
    page.get_by_test_id("config-prompt").fill("{{ trigger.prompt }}")
    connect(page, "image.image", "respond.image")
    page.get_by_test_id("tidy").click()
    # the dependency through a template counts as much as an edge (read in one go: the
    # view is still fitting itself to the new layout)
    page.wait_for_function(LEFT_OF, arg=["trigger", "image"])
    page.wait_for_function(LEFT_OF, arg=["image", "respond"])
    page.keyboard.press("Control+z")  # one undo step puts them back
    page.wait_for_function(LEFT_OF, arg=["respond", "image"])
    page.wait_for_function(LEFT_OF, arg=["image", "trigger"])


def test_double_click_on_the_empty_canvas_searches_and_places_a_node_there(
    signed_in: Page,
) -> None:
    page = signed_in
    new_flow(page, "Search")
    canvas = box(page.get_by_test_id("canvas"))
    x, y = canvas["x"] + 420, canvas["y"] + 260
    page.mouse.dblclick(x, y)
    search = page.get_by_test_id("node-search")
    expect(search).to_be_visible()
    expect(page.get_by_test_id("node-search-input")).to_be_focused()
    # titles that start with the query come first (not File Input, whose text says "image")
    page.keyboard.type("im")
    expect(search.get_by_role("option").first).to_have_text(re.compile(r"^Image"))
    expect(search.get_by_role("option").filter(has_text="File Input")).to_have_count(1)
    page.keyboard.press("Escape")
    expect(search).to_have_count(0)

    page.mouse.dblclick(x, y)
    page.keyboard.type("resiz")
    expect(page.get_by_test_id("node-search-option-image")).to_have_count(0)
    page.keyboard.press("Enter")
    expect(search).to_have_count(0)
    placed = box(page.get_by_test_id("node-resize"))
    assert abs(placed["x"] - x) < 16
    assert abs(placed["y"] - y) < 16

    # a click in the list works too
    page.mouse.dblclick(x + 400, y)
    page.get_by_test_id("node-search-option-respond").click()
    expect(page.get_by_test_id("node-respond")).to_be_visible()


def reference_options(page: Page, group: str | None = None) -> list[str]:
    """The choices of the selected node's first "Insert reference…" list (of one group:
    "upstream" or "unconnected")."""
    menu = page.get_by_label("Insert a reference").first
    if group is not None:
        menu = menu.get_by_test_id(f"references-{group}")
    return [o for o in menu.locator("option").all_inner_texts() if o != "Insert reference…"]


def test_template_references_are_dashed_edges_and_only_upstream_outputs_are_offered(
    signed_in: Page,
) -> None:
    page = signed_in
    new_flow(page, "References")
    drop(page, "http_trigger", 150, 160)
    drop(page, "text", 500, 160)
    drop(page, "text", 850, 160)
    select_node(page, "text")
    page.get_by_test_id("config-template").fill("Hello {{ trigger.prompt }}")
    select_node(page, "text_2")
    page.get_by_test_id("config-template").fill("{{ text.text }}, and {{ trigger.prompt }} again")

    # one dashed edge per reference; none of them is part of the document's edges
    for ref in ("trigger.prompt->text", "text.text->text_2", "trigger.prompt->text_2"):
        line = page.locator(f'[data-id="ref:{ref}"]')
        expect(line).to_have_count(1)
        expect(line).to_have_class(re.compile(r"\bedge-reference\b"))
        dash = line.locator("path.react-flow__edge-path").evaluate(
            "p => getComputedStyle(p).strokeDasharray"
        )
        assert dash not in ("none", "")
    wait_valid(page)
    page.get_by_test_id("save-button").click()
    expect(page.get_by_test_id("save-state")).to_have_text("Saved · v2")
    flow_id = page.url.rsplit("/", 1)[1]
    saved = page.request.get(f"/api/flows/{flow_id}").json()["document"]
    assert saved["edges"] == []

    # text feeds text_2: text_2 may use text's output, text may not use text_2's (a cycle).
    # Upstream outputs come first; a node not connected yet is offered apart, labelled.
    drop(page, "text", 850, 420)
    select_node(page, "text_2")
    assert reference_options(page, "upstream") == ["trigger.prompt", "text.text"]
    assert reference_options(page, "unconnected") == ["text_3.text"]
    assert reference_options(page) == ["trigger.prompt", "text.text", "text_3.text"]
    group = page.get_by_label("Insert a reference").first.get_by_test_id("references-unconnected")
    expect(group).to_have_attribute("label", re.compile("Not connected yet"))
    select_node(page, "text")
    assert reference_options(page, "upstream") == ["trigger.prompt"]
    assert reference_options(page) == ["trigger.prompt", "text_3.text"]  # never text_2's
    # removing the reference removes its edge
    page.get_by_test_id("config-template").fill("Hello")
    expect(page.locator('[data-id="ref:trigger.prompt->text"]')).to_have_count(0)
    expect(page.locator('[data-id="ref:text.text->text_2"]')).to_have_count(1)


def test_run_to_here_and_the_inspector_show_one_node_s_inputs_and_outputs(
    signed_in: Page,
) -> None:
    page = signed_in
    new_flow(page, "Run to here")
    add(page, "http_trigger")
    add(page, "image")
    add(page, "respond")
    expect(edge(page, "trigger.prompt", "image.prompt")).to_have_count(1)
    wait_valid(page)
    select_node(page, "image")
    page.get_by_test_id("sidebar-tab-data").click()
    expect(page.get_by_test_id("inspector-empty")).to_contain_text("No run shown yet")

    # The trigger is upstream: the run dialog asks for its inputs first.
    page.get_by_test_id("run-to-here").click()
    page.get_by_test_id("run-input-prompt").fill("a lighthouse at dusk")
    page.get_by_test_id("run-submit").click()
    expect(page.get_by_test_id("run-status")).to_have_attribute(
        "data-status", "succeeded", timeout=30_000
    )
    expect(page.get_by_test_id("run-node-image")).to_be_visible()
    expect(page.get_by_test_id("run-node-trigger")).to_be_visible()
    expect(page.get_by_test_id("run-node-respond")).to_have_count(0)  # downstream: not run
    expect(page.get_by_test_id("node-respond").get_by_test_id("node-status")).to_have_count(0)

    # The inspector: the Image node's inputs (the prompt it got) and outputs (the image).
    inputs = page.get_by_test_id("inspector-inputs")
    expect(inputs.locator('[data-port="prompt"]')).to_contain_text("a lighthouse at dusk")
    output = page.get_by_test_id("inspector-outputs").locator('[data-port="image"] img')
    expect(output).to_be_visible()
    assert output.evaluate("img => img.decode().then(() => img.naturalWidth)") > 0
    # another node: its own data from the same run
    # (the Data tab stays open while another node is picked)
    page.locator(".react-flow__controls-fitview").click()  # the whole flow in view
    page.get_by_test_id("node-trigger").locator(".node-header").click()
    expect(page.get_by_test_id("node-inspector")).to_contain_text("runs trigger")
    expect(page.get_by_test_id("inspector-outputs")).to_contain_text("a lighthouse at dusk")
    page.get_by_test_id("node-respond").locator(".node-header").click()
    expect(page.get_by_test_id("inspector-empty")).to_contain_text("respond did not run")

    # A node that needs no trigger runs at once, without the dialog.
    click_pane(page)
    add(page, "text")
    page.get_by_test_id("config-template").fill("on its own")
    page.get_by_test_id("sidebar-tab-data").click()
    page.get_by_test_id("run-to-here").click()
    expect(page.get_by_test_id("run-node-text")).to_be_visible(timeout=30_000)
    expect(page.get_by_test_id("run-status")).to_have_attribute("data-status", "succeeded")
    expect(page.get_by_test_id("run-submit")).to_have_count(0)
    expect(page.get_by_test_id("run-node-image")).to_have_count(0)
    expect(page.get_by_test_id("inspector-outputs")).to_contain_text("on its own")


def _run_to_here(page: Page, node_id: str, *, reuse: bool) -> None:
    """Picks the node, sets "Reuse unchanged outputs" beside Run to here, and runs to it."""
    page.get_by_test_id(f"node-{node_id}").locator(".node-header").click()
    page.get_by_test_id("sidebar-tab-data").click()
    page.get_by_test_id("run-to-here-reuse").set_checked(reuse)
    page.get_by_test_id("run-to-here").click()


def _run_to_image(page: Page, *, reuse: bool) -> None:
    _run_to_here(page, "image", reuse=reuse)
    dialog = page.get_by_test_id("run-dialog")
    expect(dialog).to_contain_text("Run up to image")
    expect(page.get_by_test_id("run-up-to")).to_contain_text("the nodes after it do not run")
    page.get_by_test_id("run-input-prompt").fill("a red kite")
    reuse_box = page.get_by_test_id("run-reuse-cache")
    if reuse:  # the dialog starts from the choice made beside Run to here
        expect(reuse_box).to_be_checked()
    else:
        expect(reuse_box).not_to_be_checked()
    page.get_by_test_id("run-submit").click()
    expect(page.get_by_test_id("run-status")).to_have_attribute(
        "data-status", "succeeded", timeout=30_000
    )
    expect(page.get_by_test_id("run-node-respond")).to_have_count(0)


def test_run_to_here_reuses_outputs_only_when_asked_and_says_which(signed_in: Page) -> None:
    page = signed_in
    new_flow(page, "Run to here, reused")
    add(page, "http_trigger")
    add(page, "image")
    add(page, "respond")
    wait_valid(page)

    _run_to_image(page, reuse=False)
    expect(page.get_by_test_id("run-cached-note")).to_have_count(0)
    _run_to_image(page, reuse=False)  # a new take: nothing reused
    expect(page.get_by_test_id("run-cached-note")).to_have_count(0)
    expect(page.get_by_test_id("node-image").get_by_test_id("node-status")).not_to_have_attribute(
        "data-status", "cached"
    )
    _run_to_image(page, reuse=True)  # asked for: the image is the one already made
    expect(page.get_by_test_id("run-cached-note")).to_contain_text("image")
    expect(page.get_by_test_id("node-image").get_by_test_id("node-status")).to_have_attribute(
        "data-status", "cached"
    )


def test_run_to_here_without_a_trigger_reuses_the_image_before_it_when_asked(
    signed_in: Page,
) -> None:
    """No dialog (nothing asks for inputs): the choice beside Run to here decides, so a
    resize can be tried again without paying for the image before it."""
    page = signed_in
    new_flow(page, "Run to here, no trigger")
    add(page, "image")
    page.get_by_test_id("config-prompt").fill("a paper kite")
    add(page, "image_resize")
    wait_valid(page)
    for reuse, cached in ((False, 0), (False, 0), (True, 1)):
        _run_to_here(page, "resize", reuse=reuse)
        expect(page.get_by_test_id("run-node-resize")).to_be_visible(timeout=30_000)
        expect(page.get_by_test_id("run-status")).to_have_attribute(
            "data-status", "succeeded", timeout=30_000
        )
        expect(page.get_by_test_id("run-cached-note")).to_have_count(cached)
    expect(page.get_by_test_id("run-cached-note")).to_contain_text("image")
    expect(page.get_by_test_id("run-submit")).to_have_count(0)


def test_nothing_covers_outputs_handles_are_easy_to_hit_and_the_run_panel_resizes(
    signed_in: Page,
) -> None:
    page = signed_in
    new_flow(page, "Layout")
    add(page, "http_trigger")
    page.get_by_test_id("config-fields-0-name").fill("headline_for_the_social_card")
    add(page, "image")  # wired by the field's new name, even before validation answered
    add(page, "respond")
    wait_valid(page)
    expect(edge(page, "trigger.headline_for_the_social_card", "image.prompt")).to_have_count(1)

    # Port names are shown whole, never cut to "ima…".
    names = page.locator(".port-name")
    expect(page.get_by_test_id("handle-trigger-out-headline_for_the_social_card")).to_be_visible()
    for name in names.all():
        assert name.evaluate("e => e.scrollWidth <= e.clientWidth"), name.inner_text()
        assert "…" not in name.inner_text()
    # Every wiring handle offers at least a 14 × 14 px target (at zoom 1).
    handles = page.locator(".react-flow__handle.handle")
    assert handles.count() >= 5
    for h in handles.all():
        size = h.evaluate("h => [h.offsetWidth, h.offsetHeight]")
        assert min(size) >= 14, size

    # The mini map sits outside the canvas, so it never covers a node.
    assert not overlap(box(page.get_by_test_id("minimap-dock")), box(page.get_by_test_id("canvas")))
    expect(page.get_by_test_id("minimap-dock").locator(".react-flow__minimap")).to_be_visible()

    page.get_by_test_id("run-button").click()
    page.get_by_test_id("run-input-headline_for_the_social_card").fill("a kite")
    page.get_by_test_id("run-submit").click()
    image = page.get_by_test_id("node-image-image")
    expect(image).to_be_visible(timeout=30_000)
    # The PREVIEW tag is under the image, not over it (the preview's captions show).
    tag = page.get_by_test_id("node-image").locator(".preview-tag")
    expect(tag).to_be_visible()
    image.evaluate("img => img.decode()")
    assert not overlap(box(tag), box(image))

    # The run panel: drag its top edge to resize it, collapse it to its header and back.
    dock = page.get_by_test_id("run-panel-dock")
    table = page.get_by_test_id("run-nodes")
    expect(table).to_be_visible()
    before = box(dock)["height"]
    resizer = box(page.get_by_test_id("run-panel-resizer"))
    x, y = resizer["x"] + resizer["width"] / 2, resizer["y"] + resizer["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x, y - 120, steps=6)
    page.mouse.up()
    assert abs(box(dock)["height"] - (before + 120)) < 4
    page.get_by_test_id("run-panel-resizer").focus()
    page.keyboard.press("ArrowDown")
    assert abs(box(dock)["height"] - (before + 96)) < 4
    page.get_by_test_id("run-panel-collapse").click()
    expect(table).to_be_hidden()
    assert box(dock)["height"] < 60
    page.get_by_test_id("run-panel-collapse").click()
    expect(table).to_be_visible()
    assert abs(box(dock)["height"] - (before + 96)) < 4


def test_a_flow_without_positions_opens_laid_out_left_to_right(
    signed_in: Page, tmp_path: Path
) -> None:
    """A flow file written by hand (no positions: the server keeps them as 0, 0) opens in
    Tidy's layout, not piled on one spot."""
    page = signed_in
    document = flows.image_endpoint()  # trigger → image → respond, with no positions
    document["nodes"].reverse()  # listed right to left
    path = tmp_path / "hand-written.json"
    path.write_text(json.dumps(document))
    page.get_by_test_id("import-file").set_input_files(path)
    page.wait_for_url(re.compile(r"/flows/[^/]+$"))
    expect(page.get_by_test_id("node-respond")).to_be_visible()
    trigger, image, respond = (flow_box(page, n) for n in ("trigger", "image", "respond"))
    assert trigger["x"] + trigger["width"] < image["x"]
    assert image["x"] + image["width"] < respond["x"]
