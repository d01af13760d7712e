// Edges drawn by hand, on the canvas or from the config panel's wiring lists: which
// connections the port types allow, why one is refused, and an input's one edge replaced.
import type { Connection, Edge, FinalConnectionState, IsValidConnection } from "@xyflow/react";
import { useCallback } from "react";
import { useToast } from "../components/Toast";
import { rewire, splitRef, type PlaitEdge } from "../lib/flow";
import { accepts, refusal } from "../lib/ports";
import { portsOf, portType, type Catalog } from "./catalog";
import type { FlowState } from "./useFlowState";
import type { ViewStore } from "./viewStore";

export function useConnections(catalog: Catalog, store: ViewStore, state: FlowState) {
  const { nodesRef, checkpoint, setEdges } = state;
  const toast = useToast();

  const connectionTypes = useCallback(
    (c: Connection | Edge) => {
      const source = nodesRef.current.find((n) => n.id === c.source);
      const target = nodesRef.current.find((n) => n.id === c.target);
      if (!source || !target) return null;
      const out = portType(portsOf(catalog, store, source.id, source.data.nodeType), "outputs", c.sourceHandle);
      const inp = portType(portsOf(catalog, store, target.id, target.data.nodeType), "inputs", c.targetHandle);
      return out && inp ? { out, inp } : null;
    },
    [nodesRef, catalog, store],
  );

  const isValidConnection: IsValidConnection<PlaitEdge> = useCallback(
    (c) => {
      if (c.source === c.target) return false;
      const types = connectionTypes(c);
      return !!types && accepts(types.inp, types.out);
    },
    [connectionTypes],
  );

  const onConnect = useCallback(
    (c: Connection) => {
      if (!c.sourceHandle || !c.targetHandle) return;
      checkpoint();
      setEdges((list) => rewire(list, c.target, c.targetHandle!, [c.source, c.sourceHandle!]));
    },
    [checkpoint, setEdges],
  );

  /** A connection dropped where it is refused: a toast says why. */
  const onConnectEnd = useCallback(
    (_event: MouseEvent | TouchEvent, state: FinalConnectionState) => {
      if (state.isValid || !state.fromHandle || !state.toHandle) return;
      const fromIsSource = state.fromHandle.type === "source";
      const src = fromIsSource ? state.fromHandle : state.toHandle;
      const dst = fromIsSource ? state.toHandle : state.fromHandle;
      if (src.type !== "source" || dst.type !== "target") {
        toast.show("Connect an output (right side) to an input (left side).", "error");
        return;
      }
      if (src.nodeId === dst.nodeId) {
        toast.show("A node cannot feed itself.", "error");
        return;
      }
      const types = connectionTypes({ source: src.nodeId, sourceHandle: src.id ?? null, target: dst.nodeId, targetHandle: dst.id ?? null });
      if (types && !accepts(types.inp, types.out)) toast.show(`${refusal(types.out, types.inp)} (${src.nodeId}.${src.id} → ${dst.nodeId}.${dst.id})`, "error");
    },
    [connectionTypes, toast],
  );

  /** The config panel's wiring lists: `port` of `nodeId` fed from `source` (`node.port`), or by nothing. */
  const onWire = useCallback(
    (nodeId: string, port: string, source: string | null) => {
      checkpoint();
      setEdges((list) => rewire(list, nodeId, port, source ? splitRef(source) : null));
    },
    [checkpoint, setEdges],
  );

  /** For React Flow: `<ReactFlow {...canvasHandlers}>`. */
  const canvasHandlers = { isValidConnection, onConnect, onConnectEnd };
  return { canvasHandlers, onWire };
}

export type ConnectionHandlers = ReturnType<typeof useConnections>["canvasHandlers"];
