// The "Tidy" command: every node placed left to right along its edges and references.
import { useReactFlow } from "@xyflow/react";
import { useCallback, type RefObject } from "react";
import type { PlaitEdge, PlaitNode } from "../lib/flow";
import { NODE_SIZE } from "../lib/placement";
import { tidy } from "../lib/tidy";

export function useTidy(nodesRef: RefObject<PlaitNode[]>, linksRef: RefObject<PlaitEdge[]>, checkpoint: () => void, setNodes: (update: (list: PlaitNode[]) => PlaitNode[]) => void) {
  const { fitView } = useReactFlow<PlaitNode, PlaitEdge>();
  return useCallback(() => {
    const nodes = nodesRef.current;
    if (!nodes.length) return;
    checkpoint();
    const sized = nodes.map((n) => ({ id: n.id, width: n.measured?.width ?? NODE_SIZE.width, height: n.measured?.height ?? NODE_SIZE.height }));
    const placed = tidy(sized, linksRef.current);
    setNodes((list) => list.map((n) => ({ ...n, position: placed.get(n.id) ?? n.position })));
    window.setTimeout(() => void fitView({ padding: 0.15, maxZoom: 1, duration: 250 }), 30);
  }, [nodesRef, linksRef, checkpoint, setNodes, fitView]);
}
