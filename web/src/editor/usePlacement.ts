// Putting nodes on the canvas: a click in the palette (placed after the selected node and
// wired to it), a drop from the palette, the node search, and the Tidy command.
import { useReactFlow } from "@xyflow/react";
import { useCallback, useRef, type DragEvent, type RefObject } from "react";
import type { PlaitEdge, PlaitNode } from "../lib/flow";
import type { Catalog } from "./catalog";
import { useNodeSearch } from "./NodeSearch";
import { DRAG_MIME } from "./Palette";
import { useAddNode } from "./useAddNode";
import type { FlowState } from "./useFlowState";
import { useTidy } from "./useTidy";
import type { ViewStore } from "./viewStore";

interface Deps {
  catalog: Catalog;
  store: ViewStore;
  state: FlowState;
  /** The structure (`structureKey`) the last validation answered for. */
  validationKey: string | null;
  canvas: RefObject<HTMLDivElement | null>;
  onAdded: () => void;
}

export function usePlacement({ catalog, store, state, validationKey, canvas, onAdded }: Deps) {
  const { metaRef, nodesRef, edgesRef, shownEdgesRef, checkpoint, setNodes, setEdges } = state;
  const { screenToFlowPosition } = useReactFlow<PlaitNode, PlaitEdge>();
  const validatedKey = useRef(validationKey);
  validatedKey.current = validationKey;
  const addNode = useAddNode({ catalog, store, metaRef, nodesRef, edgesRef, validatedKey, canvas, checkpoint, setNodes, setEdges, onAdded });
  const tidy = useTidy(nodesRef, shownEdgesRef, checkpoint, setNodes);
  const search = useNodeSearch(addNode);

  const onDragOver = useCallback((event: DragEvent) => {
    if (!event.dataTransfer.types.includes(DRAG_MIME)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
  }, []);

  const onDrop = useCallback(
    (event: DragEvent) => {
      const type = event.dataTransfer.getData(DRAG_MIME);
      if (!type) return;
      event.preventDefault();
      const p = screenToFlowPosition({ x: event.clientX, y: event.clientY });
      addNode(type, { x: p.x - 120, y: p.y - 20 });
    },
    [addNode, screenToFlowPosition],
  );

  return { addNode, tidy, search, onDragOver, onDrop };
}

export type Placement = ReturnType<typeof usePlacement>;
