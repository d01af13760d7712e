// Between the flow document (docs/flow-format.md) and React Flow's nodes and edges.
import type { Edge, Node } from "@xyflow/react";
import type { FlowDocument, FlowNodeDoc, JsonObject, NodeTypeInfo } from "../api/types";
import { defaultObject } from "./schema";
import { templateRefs } from "./templateRefs";
import { tidy } from "./tidy";

/** The size a layout assumes for a node not drawn yet (tall enough for an image node). */
const UNMEASURED = { width: 260, height: 220 };

export interface PlaitNodeData extends Record<string, unknown> {
  nodeType: string;
  label?: string;
  config: JsonObject;
}

export type PlaitNode = Node<PlaitNodeData, "plait">;
export type PlaitEdge = Edge;

export interface FlowMeta {
  name: string;
  description: string;
}

export const NODE_ID_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;

/** What assistive technology announces for a node on the canvas. */
export function nodeAriaLabel(id: string, data: PlaitNodeData): string {
  return `${data.label ? `${data.label} (${data.nodeType})` : data.nodeType} node ${id}`;
}

/** "node.port" → [node, port]. Node ids cannot hold a dot, so the first dot splits. */
export function splitRef(ref: string): [string, string] {
  const dot = ref.indexOf(".");
  return dot < 0 ? [ref, ""] : [ref.slice(0, dot), ref.slice(dot + 1)];
}

export function edgeId(source: string, sourceHandle: string, target: string, targetHandle: string): string {
  return `${source}.${sourceHandle}->${target}.${targetHandle}`;
}

export function makeEdge(source: string, sourceHandle: string, target: string, targetHandle: string): PlaitEdge {
  return { id: edgeId(source, sourceHandle, target, targetHandle), source, sourceHandle, target, targetHandle };
}

/** `edges` with input `port` of `target` fed from `source` (`[node, port]`), or by nothing
 * when `source` is null: an input takes at most one edge, so a new one replaces the old. */
export function rewire(edges: readonly PlaitEdge[], target: string, port: string, source: readonly [string, string] | null): PlaitEdge[] {
  const rest = edges.filter((e) => !(e.target === target && e.targetHandle === port));
  return source ? [...rest, makeEdge(source[0], source[1], target, port)] : rest;
}

/** `list` with nothing selected (unchanged items keep their identity). */
export function unselected<T extends { selected?: boolean }>(list: readonly T[]): T[] {
  return list.map((x) => (x.selected ? { ...x, selected: false } : x));
}

/** The nodes a document left unplaced: those without a position, or all of them when
 * every node sits at the origin (the server stores a missing position as 0, 0). */
function unplaced(doc: FlowDocument): Set<string> {
  const atOrigin = (n: FlowNodeDoc) => !n.position || (n.position.x === 0 && n.position.y === 0);
  const piled = doc.nodes.length > 1 && doc.nodes.every(atOrigin);
  return new Set(doc.nodes.filter((n) => piled || !n.position).map((n) => n.id));
}

/** Positions for an unplaced document: Tidy's left-to-right layout along edges and references. */
function layout(doc: FlowDocument): Map<string, { x: number; y: number }> {
  const links = doc.edges.map((e) => ({ source: splitRef(e.from)[0], target: splitRef(e.to)[0] }));
  for (const n of doc.nodes) for (const ref of templateRefs(n.config ?? {})) links.push({ source: ref.node, target: n.id });
  return tidy(
    doc.nodes.map((n) => ({ id: n.id, ...UNMEASURED })),
    links,
  );
}

export function fromDocument(doc: FlowDocument): { nodes: PlaitNode[]; edges: PlaitEdge[]; meta: FlowMeta } {
  const loose = unplaced(doc);
  const auto = loose.size ? layout(doc) : null;
  const nodes = doc.nodes.map((n): PlaitNode => {
    const data: PlaitNodeData = { nodeType: n.type, config: n.config ?? {} };
    if (n.label) data.label = n.label;
    return {
      id: n.id,
      type: "plait",
      position: (loose.has(n.id) ? auto?.get(n.id) : n.position) ?? { x: 0, y: 0 },
      data,
      ariaLabel: nodeAriaLabel(n.id, data),
    };
  });
  const edges = doc.edges.map((e) => {
    const [source, sourceHandle] = splitRef(e.from);
    const [target, targetHandle] = splitRef(e.to);
    return makeEdge(source, sourceHandle, target, targetHandle);
  });
  return { nodes, edges, meta: { name: doc.name ?? "", description: doc.description ?? "" } };
}

export function toDocument(meta: FlowMeta, nodes: readonly PlaitNode[], edges: readonly PlaitEdge[]): FlowDocument {
  const docNodes = nodes.map((n): FlowNodeDoc => {
    const node: FlowNodeDoc = n.data.label
      ? { id: n.id, type: n.data.nodeType, label: n.data.label, config: n.data.config }
      : { id: n.id, type: n.data.nodeType, config: n.data.config };
    node.position = { x: Math.round(n.position.x), y: Math.round(n.position.y) };
    return node;
  });
  const doc: FlowDocument = { format: 1, name: meta.name, nodes: docNodes, edges: [] };
  if (meta.description) doc.description = meta.description;
  doc.edges = edges.map((e) => ({ from: `${e.source}.${e.sourceHandle ?? ""}`, to: `${e.target}.${e.targetHandle ?? ""}` }));
  return doc;
}

/** The parts of a document that change what runs (not positions): validation keys on this. */
export function structureKey(nodes: readonly PlaitNode[], edges: readonly PlaitEdge[]): string {
  return JSON.stringify([
    nodes.map((n) => [n.id, n.data.nodeType, n.data.config]),
    edges.map((e) => e.id),
  ]);
}

const ID_BASES: Record<string, string> = {
  http_trigger: "trigger",
  file_input: "file",
  image_resize: "resize",
  text_overlay: "overlay",
};

/** A stable id for a new node of `type`: `image`, then `image_2`, `image_3`, ... */
export function newNodeId(type: string, taken: ReadonlySet<string>): string {
  const base = ID_BASES[type] ?? (NODE_ID_PATTERN.test(type) ? type : "node");
  if (!taken.has(base)) return base;
  for (let i = 2; ; i++) {
    const id = `${base}_${i}`;
    if (!taken.has(id)) return id;
  }
}

/** A config a new node starts with: valid where possible, so the canvas shows ports at once. */
export function initialConfig(info: NodeTypeInfo, defaultModel: string | null): JsonObject {
  if (info.default_config) return structuredClone(info.default_config);
  switch (info.type) {
    case "http_trigger":
      return { fields: [{ name: "prompt", type: "text", required: true }] };
    case "image":
      return defaultModel ? { model: defaultModel, prompt: "" } : { prompt: "" };
    case "respond":
      return { mode: "json", fields: [{ name: "image" }] };
    case "text_overlay":
      return { layers: [{ text: "Your headline" }] };
    case "image_resize":
      return { width: 1024 };
    case "text":
      return { template: "" };
    default:
      return defaultObject(info.config_schema, info.config_schema);
  }
}

export function emptyDocument(name: string): FlowDocument {
  return { format: 1, name, nodes: [], edges: [] };
}
