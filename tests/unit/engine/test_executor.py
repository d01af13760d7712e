import asyncio
from typing import Any

import pytest

from plait.engine.cache import MemoryNodeCache
from plait.engine.context import CURRENT_NODE, Services
from plait.engine.events import Event, EventBus, EventKind
from plait.engine.executor import Executor
from plait.engine.state import NodeStatus, RunResult, RunStatus
from plait.errors import InputError
from plait.flows.model import Flow
from plait.flows.subflow import up_to
from plait.flows.validate import compile_flow
from plait.media.image_ref import ImageRef
from plait.providers.preview import PreviewProvider
from tests.helpers import flow, node
from tests.unit.engine.nodes_for_tests import Gate, Hang, registry


async def execute(
    f: Flow, services: Services, bus: EventBus | None = None, **kwargs: Any
) -> RunResult:
    compiled = compile_flow(f, registry())
    return await Executor(compiled, services, run_id="r1", events=bus, **kwargs).run()


async def test_independent_branches_overlap(services: Services) -> None:
    # Each gate waits until both are inside run() at the same time: if the executor
    # ran them one after the other, the first would wait forever.
    Gate.barrier = asyncio.Barrier(2)
    f = flow([node("a", "gate"), node("b", "gate")])
    result = await asyncio.wait_for(execute(f, services), timeout=10)
    assert result.status == RunStatus.SUCCEEDED
    assert sorted(Gate.calls) == ["a", "b"]


async def test_fan_out_starts_every_ready_node(services: Services) -> None:
    Gate.barrier = asyncio.Barrier(5)
    nodes = [node("root", "text", template="go")] + [
        node(f"g{i}", "gate", label=f"{i}:") for i in range(5)
    ]
    edges = [("root.text", f"g{i}.in") for i in range(5)]
    result = await asyncio.wait_for(execute(flow(nodes, edges), services), timeout=10)
    assert [result.nodes[f"g{i}"].outputs["out"] for i in range(5)] == [f"{i}:go" for i in range(5)]


async def test_chain_passes_values_and_renders_templates(services: Services) -> None:
    f = flow(
        [
            node(
                "trigger", "http_trigger", fields=[{"name": "who"}, {"name": "n", "type": "number"}]
            ),
            node("greet", "text", template="hello {{ trigger.who }} x{{ trigger.n }}"),
            node("g", "gate", label="<{{ greet.text }}>"),
        ],
        [("trigger.n", "g.in")],
    )
    result = await execute(f, services, run_inputs={"who": "Ada", "n": "3"})
    assert result.status == RunStatus.SUCCEEDED
    assert result.nodes["greet"].outputs == {"text": "hello Ada x3"}
    assert result.nodes["g"].outputs == {"out": "<hello Ada x3>3"}  # number -> text on the edge
    assert result.nodes["g"].inputs == {"in": "3"}


async def test_failure_fails_the_run_and_skips_downstream(services: Services) -> None:
    f = flow(
        [
            node("start", "text", template="x"),
            node("bad", "fail", message="the model said no"),
            node("after", "gate"),
            node("after2", "gate"),
        ],
        [("start.text", "bad.in"), ("bad.out", "after.in"), ("after.out", "after2.in")],
    )
    result = await execute(f, services)
    assert result.status == RunStatus.FAILED
    assert (result.failed_node, result.error) == ("bad", "the model said no")
    assert result.nodes["bad"].status == NodeStatus.FAILED
    assert result.nodes["bad"].error_port == "out"
    assert result.nodes["start"].status == NodeStatus.SUCCEEDED
    assert result.nodes["after"].status == NodeStatus.SKIPPED
    assert result.nodes["after"].error == "upstream node 'bad' failed"
    assert result.nodes["after2"].status == NodeStatus.SKIPPED
    assert Gate.calls == []


async def test_a_failure_stops_nodes_that_have_not_started(services: Services) -> None:
    f = flow(
        [node("bad", "fail"), node("slow_root", "gate"), node("later", "gate")],
        [("slow_root.out", "later.in")],
    )
    result = await execute(f, services)
    assert result.status == RunStatus.FAILED
    assert result.nodes["later"].status == NodeStatus.SKIPPED
    assert "stopped after node 'bad' failed" in (result.nodes["later"].error or "")


