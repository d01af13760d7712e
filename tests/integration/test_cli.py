"""The `plait` command as a user runs it: a real process, real files, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakes.gemini import FakeGemini
from tests.fakes.web import local_server
from tests.helpers import EXAMPLES, open_image, png


def plait(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environ = {
        k: v for k, v in os.environ.items() if not k.startswith(("PLAIT_", "GEMINI_", "GOOGLE_"))
    }
    environ["PLAIT_DATA_DIR"] = str(cwd / ".plait")
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "plait", *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_run_product_shot_writes_the_model_sized_png(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = plait(
        "run", str(EXAMPLES / "product-shot.json"), "-i", "prompt=red sneaker on white",
        "--preview", "--out", str(out), cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    body = json.loads(proc.stdout)
    assert set(body) == {"image", "thumbnail"}
    image = open_image(Path(body["image"]).read_bytes())
    assert (image.format, image.size) == ("PNG", (1184, 864))  # gemini-2.5-flash-image at 4:3
    thumb = open_image(Path(body["thumbnail"]).read_bytes())
    assert thumb.size == (800, 584)
    assert Path(body["image"]).parent == out
    assert "succeeded" in proc.stderr
    assert "preview" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("example", ["social-card", "captioned-references"])
def test_other_examples_run_in_preview(tmp_path: Path, example: str) -> None:
    proc = plait(
        "run",
        str(EXAMPLES / f"{example}.json"),
        "-i",
        "prompt=studio light",
        "--preview",
        "--out",
        str(tmp_path / "o"),
        "--allow-dir",
        str(EXAMPLES.parent),
        cwd=tmp_path,
    )  # fmt: skip  (the examples may keep their images beside the flows' folder)
    assert proc.returncode == 0, proc.stderr
    body = json.loads(proc.stdout)
    first = next(v for v in body.values() if isinstance(v, str) and v.endswith((".png", ".jpg")))
    size = open_image(Path(first).read_bytes()).size
    assert size == {"social-card": (896, 1152), "captioned-references": (1344, 768)}[example]


def test_without_out_images_are_named_by_their_blob_path(tmp_path: Path) -> None:
    proc = plait("run", str(EXAMPLES / "product-shot.json"), "-i", "prompt=x", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr  # no key set: the preview backend is the default
    path = Path(json.loads(proc.stdout)["image"])
    assert path.is_relative_to(tmp_path / ".plait" / "blobs")
    assert open_image(path.read_bytes()).size == (1184, 864)


def test_image_input_from_a_file(tmp_path: Path) -> None:
    (tmp_path / "in.png").write_bytes(png(64, 48))
    flow = {
        "nodes": [
            {
                "id": "t",
                "type": "http_trigger",
                "config": {"fields": [{"name": "photo", "type": "image"}]},
            },
            {"id": "small", "type": "image_resize", "config": {"width": 32, "format": "webp"}},
            {
                "id": "r",
                "type": "respond",
                "config": {"mode": "json", "fields": [{"name": "small"}]},
            },
        ],
        "edges": [
            {"from": "t.photo", "to": "small.image"},
            {"from": "small.image", "to": "r.small"},
        ],
    }
    (tmp_path / "f.json").write_text(json.dumps(flow))
    proc = plait("run", "f.json", "-i", "photo=@in.png", "--out", "o", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = open_image((tmp_path / json.loads(proc.stdout)["small"]).read_bytes())
    assert (out.format, out.size) == ("WEBP", (32, 24))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "missing.json"], "flow file not found"),
        (["run", "broken.json"], "not valid JSON: Expecting"),
        (["run", "EX", "-i", "colour=red"], "unknown input 'colour'"),
        (["run", "EX", "-i", "prompt"], "-i expects NAME=VALUE"),
        (["run", "EX"], "input 'prompt': is required"),
        (["run", "EX", "-i", "prompt="], "input 'prompt': is required but was empty"),
        (["run", "EX", "-i", "prompt=   "], "input 'prompt': is required but was empty"),
        (["run", "IMG", "-i", "photo=@nothere.png"], "input 'photo': file not found"),
        (
            ["run", "IMG", "-i", "photo=@notes.txt"],
            "input 'photo': .*notes.txt is not a PNG, JPEG or WebP",
        ),
        (["run", "IMG", "-i", "photo=plain text"], "expects an image"),
        (["run", "invalid.json"], "node 'x': unknown node type 'nope'"),
        (["validate", "missing.json"], "flow file not found"),
    ],
)
def test_bad_input_is_one_clear_line_and_exit_2(
    tmp_path: Path, args: list[str], message: str
) -> None:
    (tmp_path / "broken.json").write_text('{"nodes": [}')
    (tmp_path / "invalid.json").write_text('{"nodes": [{"id": "x", "type": "nope"}]}')
    (tmp_path / "notes.txt").write_text("hello")
    photo_field = {"fields": [{"name": "photo", "type": "image"}]}
    trigger = {"id": "t", "type": "http_trigger", "config": photo_field}
    (tmp_path / "img.json").write_text(json.dumps({"nodes": [trigger]}))
    args = [{"EX": str(EXAMPLES / "product-shot.json"), "IMG": "img.json"}.get(a, a) for a in args]
    proc = plait(*args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert any(__import__("re").search(message, line) for line in lines), proc.stderr
    assert proc.stdout == ""


def test_a_failing_node_exits_1_naming_the_node(tmp_path: Path) -> None:
    flow = {
        "nodes": [
            {"id": "photo", "type": "file_input", "config": {"path": "gone.png"}},
            {"id": "small", "type": "image_resize", "config": {"width": 10}},
        ],
        "edges": [{"from": "photo.image", "to": "small.image"}],
    }
    (tmp_path / "f.json").write_text(json.dumps(flow))
    proc = plait("run", "f.json", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stdout == ""
    [line] = proc.stderr.strip().splitlines()
    assert line.startswith("plait: run failed at node 'photo' (file_input): file not found: ")


def test_a_non_image_file_fails_its_node(tmp_path: Path) -> None:
    (tmp_path / "fake.png").write_text("<html>not an image</html>")
    flow = {"nodes": [{"id": "photo", "type": "file_input", "config": {"path": "fake.png"}}]}
    (tmp_path / "f.json").write_text(json.dumps(flow))
    proc = plait("run", "f.json", cwd=tmp_path)
    assert proc.returncode == 1
    assert "node 'photo'" in proc.stderr
    assert "is not a PNG, JPEG or WebP image" in proc.stderr


def test_validate_reports_each_problem_on_its_own_line(tmp_path: Path) -> None:
    flow = {
        "nodes": [
            {"id": "a", "type": "teleport"},
            {"id": "img", "type": "image", "config": {"aspect_ratio": "7:3"}},
            {"id": "r", "type": "image_resize", "config": {"width": 10}},
        ],
        "edges": [{"from": "img.image", "to": "r.picture"}],
    }
    (tmp_path / "f.json").write_text(json.dumps(flow))
    proc = plait("validate", "f.json", cwd=tmp_path)
    assert proc.returncode == 2
    lines = proc.stdout.strip().splitlines()
    assert lines == [
        "node 'a': unknown node type 'teleport'; known types: file_input, http_trigger, image, "
        "image_resize, image_url, respond, text, text_overlay",
        "node 'img', field 'aspect_ratio': gemini-2.5-flash-image does not offer aspect ratio "
        "'7:3'; choose auto or one of 1:1, 2:3, 3:2, 3:4, 4:3, 4:5, 5:4, 9:16, 16:9, 21:9",
        "node 'r', port 'picture': no input port of that name (its inputs: image)",
        "node 'r', port 'image': required input is not set: connect an edge to it",
    ]


def test_validate_accepts_the_examples(tmp_path: Path) -> None:
    for path in EXAMPLES.glob("*.json"):
        proc = plait("validate", str(path), cwd=tmp_path)
        assert proc.returncode == 0, proc.stdout
        assert "valid" in proc.stdout


def test_models_lists_the_catalog(tmp_path: Path) -> None:
    proc = plait("models", "--json", cwd=tmp_path)
    assert proc.returncode == 0
    ids = [m["id"] for m in json.loads(proc.stdout)["models"]]
    assert ids[0] == "gemini-2.5-flash-image"
    assert {"gemini-3.1-flash-image", "gemini-3-pro-image"} <= set(ids)
    table = plait("models", cwd=tmp_path, env={"COLUMNS": "250"})
    assert "Nano Banana Pro" in table.stdout


def test_a_cached_rerun_makes_no_gemini_call(tmp_path: Path, gemini_fake: FakeGemini) -> None:
    env = {"PLAIT_GEMINI_BASE_URL": gemini_fake.base_url, "GEMINI_API_KEY": "k"}
    flow = str(EXAMPLES / "product-shot.json")
    first = plait("run", flow, "-i", "prompt=red sneaker", "--cache", cwd=tmp_path, env=env)
    assert first.returncode == 0, first.stderr
    assert len(gemini_fake.generate_requests()) == 1
    again = plait("run", flow, "-i", "prompt=red sneaker", "--cache", cwd=tmp_path, env=env)
    assert again.returncode == 0, again.stderr
    assert len(gemini_fake.generate_requests()) == 1  # the image came from the cache
    assert json.loads(again.stdout) == json.loads(first.stdout)
    changed = plait("run", flow, "-i", "prompt=blue sneaker", "--cache", cwd=tmp_path, env=env)
    assert changed.returncode == 0, changed.stderr
    assert len(gemini_fake.generate_requests()) == 2  # a new prompt is a new call


def test_a_redirect_to_an_odd_scheme_is_one_clear_line(tmp_path: Path) -> None:
    with local_server() as web:
        url = f"{web.origin}/redirect?to=javascript:alert(1)"
        flow = {"nodes": [{"id": "fetch", "type": "image_url", "config": {"url": url}}]}
        (tmp_path / "f.json").write_text(json.dumps(flow))
        proc = plait("run", "f.json", cwd=tmp_path, env={"PLAIT_NET_ALLOW": "127.0.0.1"})
    assert proc.returncode == 1, proc.stderr
    [line] = proc.stderr.strip().splitlines()
    assert line.startswith("plait: run failed at node 'fetch' (image_url): ")
    assert "redirected to a URL that is not http(s)" in line


def test_a_flow_reads_files_only_under_its_folder_or_an_allowed_one(tmp_path: Path) -> None:
    (tmp_path / "flow").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "photo.png").write_bytes(png(9, 9))
    flow = {
        "nodes": [
            {"id": "photo", "type": "file_input", "config": {"path": "../elsewhere/photo.png"}}
        ]
    }
    (tmp_path / "flow" / "f.json").write_text(json.dumps(flow))
    refused = plait("run", "flow/f.json", cwd=tmp_path)
    assert refused.returncode == 1
    [line] = refused.stderr.strip().splitlines()
    assert "node 'photo'" in line
    assert "is outside the folders this flow may read" in line
    assert "--allow-dir" in line
    allowed = plait("run", "flow/f.json", "--allow-dir", "elsewhere", cwd=tmp_path)
    assert allowed.returncode == 0, allowed.stderr


def test_serve_refuses_a_short_admin_password_in_one_line(tmp_path: Path) -> None:
    env = {"PLAIT_ADMIN_EMAIL": "owner@example.com", "PLAIT_ADMIN_PASSWORD": "a"}
    proc = plait("serve", "--port", "0", cwd=tmp_path, env=env)
    assert proc.returncode == 1
    [line] = proc.stderr.strip().splitlines()[-1:]
    assert line == (
        "plait: PLAIT_ADMIN_PASSWORD: a password needs at least 8 characters; choose a longer one"
    )
    assert "Traceback" not in proc.stderr
