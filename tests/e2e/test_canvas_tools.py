"""The canvas's tools for building flows quickly and seeing them whole: click-to-add after
the selected node, Tidy, node search on double-click, reference edges, the node inspector
with "Run to here", and a layout where nothing covers anything."""

from __future__ import annotations

from playwright.sync_api import Locator, Page, expect

from tests.e2e.canvas import connect, drop, edge, new_flow, select_node, wait_valid

LEFT_OF = """([a, b]) => {
  const r = id => document.querySelector(`[data-testid="node-${id}"]`).getBoundingClientRect();
  return r(a).right < r(b).left;
}"""


def box(locator: Locator) -> dict[str, float]:
    found = locator.bounding_box()
    assert found is not None, f"{locator} is not on screen"
    return found


def overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


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
    trigger, image, respond = (
        box(page.get_by_test_id(f"node-{n}")) for n in ("trigger", "image", "respond")
    )
    assert image["x"] > trigger["x"] + trigger["width"]
    assert respond["x"] > image["x"] + image["width"]
    assert abs(image["y"] - trigger["y"]) < 2
    assert abs(respond["y"] - image["y"]) < 2
    expect(edge(page, "trigger.prompt", "image.prompt")).to_have_count(1)
    expect(edge(page, "image.image", "respond.image")).to_have_count(1)
    wait_valid(page)

    # With nothing selected, clicks never pile nodes on one another.
    click_pane(page)
    add(page, "text")
    add(page, "text")  # the first text node is selected now: this one goes right of it
    click_pane(page)
    add(page, "image_url")
    boxes = [box(n) for n in page.locator(".react-flow__node").all()]
    assert len(boxes) == 6
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not overlap(a, b), (a, b)
    # a Text node takes no inputs: the second one is placed after the first, not wired
    text, text_2 = box(page.get_by_test_id("node-text")), box(page.get_by_test_id("node-text_2"))
    assert text_2["x"] > text["x"] + text["width"]
    expect(page.locator(".react-flow__edge:not(.edge-reference)")).to_have_count(2)


def test_tidy_lays_the_flow_out_left_to_right(signed_in: Page) -> None:
    page = signed_in
    new_flow(page, "Tidy")
    # dropped right to left and on top of one another
    drop(page, "respond", 150, 300)
    drop(page, "image", 500, 320)
    drop(page, "http_trigger", 850, 340)
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
