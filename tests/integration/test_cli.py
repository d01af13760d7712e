"""The `plait` command as a user runs it: a real process, real files, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from plait.providers import catalog
from tests.fakes.gemini import FakeGemini, ModelListing
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
    assert (image.format, image.size) == ("PNG", (1200, 896))  # gemini-nano-banana-2.1 at 4:3
    thumb = open_image(Path(body["thumbnail"]).read_bytes())
    assert thumb.size == (800, 597)
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
    assert size == {"social-card": (928, 1152), "captioned-references": (1376, 768)}[example]


def test_without_out_images_are_named_by_their_blob_path(tmp_path: Path) -> None:
    proc = plait("run", str(EXAMPLES / "product-shot.json"), "-i", "prompt=x", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr  # no key set: the preview backend is the default
    path = Path(json.loads(proc.stdout)["image"])
    assert path.is_relative_to(tmp_path / ".plait" / "blobs")
    assert open_image(path.read_bytes()).size == (1200, 896)


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
            "input 'photo': .*notes.txt is not a PNG, JPEG, WebP, HEIC or HEIF",
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
    assert "is not a PNG, JPEG, WebP, HEIC or HEIF image" in proc.stderr


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
        "node 'img', field 'aspect_ratio': gemini-nano-banana-2.1 does not offer "
        "aspect ratio '7:3'; choose auto or one of 1:1, 2:3, 3:2, 3:4, 4:3, 4:5, 5:4, 9:16, "
        "16:9, 21:9, 1:4, 4:1, 1:8, 8:1",
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
    listed = json.loads(proc.stdout)
    models = {m["id"]: m for m in listed["models"]}
    assert listed["default"] == "gemini-nano-banana-2.1"
    assert listed["key"] is None  # no key: availability not known
    old = models["gemini-2.5-flash-image"]
    assert (old["lifecycle"], old["deprecated"], old["shutdown"], old["successor"]) == (
        "deprecated",
        "2026-09-18",
        "2027-03-15",
        "gemini-3.1-flash-lite-image",
    )
    nb21 = models["gemini-nano-banana-2.1"]
    assert (nb21["image_sizes"], nb21["max_references"], nb21["available"]) == (
        ["1K", "2K", "4K"],
        14,
        None,
    )
    assert len(nb21["aspect_ratios"]) == 14
    assert nb21["price_per_image"]["batch"]["1K"] == 0.0168
    assert nb21["price_per_million_tokens"]["thinking"] == 7.5
    assert nb21["sources"]["prices"]["url"] == "https://ai.google.dev/gemini-api/docs/pricing"
    table = plait("models", cwd=tmp_path, env={"COLUMNS": "250"})
    assert "Nano Banana Pro" in table.stdout


def _whole_ids(table: str) -> None:
    """Every model id, and every successor's, stands whole on one line of the table."""
    lines = table.splitlines()
    for model in catalog.current().models:
        assert any(f" {model.id} " in f" {line} " for line in lines), model.id
        if model.successor:
            assert any(f"→ {model.successor}" in line for line in lines), model.successor
    assert all(len(line) <= 80 for line in lines)


def test_models_at_80_columns_never_break_an_id(tmp_path: Path, gemini_fake: FakeGemini) -> None:
    _whole_ids(plait("models", cwd=tmp_path, env={"COLUMNS": "80"}).stdout)
    env = {"PLAIT_GEMINI_BASE_URL": gemini_fake.base_url, "GEMINI_API_KEY": "k"}
    with_key = plait("models", cwd=tmp_path, env={**env, "COLUMNS": "80"}).stdout
    assert "usable" in with_key  # one more column: whether this key can use each
    _whole_ids(with_key)


def test_models_shows_what_this_key_can_use(tmp_path: Path, gemini_fake: FakeGemini) -> None:
    gemini_fake.listing = ModelListing(
        models=("gemini-3-pro-image", "gemini-4-flash-image", "gemini-3.1-flash-lite")
    )
    env = {"PLAIT_GEMINI_BASE_URL": gemini_fake.base_url, "GEMINI_API_KEY": "k"}
    proc = plait("models", "--json", cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    listed = json.loads(proc.stdout)
    available = {m["id"]: m["available"] for m in listed["models"]}
    assert available["gemini-3-pro-image"] is True
    assert available["gemini-nano-banana-2.1"] is False
    assert listed["key"]["not_in_catalog"] == ["gemini-4-flash-image"]
    table = plait("models", cwd=tmp_path, env={**env, "COLUMNS": "120"})
    assert "Listed for this key but not in the catalog: gemini-4-flash-image" in table.stdout
    assert "not listed" in table.stdout
    assert len([r for r in gemini_fake.requests if r.path.endswith("/models")]) == 1  # cached
    check = plait("models", "--check", cwd=tmp_path, env=env)
    assert check.returncode == 0, check.stderr
    assert len([r for r in gemini_fake.requests if r.path.endswith("/models")]) == 2

    offline = {**env, "PLAIT_IMAGE_BACKEND": "preview"}  # runs make no call to Google
    quiet = json.loads(plait("models", "--json", cwd=tmp_path, env=offline).stdout)
    assert quiet["key"] is None
    assert {m["available"] for m in quiet["models"]} == {None}
    refused = plait("models", "--check", cwd=tmp_path, env=offline)
    assert refused.returncode == 1
    assert "PLAIT_IMAGE_BACKEND=preview makes no call to Google" in refused.stderr
    assert len([r for r in gemini_fake.requests if r.path.endswith("/models")]) == 2


def _image_flow(tmp_path: Path, name: str, **config: str) -> str:
    """A one-node flow file: an Image node `img` with `config` and a prompt."""
    document = {"nodes": [{"id": "img", "type": "image", "config": {"prompt": "x", **config}}]}
    (tmp_path / name).write_text(json.dumps(document))
    return name


def test_validate_warns_on_a_deprecated_model_and_refuses_a_shut_down_one(tmp_path: Path) -> None:
    old = _image_flow(tmp_path, "old.json", model="gemini-2.5-flash-image")
    proc = plait("validate", old, cwd=tmp_path)
    assert proc.returncode == 0
    assert proc.stdout.splitlines()[0] == (
        "warning: node 'img', field 'model': gemini-2.5-flash-image was deprecated by Google on "
        "2026-09-18; Google shuts it down on 2027-03-15; switch to gemini-3.1-flash-lite-image"
    )
    gone = _image_flow(tmp_path, "gone.json", model="gemini-3.1-flash-image")
    proc = plait("validate", gone, cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stdout.splitlines() == [
        "node 'img', field 'model': gemini-3.1-flash-image was shut down by Google on "
        "2026-10-29 and no longer runs; switch the node to its successor, gemini-nano-banana-2.1"
    ]
    small = _image_flow(tmp_path, "small.json", model="gemini-nano-banana-2.1", image_size="512")
    proc = plait("validate", small, cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stdout.splitlines() == [
        "node 'img', field 'image_size': gemini-nano-banana-2.1 does not offer size '512'; "
        "choose one of 1K, 2K, 4K"
    ]


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
