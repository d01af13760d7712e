// The selected nodes, selecting from elsewhere (the run panel), and which of the
// inspector's tabs shows.
import { useReactFlow } from "@xyflow/react";
import { useCallback, useMemo, useState } from "react";
import type { PlaitEdge, PlaitNode } from "../lib/flow";
import type { FlowState } from "./useFlowState";

export type SidebarTab = "node" | "data" | "history";

export function useSelection(state: FlowState) {
  const { nodes, nodesRef, setNodes } = state;
  const { fitView } = useReactFlow<PlaitNode, PlaitEdge>();
  const [tab, setTab] = useState<SidebarTab>("node");
  const selected = useMemo(() => nodes.filter((n) => n.selected), [nodes]);
  const selectedNode = selected.length === 1 ? selected[0]! : null;

  const showNodeTab = useCallback(() => setTab("node"), []);
  /** A click on a node shows its settings, unless its data is showing. */
  const onNodeClick = useCallback(() => setTab((t) => (t === "data" ? t : "node")), []);

  /** Selects only `id`, shows its settings and brings it into view. */
  const selectNode = useCallback(
    (id: string) => {
      setNodes((list) => list.map((n) => (n.selected !== (n.id === id) ? { ...n, selected: n.id === id } : n)));
      setTab("node");
      const node = nodesRef.current.find((n) => n.id === id);
      if (node) void fitView({ nodes: [{ id }], duration: 300, maxZoom: 1.2 });
    },
    [nodesRef, setNodes, fitView],
  );

  const selectAll = useCallback(() => setNodes((list) => list.map((n) => (n.selected ? n : { ...n, selected: true }))), [setNodes]);

  return { tab, setTab, selected, selectedNode, showNodeTab, onNodeClick, selectNode, selectAll };
}

export type Selection = ReturnType<typeof useSelection>;
