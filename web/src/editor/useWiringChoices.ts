// What the selected node may be wired to, for the config panel: every output on the canvas
// except those of nodes downstream of it (they would make a cycle), the template references
// it may use (anything but images, upstream outputs first), and its inputs' current sources.
import { useMemo } from "react";
import type { PortType } from "../api/types";
import { splitRef, type PlaitNode } from "../lib/flow";
import { ancestorsOf, descendantsOf, type ReferenceChoices } from "../lib/templateRefs";
import { portsOf, type Catalog } from "./catalog";
import type { OutputRef } from "./forms/ConnectionsForm";
import { dependencies } from "./referenceEdges";
import type { FlowState } from "./useFlowState";
import type { ValidationState } from "./useValidation";
import type { ViewStore } from "./viewStore";

export function useWiringChoices(catalog: Catalog, store: ViewStore, state: FlowState, validation: ValidationState, selectedNode: PlaitNode | null) {
  const { nodes, edges, shownEdges } = state;
  // Every output on the canvas as `node.port` with its type; as a string, so that a drag
  // (new `nodes`, same ports) leaves the lists below as they are.
  const outputsKey = useMemo(() => {
    const list: string[] = [];
    for (const n of nodes)
      for (const p of portsOf(catalog, store, n.id, n.data.nodeType).outputs) list.push(`${n.id}.${p.name} ${p.type}`);
    return list.join("\n");
    // `validation` changes when new ports arrive from the server.
  }, [nodes, catalog, store, validation]);
  const outputs = useMemo<OutputRef[]>(
    () =>
      outputsKey
        .split("\n")
        .filter(Boolean)
        .map((line) => {
          const [ref, type] = line.split(" ") as [string, PortType];
          return { ref, type };
        }),
    [outputsKey],
  );
  const selectedId = selectedNode?.id ?? null;
  const [downstreamKey, upstreamKey] = useMemo(() => {
    if (!selectedId) return ["", ""];
    const deps = dependencies(nodes, shownEdges);
    return [[...descendantsOf(selectedId, deps)].join(" "), [...ancestorsOf(selectedId, deps)].join(" ")];
  }, [selectedId, nodes, shownEdges]);
  const usable = useMemo(() => {
    const downstream = new Set(downstreamKey.split(" "));
    return outputs.filter((o) => !downstream.has(splitRef(o.ref)[0]));
  }, [outputs, downstreamKey]);
  const references = useMemo((): ReferenceChoices => {
    const upstream = new Set(upstreamKey.split(" "));
    const text = usable.filter((o) => o.type !== "image" && o.type !== "image_list").map((o) => o.ref);
    return { upstream: text.filter((r) => upstream.has(splitRef(r)[0])), unconnected: text.filter((r) => !upstream.has(splitRef(r)[0])) };
  }, [usable, upstreamKey]);

  const connectedPorts = useMemo(() => {
    const map = new Map<string, string>();
    if (!selectedNode) return map;
    for (const e of edges) if (e.target === selectedNode.id && e.targetHandle) map.set(e.targetHandle, `${e.source}.${e.sourceHandle}`);
    return map;
  }, [edges, selectedNode]);

  return { usable, references, connectedPorts };
}

export type WiringChoices = ReturnType<typeof useWiringChoices>;
