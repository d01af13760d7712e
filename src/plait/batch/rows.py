"""Reading a batch's rows (CSV or JSON Lines) and checking them against the trigger's fields.

Columns are the HTTP Trigger's field names. An empty CSV cell (or a JSON null) counts as
not given, so the field's default applies. Image fields take a file path, relative to the
rows file, or an http(s) URL fetched through the guarded client; rows sent to the server
(`check_uploaded`) name files uploaded with them instead of paths. Every problem is found
before anything runs and reported naming the row number (1 = the first data row) and the
column.
"""

from __future__ import annotations

import asyncio
import csv
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from plait import jsonlimits
from plait.errors import InputError, PlaitError, Problem
from plait.flows.ports import not_given
from plait.jsonlimits import JsonLimitError
from plait.media.blobs import BlobStore, put_image
from plait.media.files import read_image_file
from plait.media.image_ref import ImageRef
from plait.media.images import sanitize
from plait.net.client import GuardedClient
from plait.net.fetch import fetch_image
from plait.nodes.http_trigger import HttpTriggerConfig, coerce_inputs

MAX_SHOWN = 20  # problems listed before "… and N more"
_IMAGE_LOADS = 16  # files read or URLs fetched at once


@dataclass(frozen=True, slots=True)
class Row:
    number: int
    given: dict[str, Any]  # the values as read from the file
    inputs: dict[str, Any]  # checked run inputs (images as ImageRef)


class RowProblem(Problem):
    """A problem with one row (1 = the first data row), in one column when `field` is set."""

    def __init__(self, row: int, message: str, *, column: str | None = None):
        super().__init__(message, field=column)
        self.row = row

    def __str__(self) -> str:
        where = f"row {self.row}, column '{self.field}'" if self.field else f"row {self.row}"
        return f"{where}: {self.message}"


def read_records(path: Path) -> list[dict[str, Any]]:
    """The rows of a .csv or .jsonl file as dicts, in order; InputError if unreadable."""
    _check_suffix(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the rows file {path} ({exc})") from None
    return parse_records(path, text)


def _check_suffix(path: Path) -> None:
    if path.suffix.lower() not in (".csv", ".jsonl", ".ndjson"):
        raise InputError(f"{path}: rows must be a .csv or .jsonl file")


def parse_records(path: Path, text: str) -> list[dict[str, Any]]:
    """The rows of a CSV or JSON Lines text (the kind from `path`'s suffix) as dicts."""
    _check_suffix(path)
    records = _csv(text) if path.suffix.lower() == ".csv" else _jsonl(path, text)
    if not records:
        raise InputError(f"{path}: there are no rows")
    return records


def _csv(text: str) -> list[dict[str, Any]]:
    reader = csv.DictReader(text.splitlines())
    records: list[dict[str, Any]] = []
    try:
        for record in reader:
            if None in record:
                number = len(records) + 1
                raise InputError(
                    f"row {number}: more cells than columns; quote values that hold commas"
                )
            records.append({k.strip(): v for k, v in record.items() if not not_given(v)})
    except csv.Error as exc:
        raise InputError(f"row {len(records) + 1}: not valid CSV ({exc})") from None
    return records


def _jsonl(path: Path, text: str) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for line_number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = jsonlimits.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"{path}, line {line_number}: not valid JSON ({exc.msg} at column {exc.colno})"
            ) from None
        except JsonLimitError as exc:
            raise InputError(f"{path}, line {line_number}: {exc}") from None
        if not isinstance(record, dict):
            raise InputError(f"{path}, line {line_number}: each line must be a JSON object")
        records.append({k: v for k, v in record.items() if v is not None})
    return records


async def check_rows(
    path: Path,
    config: HttpTriggerConfig | None,
    blobs: BlobStore,
    http: GuardedClient,
) -> list[Row]:
    """Read and check every row; InputError listing every problem (row and column named)."""
    records = read_records(path)
    return await _check_records(path, records, config, _ImageLoader(path.parent, blobs, http))


async def check_uploaded(
    name: str,
    text: str,
    config: HttpTriggerConfig | None,
    blobs: BlobStore,
    http: GuardedClient,
    files: Mapping[str, bytes],
) -> list[Row]:
    """Rows sent to the server: image cells are http(s) URLs or the names of `files` sent
    with them (never paths on the server's disk)."""
    path = Path(Path(name).name or "rows")
    records = parse_records(path, text)
    return await _check_records(path, records, config, _ImageLoader(None, blobs, http, files))