async def test_unexpected_exception_is_an_internal_error_of_that_node(services: Services) -> None:
    result = await execute(flow([node("bad", "fail", internal=True, message="oops")]), services)
    assert result.status == RunStatus.FAILED
    assert result.error == "internal error: ZeroDivisionError: oops"


async def test_cancel_stops_running_nodes(services: Services) -> None:
    Hang.started = asyncio.Event()
    f = flow([node("h", "hang"), node("after", "gate")], [("h.out", "after.in")])
    executor = Executor(compile_flow(f, registry()), services, run_id="r1")
    task = asyncio.create_task(executor.run())
    await Hang.started.wait()
    executor.cancel()
    result = await asyncio.wait_for(task, timeout=10)
    assert result.status == RunStatus.CANCELLED
    assert result.nodes["h"].status == NodeStatus.CANCELLED
    assert result.nodes["after"].status == NodeStatus.CANCELLED


async def test_cancelling_the_run_task_cancels_nodes(services: Services) -> None:
    Hang.started = asyncio.Event()
    executor = Executor(compile_flow(flow([node("h", "hang")]), registry()), services, run_id="r1")
    task = asyncio.create_task(executor.run())
    await Hang.started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert executor.result is not None
    assert executor.result.status == RunStatus.CANCELLED
    assert executor.states["h"].status == NodeStatus.CANCELLED


async def test_events_tell_the_story_in_order(services: Services) -> None:
    bus = EventBus()
    seen: list[Event] = []
    subscription = bus.subscribe()

    async def collect() -> None:
        async for event in subscription:
            seen.append(event)

    collector = asyncio.create_task(collect())
    f = flow(
        [node("a", "text", template="x"), node("bad", "fail"), node("c", "gate")],
        [("bad.out", "c.in")],
    )
    await execute(f, services, bus)
    bus.close()
    await collector
    kinds = [(e.kind, e.node_id) for e in seen]
    assert kinds[0] == (EventKind.RUN_STARTED, None)
    assert kinds[-1] == (EventKind.RUN_FINISHED, None)
    assert (EventKind.NODE_FAILED, "bad") in kinds
    assert (EventKind.NODE_SKIPPED, "c") in kinds
    assert kinds.index((EventKind.NODE_STARTED, "a")) < kinds.index((EventKind.NODE_FINISHED, "a"))
    assert seen[-1].data["status"] == "failed"
    assert all(e.run_id == "r1" for e in seen)


async def test_cache_reuses_unchanged_nodes_and_recomputes_changed_ones(services: Services) -> None:
    cache = MemoryNodeCache()
    f1 = flow([node("a", "gate", label="1"), node("b", "gate", label="2")], [("a.out", "b.in")])
    first = await execute(f1, services, cache=cache)
    assert Gate.calls == ["a", "b"]
    assert not first.nodes["a"].cache_hit

    Gate.calls.clear()
    f2 = flow(
        [node("a", "gate", label="1"), node("b", "gate", label="changed")], [("a.out", "b.in")]
    )
    second = await execute(f2, services, cache=cache)
    assert Gate.calls == ["b"]
    assert second.nodes["a"].cache_hit
    assert second.nodes["b"].outputs == {"out": "changed1"}


async def test_an_image_cached_from_one_backend_is_not_reused_by_another(
    services: Services,
) -> None:
    cache = MemoryNodeCache()
    f = flow([node("img", "image", prompt="a cat")])
    first = await execute(f, services, cache=cache)
    assert first.nodes["img"].backend == "preview"
    again = await execute(f, services, cache=cache)
    assert again.nodes["img"].cache_hit
    assert again.nodes["img"].backend == "preview"  # the canvas still labels it a preview

    other = PreviewProvider()
    other.name = "another-backend"
    elsewhere = Services(services.blobs, lambda: other, services.flow_dir)
    third = await execute(f, elsewhere, cache=cache)
    assert not third.nodes["img"].cache_hit
    assert third.nodes["img"].backend == "another-backend"


