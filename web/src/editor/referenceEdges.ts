// Template references drawn as dashed edges, and every node's dependencies (edges + references).
import { useRef } from "react";
import type { PlaitEdge, PlaitNode } from "../lib/flow";
import { templateRefs } from "../lib/templateRefs";

/** The hidden target handle every node has for the dashed reference edges. */
export const REF_HANDLE = "__ref";

export function isReferenceEdge(edge: PlaitEdge): boolean {
  return edge.targetHandle === REF_HANDLE;
}

/** One dashed, read-only edge per `{{ node.port }}` a node's config uses, when that node
 * has that output (validation reports the others). */
export function referenceEdges(nodes: readonly PlaitNode[], hasOutput: (node: PlaitNode, port: string) => boolean): PlaitEdge[] {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const out: PlaitEdge[] = [];
  for (const n of nodes)
    for (const ref of templateRefs(n.data.config)) {
      const source = byId.get(ref.node);
      if (ref.node === n.id || !source || !hasOutput(source, ref.port)) continue;
      out.push({
        id: `ref:${ref.node}.${ref.port}->${n.id}`,
        source: ref.node,
        sourceHandle: ref.port,
        target: n.id,
        targetHandle: REF_HANDLE,
        className: "edge-reference",
        selectable: false,
        deletable: false,
        focusable: false,
        ariaLabel: `${n.id} uses {{ ${ref.node}.${ref.port} }}`,
      });
    }
  return out;
}

/** node → the nodes it depends on directly, through edges and references. */
export function dependencies(nodes: readonly PlaitNode[], edges: readonly PlaitEdge[]): Map<string, string[]> {
  const deps = new Map<string, string[]>(nodes.map((n) => [n.id, []]));
  for (const e of edges) deps.get(e.target)?.push(e.source);
  return deps;
}

/** The reference edges keep their identity until a reference changes (not on drags). */
export function useReferenceEdges(nodes: readonly PlaitNode[], hasOutput: (node: PlaitNode, port: string) => boolean): PlaitEdge[] {
  const edges = referenceEdges(nodes, hasOutput);
  const key = edges.map((e) => e.id).join("\n");
  const kept = useRef<{ key: string; edges: PlaitEdge[] }>({ key, edges });
  if (kept.current.key !== key) kept.current = { key, edges };
  return kept.current.edges;
}
