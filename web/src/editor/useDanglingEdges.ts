// Edges whose port no longer exists (a field renamed elsewhere, a mode switched): the
// canvas cannot draw them, so the editor lists them with a way to remove them.
import { useCallback, useMemo } from "react";
import { structureKey } from "../lib/flow";
import { portsOf, type Catalog } from "./catalog";
import type { FlowState } from "./useFlowState";
import type { ValidationState } from "./useValidation";
import type { ViewStore } from "./viewStore";

export function useDanglingEdges(catalog: Catalog, store: ViewStore, state: FlowState, validation: ValidationState) {
  const { nodes, edges, checkpoint, setEdges } = state;
  const dangling = useMemo(() => {
    // Only once the ports known are those of this structure.
    if (validation.key !== structureKey(nodes, edges)) return [];
    const byId = new Map(nodes.map((n) => [n.id, n]));
    return edges.filter((e) => {
      const source = byId.get(e.source);
      const target = byId.get(e.target);
      if (!source || !target) return true;
      const out = portsOf(catalog, store, source.id, source.data.nodeType).outputs;
      const inp = portsOf(catalog, store, target.id, target.data.nodeType).inputs;
      return !out.some((p) => p.name === e.sourceHandle) || !inp.some((p) => p.name === e.targetHandle);
    });
    // `validation` changes when new ports arrive.
  }, [nodes, edges, catalog, store, validation]);

  const remove = useCallback(() => {
    const ids = new Set(dangling.map((e) => e.id));
    checkpoint();
    setEdges((list) => list.filter((e) => !ids.has(e.id)));
  }, [dangling, checkpoint, setEdges]);

  return { dangling, remove };
}
