// The canvas: React Flow with the flow's nodes, its edges and the dashed reference edges,
// the Tidy control, the node search, the empty canvas's hint, and the opened flow fitted
// into view once its nodes are measured.
import { Background, BackgroundVariant, ControlButton, Controls, ReactFlow, useNodesInitialized, useReactFlow } from "@xyflow/react";
import { useEffect, useRef, type RefObject } from "react";
import type { PlaitEdge, PlaitNode } from "../lib/flow";
import { nodeTypes } from "./FlowNode";
import { NodeSearch } from "./NodeSearch";
import type { ConnectionHandlers } from "./useConnections";
import type { FlowState } from "./useFlowState";
import type { EditHandlers } from "./useNodeEdits";
import type { Placement } from "./usePlacement";

interface CanvasProps {
  canvas: RefObject<HTMLDivElement | null>;
  state: FlowState;
  connections: ConnectionHandlers;
  edits: EditHandlers;
  placement: Placement;
  onNodeClick: () => void;
}

export function EditorCanvas({ canvas, state, connections, edits, placement, onNodeClick }: CanvasProps) {
  const { nodes, shownEdges, onNodesChange, onEdgesChange } = state;
  const { search } = placement;
  const { fitView } = useReactFlow<PlaitNode, PlaitEdge>();
  const nodesInitialized = useNodesInitialized();
  const fitted = useRef(nodes.length === 0);
  useEffect(() => {
    if (!nodesInitialized || fitted.current) return;
    fitted.current = true;
    requestAnimationFrame(() => void fitView({ padding: 0.15, maxZoom: 1 }));
  }, [nodesInitialized, fitView]);

  return (
    <div className="canvas" data-testid="canvas" ref={canvas} onDragOver={placement.onDragOver} onDrop={placement.onDrop} onDoubleClick={search.onDoubleClick}>
      <ReactFlow<PlaitNode, PlaitEdge>
        nodes={nodes}
        edges={shownEdges}
        nodeTypes={nodeTypes}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        {...connections}
        {...edits}
        onNodeClick={onNodeClick}
        deleteKeyCode={["Delete", "Backspace"]}
        multiSelectionKeyCode={["Shift", "Meta", "Control"]}
        minZoom={0.1}
        maxZoom={2}
        defaultEdgeOptions={{ type: "default" }}
        proOptions={{ hideAttribution: true }}
        snapToGrid
        snapGrid={[8, 8]}
        zoomOnDoubleClick={false}
      >
        <Background variant={BackgroundVariant.Dots} gap={16} size={1} />
        <Controls showInteractive={false} position="bottom-left">
          <ControlButton onClick={placement.tidy} title="Tidy: lay the flow out left to right" aria-label="Tidy: lay the flow out left to right" data-testid="tidy">
            ⇶
          </ControlButton>
        </Controls>
      </ReactFlow>
      {search.spot ? <NodeSearch spot={search.spot} onPick={search.pick} onClose={search.close} /> : null}
      {nodes.length === 0 ? (
        <div className="canvas-empty" aria-hidden="true">
          <p>Drag node types here from the left, press one to add it, or double-click here to search.</p>
          <p className="muted small">A typical flow: HTTP Trigger → Image → Respond to Webhook.</p>
        </div>
      ) : null}
    </div>
  );
}
