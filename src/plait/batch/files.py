"""A batch from files: a flow file and a rows file, checked and stored (what `plait batch`
starts, and what the batch benchmark measures)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from plait.batch.driver import create
from plait.batch.rows import Row, check_rows
from plait.engine.executor import entry_trigger
from plait.flows.loader import load_flow
from plait.flows.validate import CompiledFlow, compile_flow
from plait.nodes.http_trigger import trigger_config
from plait.runtime import Runtime


@dataclass(frozen=True)
class FileBatch:
    flow_path: Path
    rows_path: Path
    compiled: CompiledFlow
    trigger_id: str | None
    rows: list[Row]

    async def create(
        self, runtime: Runtime, out_dir: Path | None, *, batch_api: bool = False
    ) -> str:
        """Store the batch (every row pending); its id."""
        return await create(
            runtime,
            self.compiled,
            self.rows,
            flow_path=self.flow_path,
            rows_path=self.rows_path,
            trigger_id=self.trigger_id,
            out_dir=out_dir,
            batch_api=batch_api,
        )


async def check_files(
    runtime: Runtime, flow_path: Path, rows_path: Path, trigger: str | None
) -> FileBatch:
    """The flow compiled and every row checked against its trigger `trigger` (the flow's
    only one when None); an `InputError` naming the file, row and field otherwise."""
    compiled = compile_flow(load_flow(flow_path), runtime.registry)
    trigger_id = entry_trigger(compiled, trigger)
    config = trigger_config(compiled, trigger_id)
    rows = await check_rows(rows_path, config, runtime.blobs, runtime.http)
    return FileBatch(flow_path, rows_path, compiled, trigger_id, rows)


__all__ = ["FileBatch", "check_files"]
