// Keeping edges attached when a config edit renames or removes the ports it defines
// (trigger fields, Respond fields, Image references).
import type { JsonObject } from "../api/types";
import { makeEdge, type PlaitEdge } from "./flow";

interface PortList {
  list: string;
  key: string;
  side: "in" | "out";
}

const PORT_LISTS: Record<string, PortList> = {
  http_trigger: { list: "fields", key: "name", side: "out" },
  respond: { list: "fields", key: "name", side: "in" },
  image: { list: "references", key: "port", side: "in" },
};

function names(config: JsonObject, spec: PortList): string[] | null {
  const list = config[spec.list];
  if (!Array.isArray(list)) return null;
  return list.map((item) => (item && typeof item === "object" && !Array.isArray(item) ? String(item[spec.key] ?? "") : ""));
}

/** The edges after `nodeId`'s config went from `before` to `after`. */
export function followPortEdits(
  edges: PlaitEdge[],
  nodeId: string,
  nodeType: string,
  before: JsonObject,
  after: JsonObject,
): PlaitEdge[] {
  const spec = PORT_LISTS[nodeType];
  if (!spec) return edges;
  const old = names(before, spec);
  const now = names(after, spec);
  if (!old || !now) return edges;
  const renamed = new Map<string, string>();
  if (old.length === now.length) old.forEach((name, i) => name !== now[i] && renamed.set(name, now[i]!));
  const removed = new Set(old.filter((name) => !now.includes(name) && !renamed.has(name)));
  // Respond in image mode has one `image` input whatever its fields say.
  if (nodeType === "respond" && (after["mode"] === "image" || before["mode"] === "image")) return edges;
  if (!renamed.size && !removed.size) return edges;
  let changed = false;
  const next: PlaitEdge[] = [];
  for (const e of edges) {
    const mine = spec.side === "out" ? e.source === nodeId : e.target === nodeId;
    const handle = spec.side === "out" ? e.sourceHandle : e.targetHandle;
    if (!mine || !handle) {
      next.push(e);
      continue;
    }
    if (removed.has(handle)) {
      changed = true;
      continue;
    }
    const to = renamed.get(handle);
    if (to === undefined || to === "") {
      next.push(e);
      continue;
    }
    changed = true;
    next.push(
      spec.side === "out"
        ? makeEdge(e.source, to, e.target, e.targetHandle ?? "")
        : makeEdge(e.source, e.sourceHandle ?? "", e.target, to),
    );
  }
  return changed ? next : edges;
}
