"""A flow on the server reads no file from the server's disk (File Input's `path`, an Image
reference's `file`), even through a published trigger; the refusal is the same whether the
file exists or not (issue: hardening, finding 4)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers import png
from tests.integration.api import flows
from tests.server import LiveServer


def _file_input_flow(path: str) -> dict[str, Any]:
    return {
        "format": 1,
        "nodes": [
            {"id": "trigger", "type": "http_trigger", "config": {"fields": [{"name": "prompt"}]}},
            {"id": "photo", "type": "file_input", "config": {"path": path}},
            {"id": "respond", "type": "respond", "config": {"mode": "image"}},
        ],
        "edges": [{"from": "photo.image", "to": "respond.image"}],
    }


def _reference_flow(path: str) -> dict[str, Any]:
    document = flows.image_endpoint()
    document["nodes"][1]["config"]["references"] = [{"port": "ref_1", "file": path}]
    return document


@pytest.mark.parametrize("make", [_file_input_flow, _reference_flow], ids=["path", "reference"])
def test_a_published_flow_naming_a_server_file_is_refused_alike_whether_it_exists(
    server: LiveServer, admin: httpx.Client, tmp_path: Path, make: Any
) -> None:
    there = tmp_path / "on-the-server.png"
    there.write_bytes(png(7, 7))
    answers = []
    for path in (str(there), str(tmp_path / "not-there.png")):
        secret = flows.publish(admin, flows.create(admin, make(path)))["secret"]
        with server.client() as caller:
            answer = caller.post(f"/api/trigger/{secret}/trigger", json={"prompt": "p"})
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"] == "application/json"  # never the image
        answers.append(answer.json()["detail"].replace(path, "PATH"))
    assert answers[0] == answers[1]
    assert "upload the image" in answers[0]
