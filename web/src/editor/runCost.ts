// What a run's Image nodes would cost at list price, for the run dialog.
import { useMemo } from "react";
import type { Settings } from "../api/types";
import type { PlaitNode } from "../lib/flow";
import { findModel, pricePerImage, type Catalog } from "./catalog";
import type { RunScope } from "./useRun";

export interface RunCost {
  preview: boolean;
  /** null when a model's price is unknown. */
  usd: number | null;
  images: number;
}

/** "Run to here" runs only the nodes the picked one needs (`scope`): only theirs are counted. */
export function runCost(nodes: readonly PlaitNode[], catalog: Catalog, settings: Settings | null, scope: RunScope | undefined): RunCost {
  let usd: number | null = 0;
  let images = 0;
  const inScope = scope ? new Set(scope.nodes) : null;
  for (const n of nodes) {
    if (n.data.nodeType !== "image" || (inScope && !inScope.has(n.id))) continue;
    const count = typeof n.data.config["number_of_images"] === "number" ? n.data.config["number_of_images"] : 1;
    images += count;
    const model = findModel(catalog.models, n.data.config["model"] ?? catalog.models.default);
    const size = typeof n.data.config["image_size"] === "string" ? n.data.config["image_size"] : null;
    const price = model ? pricePerImage(model, size) : null;
    usd = price === null || usd === null ? null : usd + price * count;
  }
  return { preview: settings?.backend === "preview", usd, images };
}

export function useRunCost(nodes: readonly PlaitNode[], catalog: Catalog, settings: Settings | null, scope: () => RunScope | undefined): RunCost {
  return useMemo(() => runCost(nodes, catalog, settings, scope()), [nodes, catalog, settings, scope]);
}
