// Per-node facts that are not part of the document: ports (from /api/validate), problems,
// and the live run state. Each node subscribes to its own entry, so an update re-renders
// only the nodes it concerns (never all 200 on a drag or a run event).
import { createContext, useContext, useSyncExternalStore } from "react";
import type { NodePorts, NodeRunStatus, Problem } from "../api/types";

export interface NodeRunView {
  status: NodeRunStatus;
  durationMs: number | null;
  costUsd: number | null;
  inputTokens: number | null;
  outputTokens: number | null;
  backend: string | null;
  cacheHit: boolean;
  error: string | null;
  errorPort: string | null;
  reason: string | null;
  imageUrl: string | null;
  text: string | null;
}

export interface NodeView {
  ports: NodePorts | null;
  problems: readonly Problem[];
  run: NodeRunView | null;
}

const EMPTY: NodeView = { ports: null, problems: [], run: null };

type Listener = () => void;

export class ViewStore {
  private views = new Map<string, NodeView>();
  private listeners = new Map<string, Set<Listener>>();
  private allListeners = new Set<Listener>();
  private version = 0;

  get(id: string): NodeView {
    return this.views.get(id) ?? EMPTY;
  }

  getVersion = (): number => this.version;

  subscribe(id: string, listener: Listener): () => void {
    let set = this.listeners.get(id);
    if (!set) {
      set = new Set();
      this.listeners.set(id, set);
    }
    set.add(listener);
    return () => set.delete(listener);
  }

  subscribeAll = (listener: Listener): (() => void) => {
    this.allListeners.add(listener);
    return () => this.allListeners.delete(listener);
  };

  private set(id: string, view: NodeView): void {
    this.views.set(id, view);
    this.listeners.get(id)?.forEach((fn) => fn());
  }

  private changed(): void {
    this.version++;
    this.allListeners.forEach((fn) => fn());
  }

  /** Ports and problems from a validate answer; only nodes whose facts changed are told. */
  setValidation(ports: Record<string, NodePorts>, problems: readonly Problem[], nodeIds: readonly string[]): void {
    const byNode = new Map<string, Problem[]>();
    for (const p of problems) {
      if (!p.node_id) continue;
      const list = byNode.get(p.node_id) ?? [];
      list.push(p);
      byNode.set(p.node_id, list);
    }
    for (const id of nodeIds) {
      const old = this.get(id);
      // Keep the last known ports when a node's config is invalid and the server sent none.
      const nextPorts = ports[id] ?? old.ports;
      const nextProblems = byNode.get(id) ?? [];
      const samePorts = JSON.stringify(nextPorts) === JSON.stringify(old.ports);
      const sameProblems = JSON.stringify(nextProblems) === JSON.stringify(old.problems);
      if (samePorts && sameProblems) continue;
      this.set(id, { ...old, ports: samePorts ? old.ports : nextPorts, problems: sameProblems ? old.problems : nextProblems });
    }
    this.changed();
  }

  setRun(id: string, run: NodeRunView | null): void {
    const old = this.get(id);
    if (old.run === run) return;
    this.set(id, { ...old, run });
    this.changed();
  }

  patchRun(id: string, patch: Partial<NodeRunView>): void {
    const old = this.get(id);
    const base: NodeRunView = old.run ?? {
      status: "pending",
      durationMs: null,
      costUsd: null,
      inputTokens: null,
      outputTokens: null,
      backend: null,
      cacheHit: false,
      error: null,
      errorPort: null,
      reason: null,
      imageUrl: null,
      text: null,
    };
    this.setRun(id, { ...base, ...patch });
  }

  clearRuns(): void {
    for (const [id, view] of this.views) if (view.run) this.set(id, { ...view, run: null });
    this.changed();
  }

  forget(id: string): void {
    this.views.delete(id);
  }
}

export const ViewStoreContext = createContext<ViewStore | null>(null);

export function useViewStore(): ViewStore {
  const store = useContext(ViewStoreContext);
  if (!store) throw new Error("ViewStoreContext is missing");
  return store;
}

export function useNodeView(id: string): NodeView {
  const store = useViewStore();
  return useSyncExternalStore(
    (fn) => store.subscribe(id, fn),
    () => store.get(id),
  );
}

/** Re-renders on any change (for panels that list every node). */
export function useViewVersion(): number {
  const store = useViewStore();
  return useSyncExternalStore(store.subscribeAll, store.getVersion);
}
