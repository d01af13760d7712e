// "Tidy": lays the flow out left to right with dagre (a maintained graph-layout library).
import dagre from "@dagrejs/dagre";

export interface Sized {
  id: string;
  width: number;
  height: number;
}

/** Top-left positions for `nodes`, ranked left to right along `links` (source → target). */
export function tidy(nodes: readonly Sized[], links: readonly { source: string; target: string }[]): Map<string, { x: number; y: number }> {
  const g = new dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: "LR", nodesep: 48, ranksep: 96, marginx: 0, marginy: 0 });
  g.setDefaultEdgeLabel(() => ({}));
  const ids = new Set(nodes.map((n) => n.id));
  for (const n of nodes) g.setNode(n.id, { width: n.width, height: n.height });
  links.forEach((l, i) => {
    if (ids.has(l.source) && ids.has(l.target) && l.source !== l.target) g.setEdge(l.source, l.target, {}, `e${i}`);
  });
  dagre.layout(g);
  const placed = new Map<string, { x: number; y: number }>();
  for (const n of nodes) {
    const c = g.node(n.id) as { x: number; y: number };
    placed.set(n.id, { x: Math.round(c.x - n.width / 2), y: Math.round(c.y - n.height / 2) });
  }
  return placed;
}

