"""The OpenAPI document describes every answer, and the committed dump the canvas's types
are generated from (web/src/api/openapi.json) is the one the app makes now."""

import json
from pathlib import Path
from typing import Any

import pytest

from plait.api import openapi_dump

ROOT = Path(__file__).resolve().parents[3]
COMMITTED = ROOT / openapi_dump.DEFAULT


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return openapi_dump.document()


def _operations(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{method.upper()} {path}", operation)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]


def test_the_committed_dump_is_what_the_app_makes() -> None:
    committed = COMMITTED.read_text(encoding="utf-8")
    assert committed == openapi_dump.text(), (
        f"{COMMITTED.relative_to(ROOT)} is stale: run `python -m plait.api.openapi_dump` and "
        "`cd web && npm run api-types`, then commit both files"
    )


def test_every_answer_with_a_body_names_its_shape(document: dict[str, Any]) -> None:
    vague = []
    for name, operation in _operations(document):
        for status, response in operation["responses"].items():
            if not status.startswith("2") or status == "204":
                continue
            for media_type, content in response.get("content", {}).items():
                schema = content.get("schema", {})
                if not schema or schema.get("additionalProperties") is True:
                    vague.append(f"{name} {status} {media_type}")
    assert vague == []


def test_json_answers_refer_to_named_models(document: dict[str, Any]) -> None:
    runs = document["paths"]["/api/runs/{run_id}"]["get"]["responses"]["200"]
    assert runs["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/RunDetail"
    }
    detail = document["components"]["schemas"]["RunDetail"]
    assert {"id", "status", "nodes", "result"} <= set(detail["required"])
    assert "additionalProperties" not in detail  # exact: the generated types have no index


def test_streams_and_files_declare_their_media_types(document: dict[str, Any]) -> None:
    paths = document["paths"]

    def media_types(path: str) -> set[str]:
        return set(paths[path]["get"]["responses"]["200"]["content"])

    assert media_types("/api/runs/{run_id}/events") == {"text/event-stream"}
    assert media_types("/api/batches/{batch_id}/results.zip") == {"application/zip"}
    assert media_types("/files/{blob_id}") == {"image/png", "image/jpeg", "image/webp"}


def test_the_dump_is_valid_json_with_a_final_newline() -> None:
    text = openapi_dump.text()
    assert text.endswith("}\n")
    assert json.loads(text)["info"]["title"] == "Plait"
