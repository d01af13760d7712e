"""Reading image files named in flows and on the command line.

A flow names files in File Input's `path` and an Image reference's `file`. Which of them a
run may read is decided in one place, `allowed_roots`: on the command line the flow file's
folder and the folders the user names (`plait run --allow-dir`); on the server none at all
(flows there use uploaded images). A refusal reads the same whether the file exists or not.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from plait.errors import Category, MediaError
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
    """The bytes of a PNG, JPEG, WebP, HEIC or HEIF file; raises MediaError naming the file."""
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
        raise MediaError(f"{file} is not {images.ACCEPTED}")
    return data


class FileRefused(MediaError):
    """A flow named a file outside the folders this run may read (the flow's input to fix)."""

    category: ClassVar[Category | None] = Category.INPUT


@dataclass(frozen=True)
class FlowFiles:
    """The files a run may read: paths start at `roots[0]` (the flow file's folder) unless
    absolute, and only files under one of `roots` are read. No roots: none (the server)."""

    roots: tuple[Path, ...] = ()

    def resolve(self, path: str) -> Path:
        """The file `path` names, symbolic links and `..` resolved, if it lies under a root;
        else `FileRefused`, decided before the file is looked at."""
        if not self.roots:
            raise FileRefused(
                f"'{path}': a flow on the server reads no files from the server's disk; "
                "upload the image instead (File Input → Upload, or a reference's upload)"
            )
        candidate = Path(path).expanduser()
        if not candidate.is_absolute():
            candidate = self.roots[0] / candidate
        real = Path(os.path.realpath(candidate))
        if not any(real.is_relative_to(root) for root in self.roots):
            folders = ", ".join(str(r) for r in self.roots)
            raise FileRefused(
                f"'{path}' is outside the folders this flow may read ({folders}); "
                "move the file there, or name its folder with --allow-dir"
            )
        return real

    def read_image(self, path: str) -> bytes:
        return read_image_file(str(self.resolve(path)))

    def signature(self, path: str) -> str:
        """Size and modification time of an allowed file (for cache keys); never looks at
        a refused one."""
        try:
            return signature(str(self.resolve(path)), None)
        except FileRefused:
            return f"{path}:refused"


def allowed_roots(flow_dir: Path | None, extra: Iterable[Path] = ()) -> FlowFiles:
    """The one rule for which folders a flow may read files from: the flow file's folder
    and the folders the user named; none without a flow file (the server)."""
    if flow_dir is None:
        return FlowFiles()
    return FlowFiles(tuple(Path(os.path.realpath(p)) for p in (flow_dir, *extra)))
