"""The shipped templates: in the package, with their images, handed out self-contained."""

from __future__ import annotations

import hashlib

from plait.flows.gallery import FOLDER, bundled, flow_templates
from plait.flows.loader import flow_from_document
from plait.flows.servable import serving_problems
from plait.nodes.registry import builtin

REGISTRY = builtin()


def test_templates_live_in_the_package_and_each_can_serve() -> None:
    found = {t.id: t for t in flow_templates()}
    assert {"product-shot", "social-card", "captioned-references"} <= found.keys()
    assert FOLDER.parts[-3:] == ("plait", "flows", "templates")
    for template in found.values():
        assert serving_problems(flow_from_document(template.document), REGISTRY) == []


def test_bundled_names_each_file_by_the_blob_id_of_its_bytes() -> None:
    [card] = [t for t in flow_templates() if t.id == "captioned-references"]
    document, blobs = bundled(card.document, REGISTRY)
    [compose] = [n for n in document["nodes"] if n["id"] == "compose"]
    refs = compose["config"]["references"]
    assert all("file" not in r for r in refs)
    sneaker = (FOLDER / "images" / "sneaker.jpg").read_bytes()
    assert refs[0]["blob"] == hashlib.sha256(sneaker).hexdigest()
    assert blobs[refs[0]["blob"]] == sneaker
    assert len(blobs) == 2
    assert card.document["nodes"][1]["config"]["references"][0]["file"] == "images/sneaker.jpg"
