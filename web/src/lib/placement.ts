// Where a node added by a click goes, and which of its ports a click connects.
import type { Port } from "../api/types";
import { accepts } from "./ports";

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export const NODE_SIZE = { width: 250, height: 120 };
const GAP = 64;

function overlaps(a: Box, b: Box): boolean {
  return a.x < b.x + b.width + GAP / 2 && b.x < a.x + a.width + GAP / 2 && a.y < b.y + b.height + GAP / 2 && b.y < a.y + a.height + GAP / 2;
}

/** The first free spot at `start` or below it, so a new node never lands on another. */
export function freeSpot(start: { x: number; y: number }, others: readonly Box[], size = NODE_SIZE): { x: number; y: number } {
  const at = { ...start };
  for (let i = 0; i < 200; i++) {
    const box = { ...at, ...size };
    const hit = others.find((o) => overlaps(box, o));
    if (!hit) return at;
    at.y = hit.y + hit.height + GAP;
  }
  return at;
}

/** A spot to the right of `anchor`, level with it (or below whatever is already there). */
export function rightOf(anchor: Box, others: readonly Box[], size = NODE_SIZE): { x: number; y: number } {
  return freeSpot({ x: anchor.x + anchor.width + GAP * 1.5, y: anchor.y }, others, size);
}

/** The output → input pair a new node is connected by: a free input, exact types before
 * accepted ones, required inputs before optional ones; null when no pair fits. */
export function autoConnection(outputs: readonly Port[], inputs: readonly Port[], taken: ReadonlySet<string> = new Set()): { output: string; input: string } | null {
  let best: { output: string; input: string; score: number } | null = null;
  for (const inp of inputs) {
    if (taken.has(inp.name)) continue;
    for (const out of outputs) {
      if (!accepts(inp.type, out.type)) continue;
      const score = (out.type === inp.type ? 4 : 0) + (inp.required ? 2 : 0) + (out.name === inp.name ? 1 : 0);
      if (!best || score > best.score) best = { output: out.name, input: inp.name, score };
    }
  }
  return best ? { output: best.output, input: best.input } : null;
}
