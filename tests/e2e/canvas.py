"""Steps on the canvas that several browser tests share."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect


def new_flow(page: Page, name: str) -> str:
    """Creates an empty flow from the flow list and opens it; returns its id."""
    page.get_by_test_id("new-flow").click()
    page.get_by_test_id("flow-name-input").fill(name)
    page.get_by_test_id("flow-name-submit").click()
    page.wait_for_url(re.compile(r"/flows/[^/]+$"))
    page.get_by_test_id("palette").wait_for()
    return page.url.rsplit("/", 1)[1]


def drop(page: Page, node_type: str, x: float, y: float) -> None:
    """Drags a palette item onto the canvas at (x, y), relative to the canvas."""
    page.get_by_test_id(f"palette-{node_type}").drag_to(
        page.get_by_test_id("canvas"), target_position={"x": x, "y": y}
    )


def handle(page: Page, ref: str, side: str) -> Locator:
    """The handle of port `node.port`; side is "in" or "out"."""
    node, port = ref.split(".", 1)
    return page.get_by_test_id(f"handle-{node}-{side}-{port}")


def center(locator: Locator) -> tuple[float, float]:
    box = locator.bounding_box()
    assert box is not None, f"{locator} is not on screen"
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def connect(page: Page, source: str, target: str) -> None:
    """Draws an edge from output `node.port` to input `node.port` with the mouse."""
    start = center(handle(page, source, "out"))
    end = center(handle(page, target, "in"))
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(*end, steps=12)
    page.mouse.up()


def edge(page: Page, source: str, target: str) -> Locator:
    """The rendered edge `source -> target` (React Flow marks edges with their id)."""
    return page.locator(f'[data-id="{source}->{target}"]')


def click_edge(page: Page, source: str, target: str) -> None:
    """Selects an edge by clicking halfway between its two handles."""
    (x1, y1), (x2, y2) = center(handle(page, source, "out")), center(handle(page, target, "in"))
    page.mouse.click((x1 + x2) / 2, (y1 + y2) / 2)
    expect(edge(page, source, target)).to_have_class(re.compile(r"\bselected\b"))


def select_node(page: Page, node_id: str) -> None:
    page.get_by_test_id(f"node-{node_id}").locator(".node-header").click()
    expect(page.get_by_test_id("config-node-id")).to_have_text(node_id)


def wait_valid(page: Page) -> None:
    expect(page.get_by_test_id("validation-state")).to_have_text("valid")
