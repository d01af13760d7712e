// What the editor knows about node types and models, loaded once per editor.
import { createContext, useContext } from "react";
import type { ModelCatalog, ModelInfo, NodePorts, NodeTypeInfo, PortType } from "../api/types";
import type { ViewStore } from "./viewStore";

export interface Catalog {
  types: readonly NodeTypeInfo[];
  byType: ReadonlyMap<string, NodeTypeInfo>;
  models: ModelCatalog;
}

export const CatalogContext = createContext<Catalog | null>(null);

export function useCatalog(): Catalog {
  const catalog = useContext(CatalogContext);
  if (!catalog) throw new Error("CatalogContext is missing");
  return catalog;
}

export function makeCatalog(types: NodeTypeInfo[], models: ModelCatalog): Catalog {
  return { types, byType: new Map(types.map((t) => [t.type, t])), models };
}

/** A node's ports: from the last validation, else the type's defaults. */
export function portsOf(catalog: Catalog, store: ViewStore, nodeId: string, nodeType: string): NodePorts {
  const known = store.get(nodeId).ports;
  if (known) return known;
  const info = catalog.byType.get(nodeType);
  return { inputs: info?.inputs ?? [], outputs: info?.outputs ?? [] };
}

export function portType(ports: NodePorts, side: "inputs" | "outputs", name: string | null | undefined): PortType | null {
  return ports[side].find((p) => p.name === name)?.type ?? null;
}

export function findModel(models: ModelCatalog, id: unknown): ModelInfo | undefined {
  return models.models.find((m) => m.id === id);
}

/** The list price of one image at `size`, whatever shape the catalog's `prices` has. */
export function pricePerImage(model: ModelInfo, size: string | null): number | null {
  const prices = model.prices as Record<string, unknown>;
  const pick = (table: unknown): number | null => {
    if (typeof table === "number") return table;
    if (table && typeof table === "object") {
      const t = table as Record<string, unknown>;
      const key = size ?? (model.image_sizes.includes("1K") ? "1K" : Object.keys(t)[0]);
      const value = key !== undefined ? t[key] : undefined;
      if (typeof value === "number") return value;
      const first = Object.values(t).find((v) => typeof v === "number");
      return typeof first === "number" ? first : null;
    }
    return null;
  };
  return pick(prices["standard"] ?? prices["per_image"] ?? prices["price_per_image"] ?? prices);
}
