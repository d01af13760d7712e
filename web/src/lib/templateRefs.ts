// `{{ node.port }}` references in a node's config strings: dependencies the canvas draws
// as dashed edges, and that decide which outputs a template may still use.
import type { JsonValue } from "../api/types";

const BRACES = /\{\{(.*?)\}\}/gs;
const REFERENCE = /^\s*([A-Za-z_][A-Za-z0-9_-]*)\.([A-Za-z_][A-Za-z0-9_-]*)(?:\.[A-Za-z0-9_-]+)*\s*$/;

export interface TemplateRef {
  node: string;
  port: string;
}

function strings(value: JsonValue | undefined, out: string[]): void {
  if (typeof value === "string") out.push(value);
  else if (Array.isArray(value)) value.forEach((v) => strings(v, out));
  else if (value && typeof value === "object") Object.values(value).forEach((v) => strings(v, out));
}

const known = new WeakMap<object, TemplateRef[]>();

/** Each distinct `node.port` a config's strings refer to, in order of first use (kept per
 * config object: configs are immutable, so a drag does not scan them again). */
export function templateRefs(config: JsonValue): TemplateRef[] {
  if (config && typeof config === "object") {
    const found = known.get(config);
    if (found) return found;
    const refs = scan(config);
    known.set(config, refs);
    return refs;
  }
  return scan(config);
}

function scan(config: JsonValue): TemplateRef[] {
  const texts: string[] = [];
  strings(config, texts);
  const seen = new Map<string, TemplateRef>();
  for (const text of texts)
    for (const match of text.matchAll(BRACES)) {
      const m = REFERENCE.exec(match[1] ?? "");
      if (m && !seen.has(`${m[1]}.${m[2]}`)) seen.set(`${m[1]}.${m[2]}`, { node: m[1]!, port: m[2]! });
    }
  return [...seen.values()];
}

/** Every node `id` depends on, through edges and references (`deps`: node → direct deps). */
export function ancestorsOf(id: string, deps: ReadonlyMap<string, readonly string[]>): Set<string> {
  const found = new Set<string>();
  const todo = [...(deps.get(id) ?? [])];
  while (todo.length) {
    const d = todo.pop()!;
    if (found.has(d) || d === id) continue;
    found.add(d);
    todo.push(...(deps.get(d) ?? []));
  }
  return found;
}

/** Every node that depends on `id`: referencing one of them from `id` would make a cycle. */
export function descendantsOf(id: string, deps: ReadonlyMap<string, readonly string[]>): Set<string> {
  const users = new Map<string, string[]>();
  for (const [node, list] of deps) for (const d of list) users.set(d, [...(users.get(d) ?? []), node]);
  return ancestorsOf(id, users);
}

/** What "Insert reference…" offers a node: outputs already upstream of it first, then
 * outputs of nodes not connected to it (using one wires that node in; it cannot make a
 * cycle). Outputs of nodes downstream of it are never offered. */
export interface ReferenceChoices {
  upstream: readonly string[];
  unconnected: readonly string[];
}

export const NO_REFERENCES: ReferenceChoices = { upstream: [], unconnected: [] };
