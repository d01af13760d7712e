// The flow on the canvas as React state: its nodes, edges, name and description, the
// template references drawn beside the edges, undo/redo over them, and the draft document.
import { useEdgesState, useNodesState } from "@xyflow/react";
import { useCallback, useMemo, useRef, useState } from "react";
import type { FlowDetail } from "../api/types";
import { fromDocument, toDocument, type FlowMeta, type PlaitEdge, type PlaitNode } from "../lib/flow";
import { portsOf, type Catalog } from "./catalog";
import { useReferenceEdges } from "./referenceEdges";
import { useUndo } from "./useHistory";
import type { ViewStore } from "./viewStore";

export interface FlowContents {
  meta: FlowMeta;
  nodes: PlaitNode[];
  edges: PlaitEdge[];
}

export function useFlowState(initial: FlowDetail, catalog: Catalog, store: ViewStore) {
  const start = useMemo(() => fromDocument(initial.document), [initial]);
  const [nodes, setNodes, onNodesChange] = useNodesState<PlaitNode>(start.nodes);
  const [edges, setEdges, onEdgesChange] = useEdgesState<PlaitEdge>(start.edges);
  const [meta, setMeta] = useState<FlowMeta>(start.meta);

  // Template references, drawn as dashed edges next to the document's own.
  const hasOutput = useCallback((n: PlaitNode, port: string) => portsOf(catalog, store, n.id, n.data.nodeType).outputs.some((p) => p.name === port), [catalog, store]);
  const refEdges = useReferenceEdges(nodes, hasOutput);
  const shownEdges = useMemo(() => (refEdges.length ? [...edges, ...refEdges] : edges), [edges, refEdges]);

  // For callbacks that must not change on every edit.
  const nodesRef = useRef(nodes);
  const edgesRef = useRef(edges);
  const shownEdgesRef = useRef(shownEdges);
  const metaRef = useRef(meta);
  nodesRef.current = nodes;
  edgesRef.current = edges;
  shownEdgesRef.current = shownEdges;
  metaRef.current = meta;

  const getSnapshot = useCallback(() => ({ nodes: nodesRef.current, edges: edgesRef.current }), []);
  const setSnapshot = useCallback(
    (s: { nodes: PlaitNode[]; edges: PlaitEdge[] }) => {
      setNodes(s.nodes);
      setEdges(s.edges);
    },
    [setNodes, setEdges],
  );
  const history = useUndo(getSnapshot, setSnapshot);
  const { checkpoint } = history;

  const draft = useCallback(() => toDocument(metaRef.current, nodesRef.current, edgesRef.current), []);

  /** Replaces everything on the canvas (a restored version), undoably. */
  const replace = useCallback(
    (next: FlowContents) => {
      checkpoint();
      setNodes(next.nodes);
      setEdges(next.edges);
      setMeta(next.meta);
    },
    [checkpoint, setNodes, setEdges],
  );

  return { start, nodes, edges, shownEdges, meta, setNodes, setEdges, setMeta, onNodesChange, onEdgesChange, nodesRef, edgesRef, shownEdgesRef, metaRef, history, checkpoint, draft, replace };
}

export type FlowState = ReturnType<typeof useFlowState>;
