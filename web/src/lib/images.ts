// Finding images in run values: `{"$image": {...}, "url": "..."}`.
import type { JsonValue, RunImage } from "../api/types";

export function isRunImage(value: unknown): value is RunImage {
  return typeof value === "object" && value !== null && "$image" in value;
}

/** The first image URL in a node's outputs (prefers the `image` port). */
export function firstImageUrl(outputs: JsonValue | undefined | null): string | null {
  if (!outputs || typeof outputs !== "object" || Array.isArray(outputs)) return findUrl(outputs);
  const preferred = (outputs as Record<string, JsonValue>)["image"];
  return findUrl(preferred) ?? findUrl(outputs);
}

function findUrl(value: JsonValue | undefined | null, depth = 0): string | null {
  if (value === null || value === undefined || depth > 4) return null;
  if (isRunImage(value)) return typeof value.url === "string" ? value.url : null;
  if (Array.isArray(value)) {
    for (const item of value) {
      const url = findUrl(item, depth + 1);
      if (url) return url;
    }
    return null;
  }
  if (typeof value === "object") {
    for (const item of Object.values(value)) {
      const url = findUrl(item, depth + 1);
      if (url) return url;
    }
  }
  return null;
}

export function thumbnailUrl(thumbnail: string | { url: string } | null | undefined): string | null {
  if (!thumbnail) return null;
  return typeof thumbnail === "string" ? thumbnail : thumbnail.url ?? null;
}
