import io
import threading
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import create_engine

from plait.errors import MediaError
from plait.media import images
from plait.media.blobs import BlobNotFound, BlobWriteError, LocalBlobStore, put_image
from plait.media.files import read_image_file
from plait.store.journal import Journal
from plait.store.writer import Writer
from tests.helpers import png


def encoded(fmt: str, size: tuple[int, int] = (30, 20), **options: object) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 200, 30)).save(out, format=fmt, **options)
    return out.getvalue()


@pytest.mark.parametrize(
    ("fmt", "media_type"), [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp")]
)
def test_type_is_decided_by_magic_bytes(fmt: str, media_type: str) -> None:
    data = encoded(fmt)
    assert images.sniff(data) == media_type
    assert images.inspect(data) == images.ImageInfo(media_type, 30, 20)


@pytest.mark.parametrize(
    "data",
    [
        b"<svg xmlns='http://www.w3.org/2000/svg'/>",
        b"<html><body>hi</body></html>",
        b"GIF89a....",
        b"",
        b"RIFF1234WAVE",
    ],
)
def test_other_content_is_refused(data: bytes) -> None:
    assert images.sniff(data) is None
    with pytest.raises(MediaError, match="not a PNG, JPEG, WebP, HEIC or HEIF image"):
        images.inspect(data)


def test_truncated_jpeg_is_a_media_error() -> None:
    data = encoded("JPEG", (200, 200))
    with pytest.raises(MediaError, match=r"damaged or truncated|cannot be read"):
        images.decode(data[: len(data) // 2])


def test_decompression_bomb_is_refused() -> None:
    bomb = encoded("PNG", (9000, 9000))  # 81 megapixels of one colour: a small file
    assert len(bomb) < 1_000_000
    with pytest.raises(MediaError, match="more than 64,000,000 pixels"):
        images.inspect(bomb)


def test_exif_orientation_is_applied_and_metadata_dropped() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    exif[0x010F] = "SecretCam"
    data = encoded("JPEG", (40, 10), exif=exif.tobytes())
    img = images.decode(data)
    assert img.size == (10, 40)
    reencoded = images.encode(img, "jpeg")
    assert b"SecretCam" not in reencoded
    assert Image.open(io.BytesIO(reencoded)).getexif().get(0x010F) is None


def test_jpeg_output_flattens_transparency_onto_white() -> None:
    rgba = Image.new("RGBA", (4, 4), (0, 0, 0, 0))
    out = Image.open(io.BytesIO(images.encode(rgba, "jpeg")))
    assert out.mode == "RGB"
    assert out.getpixel((1, 1)) == pytest.approx((255, 255, 255), abs=2)


async def test_blob_store_is_content_addressed(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    sha = await store.put(b"hello")
    assert sha == "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    assert await store.put(b"hello") == sha
    assert await store.get(sha) == b"hello"
    assert store.path(sha) == tmp_path / "2c" / sha[2:]
    await store.flush()
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == [sha[2:]]  # no temp files left


async def test_recent_blobs_are_kept_in_memory_up_to_the_limit(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path, recent_bytes=10)
    first, second = await store.put(b"aaaaaa"), await store.put(b"bbbbbb")  # 12 bytes > 10
    await store.flush()
    store.path(first).unlink()
    store.path(second).unlink()
    assert await store.get(second) == b"bbbbbb"  # the latest: from memory
    with pytest.raises(BlobNotFound):
        await store.get(first)  # pushed out of memory: read from disk, where it is gone
    a_fresh_store = LocalBlobStore(tmp_path)
    assert not await a_fresh_store.exists(second)  # memory is only a cache of the files


async def test_a_blob_is_readable_at_once_and_its_file_follows(tmp_path: Path) -> None:
    writer, release = Writer(), threading.Event()
    writer.submit(release.wait)  # the disk is busy: nothing handed in after this runs yet
    store = LocalBlobStore(tmp_path, writer=writer)
    sha = await store.put(b"not on disk yet")
    assert not store.path(sha).exists()
    assert await store.get(sha) == b"not on disk yet"
    assert await store.exists(sha)
    release.set()
    await store.flush()
    assert store.path(sha).read_bytes() == b"not on disk yet"
    await store.close()
    writer.close()


async def test_a_record_sharing_the_writer_commits_after_the_files_it_names(
    tmp_path: Path,
) -> None:
    writer = Writer()
    engine = create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    journal = Journal(lambda: engine, writer=writer)
    store = LocalBlobStore(tmp_path / "blobs", writer=writer)
    seen: list[bool] = []
    for n in range(20):
        sha = await store.put(f"image {n}".encode())
        path = store.path(sha)
        journal.post(lambda conn, path=path: seen.append(path.exists()))
    await journal.close()
    await store.close()
    writer.close()
    assert seen == [True] * 20


async def test_a_file_the_disk_refuses_is_reported_and_kept_in_memory(tmp_path: Path) -> None:
    root = tmp_path / "blobs"
    root.write_text("a file where the store's folder should be")
    store = LocalBlobStore(root)
    sha = await store.put(b"precious")
    with pytest.raises(BlobWriteError, match="could not write the files of blobs"):
        await store.flush()
    assert await store.get(sha) == b"precious"


async def test_blob_ids_cannot_escape_the_store(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    for bad in ["../../etc/passwd", "ab/../../x", "A" * 64, ""]:
        with pytest.raises(BlobNotFound):
            await store.get(bad)
    with pytest.raises(BlobNotFound, match="not in the store"):
        await store.get("0" * 64)


async def test_put_image_describes_the_image(tmp_path: Path) -> None:
    ref = await put_image(LocalBlobStore(tmp_path), png(12, 7))
    assert (ref.media_type, ref.width, ref.height, ref.extension) == ("image/png", 12, 7, "png")
    with pytest.raises(MediaError):
        await put_image(LocalBlobStore(tmp_path), b"<html>")


def test_read_image_file_errors(tmp_path: Path) -> None:
    (tmp_path / "page.png").write_text("<html>")
    with pytest.raises(MediaError, match="file not found"):
        read_image_file("nope.png", tmp_path)
    with pytest.raises(MediaError, match="is a folder"):
        read_image_file(".", tmp_path)
    with pytest.raises(MediaError, match=r"page\.png is not a PNG, JPEG, WebP, HEIC or HEIF image"):
        read_image_file("page.png", tmp_path)
    (tmp_path / "ok.png").write_bytes(png(3, 3))
    assert read_image_file("ok.png", tmp_path)[:4] == b"\x89PNG"
