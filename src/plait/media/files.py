"""Reading image files named in flows and on the command line."""

from __future__ import annotations

from pathlib import Path

from plait.errors import MediaError
from plait.media import images

MAX_FILE_BYTES = 50 * 1024 * 1024


def resolve(path: str, base_dir: Path | None) -> Path:
    """A path relative to `base_dir` (the flow file's folder) unless absolute."""
    candidate = Path(path).expanduser()
    if not candidate.is_absolute() and base_dir is not None:
        candidate = base_dir / candidate
    return candidate


def signature(path: str, base_dir: Path | None) -> str:
    """Size and modification time: changes when the file does (for cache keys)."""
    try:
        stat = resolve(path, base_dir).stat()
    except OSError:
        return f"{path}:missing"
    return f"{path}:{stat.st_size}:{stat.st_mtime_ns}"


def read_image_file(path: str, base_dir: Path | None = None) -> bytes:
    """The bytes of a PNG, JPEG or WebP file; raises MediaError naming the file."""
    file = resolve(path, base_dir)
    try:
        size = file.stat().st_size
        if size > MAX_FILE_BYTES:
            raise MediaError(f"{file} is {size:,} bytes; the limit is {MAX_FILE_BYTES:,}")
        data = file.read_bytes()
    except FileNotFoundError:
        raise MediaError(f"file not found: {file}") from None
    except IsADirectoryError:
        raise MediaError(f"{file} is a folder, not an image file") from None
    except PermissionError:
        raise MediaError(f"cannot read {file}: permission denied") from None
    if images.sniff(data) is None:
        raise MediaError(f"{file} is not a PNG, JPEG or WebP image")
    return data
