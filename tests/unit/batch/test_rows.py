"""Reading and checking a batch's rows: every problem named by row and column, up front."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from plait.batch.rows import MAX_SHOWN, RowProblem, check_rows, check_uploaded, read_records
from plait.errors import InputError
from plait.media.blobs import LocalBlobStore
from plait.media.image_ref import ImageRef
from plait.net import GuardedClient
from plait.nodes.http_trigger import HttpTriggerConfig, TriggerField
from tests.fakes.web import LOOPBACK_ONLY, PNG, FakeResolver, LocalServer, local_server
from tests.helpers import png

CONFIG = HttpTriggerConfig(
    fields=[
        TriggerField(name="prompt"),
        TriggerField(name="n", type="number", required=False, default=1),
        TriggerField(name="photo", type="image", required=False),
    ]
)


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with local_server() as state:
        yield state


@pytest.fixture
async def http() -> AsyncIterator[GuardedClient]:
    resolver = FakeResolver({"images.test": [["127.0.0.1"]]})
    async with GuardedClient(LOOPBACK_ONLY, resolver=resolver, time_limit=5.0) as client:
        yield client


def test_csv_quoting_and_empty_cells(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text('prompt,n\n"a, quoted ""one""",\nplain,3\n', encoding="utf-8")
    assert read_records(path) == [{"prompt": 'a, quoted "one"'}, {"prompt": "plain", "n": "3"}]


