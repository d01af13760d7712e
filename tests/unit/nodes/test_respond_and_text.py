from pathlib import Path
from typing import Any

from plait.engine.state import RunStatus
from plait.media.image_ref import ImageRef
from tests.helpers import flow, node, png


async def test_json_body_maps_ports_and_config_values(run_flow: Any) -> None:
    f = flow(
        [
            node("t", "http_trigger", fields=[{"name": "name"}, {"name": "n", "type": "number"}]),
            node(
                "r",
                "respond",
                fields=[
                    {"name": "count"},
                    {"name": "greeting", "value": "hi {{ t.name }}"},
                    {"name": "fixed", "value": "v1"},
                ],
            ),
        ],
        [("t.n", "r.count")],
    )
    result = await run_flow(f, {"name": "Ada", "n": 4})
    assert result.status == RunStatus.SUCCEEDED, result.error
    assert result.response() == {
        "mode": "json",
        "status": 200,
        "body": {"count": 4, "greeting": "hi Ada", "fixed": "v1"},
    }
    assert result.result() == {"count": 4, "greeting": "hi Ada", "fixed": "v1"}


async def test_image_mode_returns_the_image(run_flow: Any, tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(png(5, 5))
    f = flow(
        [
            node("in", "file_input", path="a.png"),
            node("r", "respond", mode="image", status_code=201),
        ],
        [("in.image", "r.image")],
    )
    result = await run_flow(f)
    response = result.response()
    assert response is not None
    assert (response["mode"], response["status"]) == ("image", 201)
    assert isinstance(result.result(), ImageRef)


async def test_text_node_renders_its_template(run_flow: Any) -> None:
    f = flow(
        [
            node("t", "http_trigger", fields=[{"name": "x", "type": "json"}]),
            node("s", "text", template="v={{ t.x.items.1 }}"),
        ]
    )
    result = await run_flow(f, {"x": '{"items": ["a", "b"]}'})
    assert result.nodes["s"].outputs == {"text": "v=b"}
