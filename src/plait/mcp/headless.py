"""`plait mcp DIR`: the flow files of a folder as MCP tools, run in this process.

No server: like `plait run`, the runs use the data folder's database and blob store and
the runtime's image backend (the preview backend without a Gemini key). Every `*.json`
file in the folder with an HTTP Trigger is a tool, made by `plait.mcp.tools` as the
published flows' are; the folder is read afresh for each `tools/list` and `tools/call`,
so a call runs the file as it is now. A file that cannot be served (not a flow, invalid,
no HTTP Trigger) is reported once, naming the file and its problem; the others are served.

A call's images are files of the blob store: the Respond body names each by its
`file://` URI, and an image over the size cap is a link to that file.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcp.server.stdio import stdio_server

from plait.engine.events import Event, EventBus, EventKind
from plait.engine.runner import RunRequest
from plait.engine.state import RunResult, RunStatus
from plait.engine.values import images_in, map_images
from plait.errors import PlaitError
from plait.flows.loader import load_flow
from plait.flows.validate import CompiledFlow, compile_flow
from plait.mcp.calls import Answer, Image, Progress, ToolError
from plait.mcp.server import toolbox_server
from plait.mcp.tools import About, FlowTool, first_trigger, made_tools
from plait.media.image_ref import ImageRef
from plait.nodes.http_trigger import coerce_inputs, trigger_config
from plait.publishing.inputs import image_value
from plait.runtime import Runtime, open_runtime
from plait.settings import Backend

SOURCE = "mcp"  # the runs' source in the run list
_DONE = {EventKind.NODE_FINISHED, EventKind.NODE_CACHED}


@dataclass(frozen=True)
class FlowFile:
    path: Path
    document: dict[str, Any]
    compiled: CompiledFlow


class FolderTools:
    """The folder's flow files as a `plait.mcp.server.Toolbox`, run by `runtime`."""

    def __init__(
        self,
        runtime: Runtime,
        folder: Path,
        report: Callable[[str], None],
        *,
        allow_dirs: tuple[Path, ...] = (),
        progress_seconds: float = 5.0,
    ):
        self.runtime = runtime
        self.folder = folder
        self.report = report  # a line for the user (stderr: stdout is the MCP channel)
        self.allow_dirs = allow_dirs
        self.progress_seconds = progress_seconds  # between notifications while a run runs
        self._reported: set[tuple[Path, str]] = set()
        self._runs: set[asyncio.Task[RunResult]] = set()

    async def tools(self) -> dict[str, FlowTool[FlowFile]]:
        files = await asyncio.to_thread(self._read)
        return made_tools(files, _about)

    async def call(
        self, tool: FlowTool[FlowFile], arguments: dict[str, Any], progress: Progress
    ) -> Answer:
        """Run the tool's flow file; `ToolError` when its inputs are refused or the run
        does not succeed. Cancelling the call cancels its run."""
        try:
            result = await self._run(tool, arguments, progress)
        except PlaitError as exc:
            raise ToolError(str(exc)) from None
        if result.status != RunStatus.SUCCEEDED:
            raise ToolError(_failure(result))
        return await self._answer(result)

    async def aclose(self) -> None:
        """Cancel the runs still running, and wait until each is recorded."""
        for run in self._runs:
            run.cancel()
        await asyncio.gather(*self._runs, return_exceptions=True)

    def _read(self) -> list[FlowFile]:
        found = []
        for path in sorted(self.folder.glob("*.json")):
            try:
                flow = load_flow(path)
                compiled = compile_flow(flow, self.runtime.registry)
            except PlaitError as exc:
                self._problem(path, "; ".join(str(exc).splitlines()))
                continue
            document = flow.to_document()
            if first_trigger(document) is None:
                self._problem(path, "it has no HTTP Trigger node to call it with")
                continue
            found.append(FlowFile(path, document, compiled))
        return found

    def _problem(self, path: Path, problem: str) -> None:
        if (path, problem) not in self._reported:  # each once, not on every listing
            self._reported.add((path, problem))
            self.report(f"plait mcp: not serving {path.name}: {problem}")

    async def _run(
        self, tool: FlowTool[FlowFile], arguments: dict[str, Any], progress: Progress
    ) -> RunResult:
        compiled = tool.flow.compiled
        inputs = await self._inputs(compiled, tool.node_id, arguments)
        runner = self.runtime.runner(self.folder, self.allow_dirs)
        request = RunRequest(compiled, inputs, SOURCE, trigger_id=tool.node_id)
        bus, finished = EventBus(), asyncio.Queue[str]()
        bus.listen(lambda event: _note_finished(event, finished))
        executor = await runner.begin(request, bus)
        # A task of its own, which the call's cancelling cancels once: it records the run
        # as cancelled out of reach of the MCP SDK's cancel scope, which cancels on and on.
        run = asyncio.ensure_future(runner.execute_with(executor, bus, running=True))
        self._runs.add(run)
        run.add_done_callback(self._runs.discard)
        steps = len(compiled.nodes)
        ticking = asyncio.ensure_future(self._tell(executor.run_id, steps, finished, progress))
        try:
            return await asyncio.shield(run)
        except BaseException:
            run.cancel()
            raise
        finally:
            ticking.cancel()

    async def _inputs(
        self, flow: CompiledFlow, node_id: str, arguments: dict[str, Any]
    ) -> dict[str, Any]:
        """The arguments as the trigger's inputs, image fields read as the HTTP API reads
        them (URLs through the guarded client); `InputError` naming each bad field."""
        config = trigger_config(flow, node_id)
        assert config is not None  # a tool's node is an HTTP Trigger
        raw, cap = dict(arguments), self.runtime.settings.max_upload_bytes
        for name in (f.name for f in config.fields if f.type == "image"):
            if raw.get(name) is not None:
                raw[name] = await image_value(name, raw[name], self.runtime, cap)
        return coerce_inputs(config, raw)

    async def _tell(
        self, run_id: str, steps: int, finished: asyncio.Queue[str], progress: Progress
    ) -> None:
        """Progress notifications while the run runs: its id at once, then each node
        done, and a beat when none is done for a while."""
        await progress(0, f"run {run_id} started")
        done = 0
        while True:
            try:
                async with asyncio.timeout(self.progress_seconds):
                    node_id = await finished.get()
            except TimeoutError:
                await progress(done, f"run {run_id} is running")
                continue
            done += 1
            await progress(done, f"run {run_id}: node '{node_id}' done ({done} of {steps})")

    async def _answer(self, result: RunResult) -> Answer:
        blobs, cap = self.runtime.blobs, self.runtime.settings.mcp_max_image_bytes
        value = result.result()
        uris = {ref.sha256: _uri(await blobs.location(ref.sha256)) for ref in images_in(value)}

        def uri(ref: ImageRef) -> str:
            return uris[ref.sha256]

        images = []
        for ref in images_in(value):
            data = await blobs.get(ref.sha256) if ref.size <= cap else None
            images.append(Image(ref, uri(ref), data))
        body = map_images(value, uri)
        return Answer(result.run_id, body, images, result.duration_ms, result.usage.cost_usd)


