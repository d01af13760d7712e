"""Plait's files are its own: the data dir is 0700 (owner only) and a SQLite database
file 0600, made so before anything is written and tightened when they exist already.
The master key (`secret.key`) is created 0600 by `plait.settings`."""

from __future__ import annotations

import os
import stat
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def make_private(data_dir: Path, database: Path | None) -> None:
    """Create or tighten the data dir, and the database file (and its journal files,
    which SQLite creates with the database file's mode) when it is a SQLite file."""
    data_dir.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    _tighten(data_dir, DIR_MODE)
    if database is None:
        return
    database.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    fd = os.open(database, os.O_RDWR | os.O_CREAT, FILE_MODE)  # created private, never 0644
    os.close(fd)
    for path in (database, *(database.with_name(database.name + s) for s in ("-wal", "-shm"))):
        if path.exists():
            _tighten(path, FILE_MODE)


def _tighten(path: Path, mode: int) -> None:
    if stat.S_IMODE(path.stat().st_mode) != mode:
        path.chmod(mode)