async def test_cached_event_is_emitted(services: Services) -> None:
    cache = MemoryNodeCache()
    f = flow([node("a", "gate", label="1")])
    await execute(f, services, cache=cache)
    bus = EventBus()
    sub = bus.subscribe()
    await execute(f, services, bus, cache=cache)
    bus.close()
    kinds = [e.kind async for e in sub]
    assert EventKind.NODE_CACHED in kinds
    assert EventKind.NODE_FINISHED not in kinds


async def test_completed_nodes_are_not_run_again(services: Services) -> None:
    f = flow([node("a", "gate", label="A"), node("b", "gate", label="B")], [("a.out", "b.in")])
    result = await execute(f, services, completed={"a": {"out": "from before"}})
    assert Gate.calls == ["b"]
    assert result.nodes["b"].outputs == {"out": "Bfrom before"}


async def test_image_flows_into_an_image_list_input(services: Services) -> None:
    f = flow(
        [
            node("img", "image", prompt="a cat"),
            node("r", "respond", fields=[{"name": "all"}]),
        ],
        [("img.image", "r.all")],
    )
    result = await execute(f, services)
    body = result.result()
    assert isinstance(body["all"], ImageRef)


async def test_run_inputs_reach_only_the_entry_trigger(services: Services) -> None:
    f = flow(
        [
            node("t1", "http_trigger", fields=[{"name": "a"}]),
            node("t2", "http_trigger", fields=[{"name": "b"}]),
            node("x", "text", template="{{ t2.b }}"),
        ]
    )
    result = await execute(f, services, run_inputs={"a": "1"}, trigger_id="t1")
    assert result.status == RunStatus.SUCCEEDED
    assert result.nodes["t1"].outputs == {"a": "1"}
    assert result.nodes["t2"].status == NodeStatus.SKIPPED
    assert result.nodes["x"].status == NodeStatus.SKIPPED


async def test_several_triggers_need_a_choice(services: Services) -> None:
    f = flow([node("t1", "http_trigger"), node("t2", "http_trigger")])
    with pytest.raises(InputError, match="several triggers"):
        await execute(f, services)


async def test_result_is_every_terminal_output_without_a_respond_node(services: Services) -> None:
    f = flow([node("a", "text", template="x"), node("b", "gate", label="y")], [("a.text", "b.in")])
    result = await execute(f, services)
    assert result.terminal == ["b"]
    assert result.result() == {"b": {"out": "yx"}}


async def test_instant_nodes_run_in_place_even_in_a_long_chain(services: Services) -> None:
    count = 3_000  # deeper than Python's recursion limit: they run from a worklist
    nodes = [node("t0", "text", template="x")]
    nodes += [node(f"t{i}", "text", template=f"{{{{ t{i - 1}.text }}}}") for i in range(1, count)]
    executor = Executor(compile_flow(flow(nodes), registry()), services, run_id="r1")
    before = len(asyncio.all_tasks())
    started = []
    loop = asyncio.get_running_loop()
    original = loop.create_task

    def counted(coro: Any, **kwargs: Any) -> asyncio.Task[Any]:
        started.append(coro)
        return original(coro, **kwargs)

    loop.create_task = counted  # type: ignore[method-assign]
    try:
        result = await executor.run()
    finally:
        del loop.create_task
    assert result.status == RunStatus.SUCCEEDED
    assert result.nodes[f"t{count - 1}"].outputs == {"text": "x"}
    assert started == []  # not one task for a node
    assert len(asyncio.all_tasks()) == before
    assert CURRENT_NODE.get() is None  # the node's id did not leak into the caller's context


async def test_a_flow_cut_up_to_a_node_runs_only_that_node_and_its_ancestors(
    services: Services,
) -> None:
    f = flow(
        [
            node("trigger", "http_trigger", fields=[{"name": "who"}]),
            node("greet", "text", template="hello {{ trigger.who }}"),
            node("g", "gate", label="<{{ greet.text }}>"),
            node("after", "gate", label="after"),
        ],
        [("g.out", "after.in")],
    )
    cut = up_to(compile_flow(f, registry()), "greet")
    result = await Executor(cut, services, run_id="r1", run_inputs={"who": "Ada"}).run()
    assert result.status == RunStatus.SUCCEEDED
    assert set(result.nodes) == {"trigger", "greet"}
    assert result.nodes["greet"].outputs == {"text": "hello Ada"}
    assert Gate.calls == []  # neither g nor after ran