def test_jsonl_skips_blank_lines_and_nulls(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text('{"prompt": "a", "n": null}\n\n{"prompt": "b", "n": 2}\n')
    assert read_records(path) == [{"prompt": "a"}, {"prompt": "b", "n": 2}]


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("rows.txt", "x", "must be a .csv or .jsonl file"),
        ("rows.csv", "prompt\n", "there are no rows"),
        ("rows.jsonl", '{"prompt": "a"}\n[1]\n', "line 2: each line must be a JSON object"),
        ("rows.jsonl", '{"prompt": "a"\n', "line 1: not valid JSON"),
        ("rows.csv", "prompt\na,b\n", "row 1: more cells than columns"),
    ],
)
def test_unreadable_files(tmp_path: Path, name: str, text: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        read_records(path)


async def test_values_are_coerced_and_defaults_applied(tmp_path: Path, http: GuardedClient) -> None:
    path = tmp_path / "rows.csv"
    path.write_text("prompt,n\na,\nb,2.5\n")
    rows = await check_rows(path, CONFIG, LocalBlobStore(tmp_path / "blobs"), http)
    assert [(r.number, r.inputs) for r in rows] == [
        (1, {"prompt": "a", "n": 1, "photo": None}),
        (2, {"prompt": "b", "n": 2.5, "photo": None}),
    ]
    assert rows[1].given == {"prompt": "b", "n": "2.5"}


async def test_every_problem_names_its_row_and_column(tmp_path: Path, http: GuardedClient) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text('{"n": 1}\n{"prompt": "a", "n": "lots"}\n{"prompt": "b", "photo": "no.png"}\n')
    with pytest.raises(InputError) as caught:
        await check_rows(path, CONFIG, LocalBlobStore(tmp_path / "blobs"), http)
    lines = str(caught.value).splitlines()
    assert lines[0] == "rows.jsonl, row 1, column 'prompt': is required but was not given"
    assert lines[1] == "rows.jsonl, row 2, column 'n': expects a number, got 'lots'"
    assert lines[2].startswith("rows.jsonl, row 3, column 'photo': file not found")
    assert lines[-1] == "nothing was run; fix the rows file and try again"


async def test_unknown_columns_list_the_fields(tmp_path: Path, http: GuardedClient) -> None:
    path = tmp_path / "rows.csv"
    path.write_text("prompt,colour\na,red\n")
    with pytest.raises(InputError, match=r"row 1, column 'colour': not a field of the trigger; "
                       r"rename the column to one of: prompt \(text\), n \(number\)"):  # fmt: skip
        await check_rows(path, CONFIG, LocalBlobStore(tmp_path / "blobs"), http)
    with pytest.raises(InputError, match="this flow has no HTTP Trigger"):
        await check_rows(path, None, LocalBlobStore(tmp_path / "blobs"), http)


async def test_many_problems_are_cut_short(tmp_path: Path, http: GuardedClient) -> None:
    path = tmp_path / "rows.csv"
    path.write_text("prompt,n\n" + "a,x\n" * 50)
    with pytest.raises(InputError) as caught:
        await check_rows(path, CONFIG, LocalBlobStore(tmp_path / "blobs"), http)
    lines = str(caught.value).splitlines()
    assert len(lines) == MAX_SHOWN + 2
    assert lines[-2] == f"… and {50 - MAX_SHOWN} more problem(s)"


async def test_images_by_relative_path_and_by_url(
    tmp_path: Path, http: GuardedClient, server: LocalServer
) -> None:
    (tmp_path / "pics").mkdir()
    (tmp_path / "pics" / "a.png").write_bytes(png(12, 10))
    path = tmp_path / "rows.csv"
    url = f"http://images.test:{server.port}/image.png"
    path.write_text(
        f"prompt,photo\na,pics/a.png\nb,{url}\nc,{url}\nd,http://images.test:{server.port}/page\n"
    )
    blobs = LocalBlobStore(tmp_path / "blobs")
    with pytest.raises(InputError) as caught:
        await check_rows(path, CONFIG, blobs, http)
    assert "row 4, column 'photo':" in str(caught.value)
    path.write_text("\n".join(path.read_text().splitlines()[:-1]) + "\n")
    rows = await check_rows(path, CONFIG, blobs, http)
    photos = [r.inputs["photo"] for r in rows]
    assert all(isinstance(p, ImageRef) for p in photos)
    assert (photos[0].width, photos[0].height) == (12, 10)
    assert await blobs.get(photos[1].sha256) == PNG
    # two rows name the URL: fetched once per check (two checks here)
    assert len([s for s in server.seen if s.path == "/image.png"]) == 2


async def test_uploaded_rows_name_uploaded_files_and_never_read_the_disk(
    tmp_path: Path, http: GuardedClient
) -> None:
    on_disk = tmp_path / "secret.png"
    on_disk.write_bytes(png(8, 8))
    blobs = LocalBlobStore(tmp_path / "blobs")
    text = f"prompt,photo\na,red.png\nb,{on_disk}\nc,secret.png\n"
    with pytest.raises(InputError) as raised:
        await check_uploaded("rows.csv", text, CONFIG, blobs, http, {"red.png": png(8, 8)})
    problems = [(p.row, p.field) for p in raised.value.problems if isinstance(p, RowProblem)]
    assert problems == [(2, "photo"), (3, "photo")]
    assert f"no file named '{on_disk}' was sent with the rows" in str(raised.value)

    rows = await check_uploaded(
        "rows.csv", "prompt,photo\na,red.png\n", CONFIG, blobs, http, {"red.png": png(8, 8)}
    )
    photo = rows[0].inputs["photo"]
    assert isinstance(photo, ImageRef)
    assert await blobs.get(photo.sha256)  # stored, re-encoded


async def test_an_uploaded_file_that_is_not_an_image_is_named(
    tmp_path: Path, http: GuardedClient
) -> None:
    blobs = LocalBlobStore(tmp_path / "blobs")
    with pytest.raises(InputError) as raised:
        await check_uploaded(
            "../up/rows.csv", "prompt,photo\na,x.png\n", CONFIG, blobs, http, {"x.png": b"<html>"}
        )
    assert str(raised.value).startswith("rows.csv, row 1, column 'photo': ")
    assert "PNG, JPEG, WebP, HEIC or HEIF" in str(raised.value)
