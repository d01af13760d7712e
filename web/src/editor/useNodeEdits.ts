// Changing and deleting nodes, each change checkpointed for undo (drags and the canvas's
// own deletions included).
import type { OnBeforeDelete } from "@xyflow/react";
import { useCallback } from "react";
import type { JsonObject } from "../api/types";
import { nodeAriaLabel, type PlaitEdge, type PlaitNode } from "../lib/flow";
import { followPortEdits } from "../lib/portEdits";
import type { FlowState } from "./useFlowState";
import type { ViewStore } from "./viewStore";

export function useNodeEdits(store: ViewStore, state: FlowState) {
  const { nodesRef, checkpoint, setNodes, setEdges } = state;

  /** A new config; edges follow the ports it renames. Typing coalesces into one undo step. */
  const updateConfig = useCallback(
    (id: string, config: JsonObject) => {
      checkpoint(`config:${id}`);
      const node = nodesRef.current.find((n) => n.id === id);
      if (node) setEdges((list) => followPortEdits(list, id, node.data.nodeType, node.data.config, config));
      setNodes((list) => list.map((n) => (n.id === id ? { ...n, data: { ...n.data, config } } : n)));
    },
    [nodesRef, checkpoint, setNodes, setEdges],
  );

  const updateLabel = useCallback(
    (id: string, label: string) => {
      checkpoint(`label:${id}`);
      setNodes((list) =>
        list.map((n) => {
          if (n.id !== id) return n;
          const data = { ...n.data };
          if (label) data.label = label;
          else delete data.label;
          return { ...n, data, ariaLabel: nodeAriaLabel(n.id, data) };
        }),
      );
    },
    [checkpoint, setNodes],
  );

  const deleteNode = useCallback(
    (id: string) => {
      checkpoint();
      setNodes((list) => list.filter((n) => n.id !== id));
      setEdges((list) => list.filter((e) => e.source !== id && e.target !== id));
      store.forget(id);
    },
    [checkpoint, setNodes, setEdges, store],
  );

  const onBeforeDelete: OnBeforeDelete<PlaitNode, PlaitEdge> = useCallback(async () => {
    checkpoint();
    return true;
  }, [checkpoint]);

  const onDragStart = useCallback(() => checkpoint(), [checkpoint]);
  /** For React Flow: `<ReactFlow {...canvasHandlers}>`. */
  const canvasHandlers = { onBeforeDelete, onNodeDragStart: onDragStart, onSelectionDragStart: onDragStart };

  return { updateConfig, updateLabel, deleteNode, canvasHandlers };
}

export type NodeEdits = ReturnType<typeof useNodeEdits>;
export type EditHandlers = NodeEdits["canvasHandlers"];