async def _check_records(
    path: Path,
    records: list[dict[str, Any]],
    config: HttpTriggerConfig | None,
    images: _ImageLoader,
) -> list[Row]:
    fields: dict[str, str] = {f.name: f.type for f in config.fields} if config else {}
    problems = _unknown_columns(records, fields, config is not None)
    if problems:
        raise _error(path, problems)
    await images.load_all(
        [r[name] for r in records for name, kind in fields.items() if kind == "image" and name in r]
    )
    rows: list[Row] = []
    for number, record in enumerate(records, 1):
        row_problems, inputs = _check(number, record, config, fields, images)
        problems += row_problems
        if not row_problems:
            rows.append(Row(number, record, inputs))
    if problems:
        raise _error(path, problems)
    return rows


def _unknown_columns(
    records: list[dict[str, Any]], fields: dict[str, str], has_trigger: bool
) -> list[RowProblem]:
    problems = []
    seen: set[str] = set()
    expected = ", ".join(f"{n} ({k})" for n, k in fields.items())
    for number, record in enumerate(records, 1):
        for column in record:
            if column in fields or column in seen:
                continue
            seen.add(column)
            if not has_trigger:
                problems.append(
                    RowProblem(number, "this flow has no HTTP Trigger to take it", column=column)
                )
            else:
                problems.append(
                    RowProblem(
                        number,
                        f"not a field of the trigger; rename the column to one of: {expected}",
                        column=column,
                    )
                )
    return problems


def _check(
    number: int,
    record: dict[str, Any],
    config: HttpTriggerConfig | None,
    fields: dict[str, str],
    images: _ImageLoader,
) -> tuple[list[RowProblem], dict[str, Any]]:
    if config is None:
        return [], {}
    problems: list[RowProblem] = []
    raw: dict[str, Any] = {}
    for name, value in record.items():
        if fields[name] != "image":
            raw[name] = value
            continue
        loaded = images.get(value)
        if isinstance(loaded, ImageRef):
            raw[name] = loaded
        else:
            problems.append(RowProblem(number, loaded, column=name))
    if problems:
        return problems, {}
    try:
        return [], coerce_inputs(config, raw)
    except InputError as exc:
        return [RowProblem(number, p.message, column=p.field) for p in exc.problems if p.field] or [
            RowProblem(number, exc.message)
        ], {}


def _error(path: Path, problems: list[RowProblem]) -> InputError:
    """Every problem in `problems`; the message lists the first MAX_SHOWN."""
    shown = problems[:MAX_SHOWN]
    more = len(problems) - len(shown)
    lines = [f"{path.name}, {p}" for p in shown]
    if more:
        lines.append(f"… and {more} more problem(s)")
    lines.append("nothing was run; fix the rows file and try again")
    return InputError("\n".join(lines), problems=list(problems))


class _ImageLoader:
    """Image cells to blobs, each distinct path or URL once; failures kept as messages."""

    def __init__(
        self,
        base_dir: Path | None,
        blobs: BlobStore,
        http: GuardedClient,
        files: Mapping[str, bytes] | None = None,
    ):
        """Paths are read relative to `base_dir`; with `files`, names are looked up there
        instead and nothing is read from disk."""
        self._base_dir = base_dir
        self._blobs = blobs
        self._http = http
        self._files = files
        self._loaded: dict[str, ImageRef | str] = {}

    def get(self, value: Any) -> ImageRef | str:
        return self._loaded.get(str(value), "expects an image file path or URL")

    async def load_all(self, values: list[Any]) -> None:
        gate = asyncio.Semaphore(_IMAGE_LOADS)
        distinct = {str(v) for v in values if isinstance(v, str) and v.strip()}

        async def one(value: str) -> None:
            async with gate:
                self._loaded[value] = await self._load(value)

        await asyncio.gather(*(one(v) for v in distinct))

    async def _load(self, value: str) -> ImageRef | str:
        try:
            if value.startswith(("http://", "https://")):
                data = (await fetch_image(self._http, value)).data
            elif self._files is not None:
                if value not in self._files:
                    return (
                        f"no file named '{value}' was sent with the rows; send it as a "
                        "'files' part, or give an http(s) URL"
                    )
                data = await asyncio.to_thread(sanitize, self._files[value])
            else:
                data = await asyncio.to_thread(read_image_file, value, self._base_dir)
            return await put_image(self._blobs, data)
        except PlaitError as exc:
            return exc.message
        except OSError as exc:
            return f"cannot read {value} ({exc})"
