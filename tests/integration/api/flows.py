"""Flow documents the API tests create."""

from __future__ import annotations

from typing import Any


def image_endpoint(prompt_suffix: str = "", aspect_ratio: str = "1:1") -> dict[str, Any]:
    """HTTP Trigger {prompt} → Image → Respond {image}: the drop-in image endpoint.

    Pinned to gemini-2.5-flash-image ($0.039 an image, 10 ratios): the prices and ratios
    these tests count with stay put when the catalog's default changes. It is deprecated,
    which still runs (with a warning on the node run)."""
    return {
        "format": 1,
        "name": "Image endpoint",
        "nodes": [
            {"id": "trigger", "type": "http_trigger", "config": {"fields": [{"name": "prompt"}]}},
            {
                "id": "image",
                "type": "image",
                "config": {
                    "model": "gemini-2.5-flash-image",
                    "prompt": "{{ trigger.prompt }}" + prompt_suffix,
                    "aspect_ratio": aspect_ratio,
                },
            },
            {"id": "respond", "type": "respond", "config": {"fields": [{"name": "image"}]}},
        ],
        "edges": [{"from": "image.image", "to": "respond.image"}],
    }


def echo(label: str = "v1") -> dict[str, Any]:
    """HTTP Trigger {prompt} → Respond {prompt, label}: no image work, fast."""
    return {
        "format": 1,
        "name": f"Echo {label}",
        "nodes": [
            {"id": "trigger", "type": "http_trigger", "config": {"fields": [{"name": "prompt"}]}},
            {
                "id": "respond",
                "type": "respond",
                "config": {"fields": [{"name": "prompt"}, {"name": "label", "value": label}]},
            },
        ],
        "edges": [{"from": "trigger.prompt", "to": "respond.prompt"}],
    }


def echo_fields(fields: list[dict[str, Any]], echoed: list[str]) -> dict[str, Any]:
    """HTTP Trigger with `fields` → Respond answering each field named in `echoed`."""
    return {
        "format": 1,
        "name": "Every field type",
        "nodes": [
            {"id": "trigger", "type": "http_trigger", "config": {"fields": fields}},
            {
                "id": "respond",
                "type": "respond",
                "config": {"fields": [{"name": n} for n in echoed]},
            },
        ],
        "edges": [{"from": f"trigger.{n}", "to": f"respond.{n}"} for n in echoed],
    }


def photo_echo() -> dict[str, Any]:
    """HTTP Trigger {photo: image} → Respond (the image itself): uploads end to end."""
    return {
        "format": 1,
        "name": "Photo in, photo out",
        "nodes": [
            {
                "id": "trigger",
                "type": "http_trigger",
                "config": {"fields": [{"name": "photo", "type": "image"}]},
            },
            {"id": "respond", "type": "respond", "config": {"mode": "image"}},
        ],
        "edges": [{"from": "trigger.photo", "to": "respond.image"}],
    }


def create(client: Any, document: dict[str, Any]) -> str:
    answer = client.post("/api/flows", json={"document": document})
    assert answer.status_code == 201, answer.text
    flow_id: str = answer.json()["id"]
    return flow_id


def publish(client: Any, flow_id: str, **body: Any) -> dict[str, Any]:
    answer = client.post(f"/api/flows/{flow_id}/publish", json=body)
    assert answer.status_code == 200, answer.text
    publication: dict[str, Any] = answer.json()
    return publication


def image_batch(client: Any, prompts: list[str], concurrency: int) -> str:
    """A batch of `image_endpoint` runs, one row per prompt, started; its id."""
    flow_id = create(client, image_endpoint())
    rows = ("rows.csv", "\n".join(["prompt", *prompts, ""]).encode(), "text/csv")
    created = client.post(
        f"/api/flows/{flow_id}/batches",
        files={"rows": rows},
        data={"concurrency": str(concurrency), "confirm_usd": "1"},
    )
    assert created.status_code == 201, created.text
    batch_id: str = created.json()["id"]
    return batch_id
