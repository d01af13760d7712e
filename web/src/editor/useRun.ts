// Starting a run of the draft and following it live over SSE (`/api/runs/{id}/events`).
import { useCallback, useEffect, useRef, useState } from "react";
import { api, errorMessage } from "../api/client";
import type { FlowDocument, NodeRunRecord, RunDetail, RunEvent, RunStatus } from "../api/types";
import { firstImageUrl } from "../lib/images";
import type { NodeRunView, ViewStore } from "./viewStore";

export interface RunState {
  runId: string | null;
  status: RunStatus | "starting" | null;
  detail: RunDetail | null;
  error: string | null;
  failedNode: string | null;
}

export interface RunScope {
  upTo: string;
  nodes: readonly string[];
}

const IDLE: RunState = { runId: null, status: null, detail: null, error: null, failedNode: null };
const FINAL: ReadonlySet<string> = new Set(["succeeded", "failed", "cancelled"]);

function recordView(r: NodeRunRecord): NodeRunView {
  return {
    status: r.cache_hit && r.status === "succeeded" ? "cached" : r.status,
    durationMs: r.duration_ms,
    costUsd: r.cost_usd,
    inputTokens: r.input_tokens,
    outputTokens: r.output_tokens,
    backend: r.backend,
    cacheHit: r.cache_hit,
    error: r.error,
    errorPort: r.error_port,
    reason: null,
    imageUrl: firstImageUrl(r.outputs),
    text: null,
  };
}

export function useRun(flowId: string, store: ViewStore, nodeIds: () => string[]) {
  const [state, setState] = useState<RunState>(IDLE);
  const source = useRef<EventSource | null>(null);
  const poll = useRef<number | null>(null);
  const current = useRef<string | null>(null);

  const stopFollowing = useCallback(() => {
    source.current?.close();
    source.current = null;
    if (poll.current !== null) window.clearTimeout(poll.current);
    poll.current = null;
  }, []);

  useEffect(() => stopFollowing, [stopFollowing]);

  const applyDetail = useCallback(
    (detail: RunDetail) => {
      const seen = new Set<string>();
      for (const record of detail.nodes ?? []) {
        seen.add(record.node_id);
        store.setRun(record.node_id, recordView(record));
      }
      for (const id of nodeIds()) if (!seen.has(id)) store.setRun(id, null);
      setState({
        runId: detail.id,
        status: detail.status,
        detail,
        error: detail.error,
        failedNode: detail.failed_node,
      });
    },
    [store, nodeIds],
  );

  const loadDetail = useCallback(
    async (runId: string) => {
      try {
        const detail = await api.getRun(runId);
        if (current.current !== runId) return detail;
        applyDetail(detail);
        return detail;
      } catch (e) {
        setState((s) => ({ ...s, error: errorMessage(e) }));
        return null;
      }
    },
    [applyDetail],
  );

  /** Asks for the run until its record is settled, then shows it. Used without SSE, after
   * the stream broke, and after `run_finished` (the record may be written a moment later). */
  const pollUntilDone = useCallback(
    (runId: string, quiet = false) => {
      let delay = 200;
      const tick = async () => {
        if (current.current !== runId) return;
        let detail: RunDetail | null = null;
        try {
          detail = await api.getRun(runId);
        } catch (e) {
          if (!quiet) setState((s) => ({ ...s, error: errorMessage(e) }));
        }
        if (current.current !== runId) return;
        if (detail && (FINAL.has(detail.status) || !quiet)) applyDetail(detail);
        if (!detail || !FINAL.has(detail.status)) {
          poll.current = window.setTimeout(tick, delay);
          delay = Math.min(delay * 2, 1000);
        }
      };
      void tick();
    },
    [applyDetail],
  );

  const onEvent = useCallback(
    (runId: string, event: RunEvent) => {
      const id = event.node_id;
      switch (event.kind) {
        case "run_started":
          setState((s) => ({ ...s, status: "running" }));
          break;
        case "node_started":
          if (id) store.patchRun(id, { status: "running" });
          break;
        case "node_finished":
        case "node_cached":
          if (id)
            store.patchRun(id, {
              status: event.kind === "node_cached" ? "cached" : "succeeded",
              cacheHit: event.kind === "node_cached",
              durationMs: event.duration_ms ?? null,
              costUsd: event.cost_usd ?? null,
              backend: event.backend ?? null,
              inputTokens: event.input_tokens ?? null,
              outputTokens: event.output_tokens ?? null,
              imageUrl: firstImageUrl(event.outputs ?? null),
            });
          break;
        case "node_failed":
          if (id) store.patchRun(id, { status: "failed", error: event.error ?? "failed", errorPort: event.port ?? null, durationMs: event.duration_ms ?? null });
          break;
        case "node_skipped":
          if (id) store.patchRun(id, { status: "skipped", reason: event.reason ?? null });
          break;
        case "run_finished":
          stopFollowing();
          setState((s) => ({ ...s, status: event.status ?? "succeeded", error: event.error ?? null }));
          pollUntilDone(runId, true);
          break;
      }
    },
    [store, stopFollowing, pollUntilDone],
  );

  const follow = useCallback(
    (runId: string) => {
      stopFollowing();
      current.current = runId;
      if (typeof EventSource === "undefined") return pollUntilDone(runId);
      const es = new EventSource(api.runEventsUrl(runId), { withCredentials: true });
      source.current = es;
      es.onmessage = (message: MessageEvent<string>) => {
        try {
          onEvent(runId, JSON.parse(message.data) as RunEvent);
        } catch {
          // a keep-alive or an unknown line: ignore
        }
      };
      es.onerror = () => {
        // The stream ended before run_finished (or never opened): fall back to polling.
        if (source.current !== es) return;
        stopFollowing();
        pollUntilDone(runId);
      };
    },
    [stopFollowing, onEvent, pollUntilDone],
  );

  /** Starts a run of `document`; with `scope`, only up to `scope.upTo` ("Run to here"),
   * which runs the nodes listed in `scope.nodes`. */
  const start = useCallback(
    async (inputs: Record<string, unknown>, document: FlowDocument, triggerId?: string, reuseCache = false, scope?: RunScope) => {
      stopFollowing();
      store.clearRuns();
      setState({ ...IDLE, status: "starting" });
      try {
        const { run_id } = await api.startRun(flowId, inputs, document, triggerId, reuseCache, scope?.upTo);
        for (const id of scope?.nodes ?? nodeIds()) store.patchRun(id, { status: "queued" });
        setState({ ...IDLE, runId: run_id, status: "queued" });
        follow(run_id);
        return run_id;
      } catch (e) {
        setState({ ...IDLE, status: "failed", error: errorMessage(e) });
        throw e;
      }
    },
    [flowId, store, nodeIds, follow, stopFollowing],
  );

  /** Shows a past run on the canvas. */
  const show = useCallback(
    async (runId: string) => {
      stopFollowing();
      current.current = runId;
      const detail = await loadDetail(runId);
      if (detail && !FINAL.has(detail.status)) follow(runId);
    },
    [loadDetail, follow, stopFollowing],
  );

  const cancel = useCallback(async () => {
    if (state.runId) await api.cancelRun(state.runId);
  }, [state.runId]);

  const clear = useCallback(() => {
    stopFollowing();
    current.current = null;
    store.clearRuns();
    setState(IDLE);
  }, [store, stopFollowing]);

  return { run: state, start, show, cancel, clear };
}