async def serve_folder(
    folder: Path,
    report: Callable[[str], None],
    backend: Backend | None = None,
    allow_dirs: tuple[Path, ...] = (),
) -> None:
    """Serve the folder's flow files on this process's stdin and stdout until the client
    leaves; runs still running then are cancelled (and recorded so)."""
    async with open_runtime(backend=backend) as runtime:
        toolbox = FolderTools(runtime, folder, report, allow_dirs=allow_dirs)
        found = await toolbox.tools()  # the folder's problems are told before serving
        names = ", ".join(found) or "none"
        report(f"plait mcp: serving {len(found)} tools from {folder} ({runtime.backend}): {names}")
        try:
            async with stdio_server() as (read, write):
                server = toolbox_server(toolbox)
                await server.run(read, write, server.create_initialization_options())
        finally:
            await toolbox.aclose()


def _about(flow: FlowFile) -> About:
    document = flow.document
    return About(
        key=flow.path.stem,
        title=str(document.get("name") or "") or flow.path.stem,
        description=str(document.get("description") or ""),
        document=document,
        origin=f"the flow file {flow.path.name}",
        keyed=False,  # no published flow to record a key against
    )


def _note_finished(event: Event, finished: asyncio.Queue[str]) -> None:
    if event.kind in _DONE and event.node_id is not None:
        finished.put_nowait(event.node_id)


def _failure(result: RunResult) -> str:
    """A run that did not succeed, as the HTTP API says it: the node that failed and why."""
    node, error = result.failed_node, result.error
    if node is not None:
        return f"node '{node}': {error}"
    return f"run {result.run_id} {result.status.value}: {error}" if error else result.status.value


def _uri(location: str) -> str:
    """A blob's location as a URI: a local file as `file://…`, an `s3://` URI as it is."""
    return Path(location).as_uri() if location.startswith("/") else location
