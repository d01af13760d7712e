// Adding a node: where it goes (right of the selected node, or a free spot in view) and,
// when a click adds it after a selected node, the edge that connects them if types fit.
import { useReactFlow } from "@xyflow/react";
import { useCallback, type RefObject } from "react";
import { api } from "../api/client";
import type { Port } from "../api/types";
import { initialConfig, makeEdge, newNodeId, nodeAriaLabel, structureKey, toDocument, unselected, type FlowMeta, type PlaitEdge, type PlaitNode } from "../lib/flow";
import { autoConnection, freeSpot, NODE_SIZE, rightOf, type Box } from "../lib/placement";
import { portsOf, type Catalog } from "./catalog";
import type { ViewStore } from "./viewStore";

function boxOf(n: PlaitNode): Box {
  return { x: n.position.x, y: n.position.y, width: n.measured?.width ?? NODE_SIZE.width, height: n.measured?.height ?? NODE_SIZE.height };
}

interface Deps {
  catalog: Catalog;
  store: ViewStore;
  metaRef: RefObject<FlowMeta>;
  nodesRef: RefObject<PlaitNode[]>;
  edgesRef: RefObject<PlaitEdge[]>;
  /** The structure (`structureKey`) the ports in `store` were validated for. */
  validatedKey: RefObject<string | null>;
  canvas: RefObject<HTMLDivElement | null>;
  checkpoint: () => void;
  setNodes: (update: (list: PlaitNode[]) => PlaitNode[]) => void;
  setEdges: (update: (list: PlaitEdge[]) => PlaitEdge[]) => void;
  onAdded: () => void;
}

/** `addNode(type)`: placed after the one selected node and wired to it; `addNode(type, at)`:
 * placed at `at` (a drop, or the node search), without an edge. */
export function useAddNode({ catalog, store, metaRef, nodesRef, edgesRef, validatedKey, canvas, checkpoint, setNodes, setEdges, onAdded }: Deps) {
  const { screenToFlowPosition, fitView, getZoom } = useReactFlow<PlaitNode, PlaitEdge>();

  /** Brings `box` (the new node, placed by a click) into view when it is not: the view
   * fits `ids` (it and the node it follows) without zooming in. */
  const reveal = useCallback(
    (box: Box, ids: string[]) => {
      const rect = canvas.current?.getBoundingClientRect();
      if (!rect) return;
      const from = screenToFlowPosition({ x: rect.left, y: rect.top });
      const to = screenToFlowPosition({ x: rect.right, y: rect.bottom });
      if (box.x >= from.x && box.y >= from.y && box.x + box.width <= to.x && box.y + box.height <= to.y) return;
      window.setTimeout(() => void fitView({ nodes: ids.map((id) => ({ id })), maxZoom: getZoom(), padding: 0.2 }), 40);
    },
    [canvas, screenToFlowPosition, fitView, getZoom],
  );

  /** The outputs `node` has now: from the store when it is up to date with the canvas,
   * else (a field renamed a moment ago, not validated yet) asked of the server. */
  const freshOutputs = useCallback(
    async (node: PlaitNode): Promise<readonly Port[] | null> => {
      try {
        const answer = await api.validate(toDocument(metaRef.current, nodesRef.current, edgesRef.current));
        return answer.ports?.[node.id]?.outputs ?? null;
      } catch {
        return null;
      }
    },
    [metaRef, nodesRef, edgesRef],
  );

  return useCallback(
    (type: string, position?: { x: number; y: number }) => {
      const info = catalog.byType.get(type);
      if (!info) return;
      checkpoint();
      const list = nodesRef.current;
      const id = newNodeId(type, new Set(list.map((n) => n.id)));
      const boxes = list.map(boxOf);
      const selected = list.filter((n) => n.selected);
      const anchor = !position && selected.length === 1 ? selected[0]! : null;
      let at = position;
      if (anchor) at = rightOf(boxOf(anchor), boxes);
      else if (!at) {
        const rect = canvas.current?.getBoundingClientRect();
        const p = screenToFlowPosition(rect ? { x: rect.left + rect.width / 2, y: rect.top + rect.height / 3 } : { x: 400, y: 200 });
        at = freeSpot({ x: p.x - NODE_SIZE.width / 2, y: p.y - NODE_SIZE.height / 2 }, boxes);
      }
      const node: PlaitNode = { id, type: "plait", position: at!, selected: true, data: { nodeType: type, config: initialConfig(info, catalog.models.default) } };
      node.ariaLabel = nodeAriaLabel(id, node.data);
      const wire = (outputs: readonly Port[]) => {
        const link = anchor && autoConnection(outputs, info.inputs);
        // (the input may have been wired by hand while the server was asked)
        if (link) setEdges((edges) => (edges.some((e) => e.target === id && e.targetHandle === link.input) ? edges : [...edges, makeEdge(anchor.id, link.output, id, link.input)]));
      };
      const known = validatedKey.current === structureKey(list, edgesRef.current);
      setNodes((nodes) => [...unselected(nodes), node]);
      setEdges(unselected);
      if (anchor && known) wire(portsOf(catalog, store, anchor.id, anchor.data.nodeType).outputs);
      else if (anchor)
        void freshOutputs(anchor).then((outputs) => {
          const ids = new Set(nodesRef.current.map((n) => n.id));
          if (outputs && ids.has(anchor.id) && ids.has(id)) wire(outputs);
        });
      if (!position) reveal({ ...at!, ...NODE_SIZE }, anchor ? [anchor.id, id] : [id]);
      onAdded();
    },
    [catalog, store, nodesRef, edgesRef, validatedKey, canvas, checkpoint, screenToFlowPosition, setNodes, setEdges, onAdded, freshOutputs, reveal],
  );
}
