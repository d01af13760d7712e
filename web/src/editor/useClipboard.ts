// Copy and paste of the selected nodes with the edges between them (pasted under new ids,
// offset, and selected).
import { useCallback, useRef } from "react";
import { useToast } from "../components/Toast";
import { makeEdge, newNodeId, nodeAriaLabel, unselected, type PlaitEdge, type PlaitNode } from "../lib/flow";
import type { FlowState } from "./useFlowState";

interface Clipboard {
  nodes: PlaitNode[];
  edges: PlaitEdge[];
}

export function useClipboard(state: FlowState) {
  const { nodesRef, edgesRef, checkpoint, setNodes, setEdges } = state;
  const toast = useToast();
  const clipboard = useRef<Clipboard | null>(null);

  /** Whether anything was selected to copy. */
  const copy = useCallback(() => {
    const picked = nodesRef.current.filter((n) => n.selected);
    if (!picked.length) return false;
    const ids = new Set(picked.map((n) => n.id));
    clipboard.current = { nodes: picked, edges: edgesRef.current.filter((e) => ids.has(e.source) && ids.has(e.target)) };
    toast.show(picked.length === 1 ? "Copied 1 node" : `Copied ${picked.length} nodes`);
    return true;
  }, [nodesRef, edgesRef, toast]);

  const paste = useCallback(() => {
    const clip = clipboard.current;
    if (!clip) return;
    checkpoint();
    const taken = new Set(nodesRef.current.map((n) => n.id));
    const rename = new Map<string, string>();
    const pasted = clip.nodes.map((n) => {
      const id = newNodeId(n.data.nodeType, taken);
      taken.add(id);
      rename.set(n.id, id);
      const data = structuredClone(n.data);
      return { ...n, id, selected: true, dragging: false, position: { x: n.position.x + 40, y: n.position.y + 40 }, data, ariaLabel: nodeAriaLabel(id, data) };
    });
    const pastedEdges = clip.edges.map((e) => makeEdge(rename.get(e.source)!, e.sourceHandle ?? "", rename.get(e.target)!, e.targetHandle ?? ""));
    setNodes((list) => [...unselected(list), ...pasted]);
    setEdges((list) => [...unselected(list), ...pastedEdges]);
    // A second paste lands beside the first.
    clipboard.current = { nodes: pasted, edges: pastedEdges };
  }, [nodesRef, checkpoint, setNodes, setEdges]);

  return { copy, paste };
}
