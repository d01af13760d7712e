"""The publish dialog's examples run as written: curl, Python and JavaScript (Node)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.helpers import png
from tests.integration.api import flows
from tests.server import LiveServer

FIELDS = [
    {"name": "prompt", "type": "text", "default": 'it\'s a "sneaker"'},
    {"name": "count", "type": "number"},
    {"name": "loud", "type": "boolean"},
    {"name": "extra", "type": "json"},
    {"name": "product", "type": "image"},
]


def _command(lang: str, code: str, folder: Path) -> list[str]:
    script = folder / {"curl": "call.sh", "python": "call.py", "javascript": "call.mjs"}[lang]
    script.write_text(code)
    tool = {
        "curl": shutil.which("bash"),
        "python": sys.executable,
        "javascript": shutil.which("node"),
    }
    assert tool[lang], f"the {lang} example needs its interpreter on PATH"
    return [str(tool[lang]), str(script)]


@pytest.mark.parametrize("lang", ["curl", "python", "javascript"])
def test_each_example_runs_as_written(
    server: LiveServer, admin: httpx.Client, tmp_path: Path, lang: str
) -> None:
    flow_id = flows.create(admin, flows.echo_fields(FIELDS, [f["name"] for f in FIELDS]))
    secret = flows.publish(admin, flow_id)["secret"]
    code = admin.get(f"/api/flows/{flow_id}/examples").json()[lang]
    assert "<SECRET>" in code
    (tmp_path / "photo.jpg").write_bytes(png(64, 48))
    ran = subprocess.run(
        _command(lang, code.replace("<SECRET>", secret), tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    output = ran.stdout.strip()
    answer = json.loads(output) if lang == "curl" else None
    if answer is not None:
        assert answer["prompt"] == 'it\'s a "sneaker"'
        assert answer["count"] == 1
        assert answer["loud"] is True
        assert answer["product"].startswith(f"{server.url}/files/")
    else:  # Python prints a dict, Node an object: the values are in the text
        assert "sneaker" in output
        assert f"{server.url}/files/" in output
    if lang == "curl":
        assert "-F product=@photo.jpg" in code
    else:
        assert "base64" in code
