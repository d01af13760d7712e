// Undo and redo over snapshots of the canvas (nodes and edges are immutable, so a
// snapshot is two array references).
import { useCallback, useMemo, useRef, useState } from "react";
import type { PlaitEdge, PlaitNode } from "../lib/flow";

interface Snapshot {
  nodes: PlaitNode[];
  edges: PlaitEdge[];
}

const LIMIT = 200;

export interface UndoApi {
  /** Call before a change, with the state before it. `coalesceKey` merges a burst of edits (typing). */
  checkpoint: (coalesceKey?: string) => void;
  undo: () => void;
  redo: () => void;
  canUndo: boolean;
  canRedo: boolean;
  reset: () => void;
}

export function useUndo(
  get: () => Snapshot,
  set: (snapshot: Snapshot) => void,
): UndoApi {
  const past = useRef<Snapshot[]>([]);
  const future = useRef<Snapshot[]>([]);
  const last = useRef<{ key: string; at: number } | null>(null);
  const [, setTick] = useState(0);
  const bump = () => setTick((t) => t + 1);

  const checkpoint = useCallback(
    (coalesceKey?: string) => {
      const now = Date.now();
      if (coalesceKey && last.current && last.current.key === coalesceKey && now - last.current.at < 1200) {
        last.current.at = now;
        return;
      }
      last.current = coalesceKey ? { key: coalesceKey, at: now } : null;
      past.current.push(get());
      if (past.current.length > LIMIT) past.current.shift();
      future.current = [];
      bump();
    },
    [get],
  );

  const undo = useCallback(() => {
    const previous = past.current.pop();
    if (!previous) return;
    future.current.push(get());
    last.current = null;
    set(previous);
    bump();
  }, [get, set]);

  const redo = useCallback(() => {
    const next = future.current.pop();
    if (!next) return;
    past.current.push(get());
    last.current = null;
    set(next);
    bump();
  }, [get, set]);

  const reset = useCallback(() => {
    past.current = [];
    future.current = [];
    last.current = null;
    bump();
  }, []);

  const canUndo = past.current.length > 0;
  const canRedo = future.current.length > 0;
  return useMemo(() => ({ checkpoint, undo, redo, canUndo, canRedo, reset }), [checkpoint, undo, redo, canUndo, canRedo, reset]);
}
