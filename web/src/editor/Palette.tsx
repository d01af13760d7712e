// The node types, grouped by category: drag one onto the canvas, or press it to add it.
import { memo, useId, useMemo, useState } from "react";
import type { NodeTypeInfo } from "../api/types";
import { useCatalog } from "./catalog";

export const DRAG_MIME = "application/x-plait-node-type";

/** The node types whose title, type or description holds `query` (all for an empty one). */
export function matchingTypes(types: readonly NodeTypeInfo[], query: string): NodeTypeInfo[] {
  const q = query.trim().toLowerCase();
  return types.filter((t) => !q || t.title.toLowerCase().includes(q) || t.type.includes(q) || t.description.toLowerCase().includes(q));
}

const CATEGORY_ORDER = ["Triggers", "Inputs", "Images", "Outputs"];

function PaletteView({ onAdd }: { onAdd: (type: string) => void }) {
  const { types } = useCatalog();
  const [query, setQuery] = useState("");
  const searchId = useId();

  const groups = useMemo(() => {
    const matches = matchingTypes(types, query);
    const byCategory = new Map<string, NodeTypeInfo[]>();
    for (const t of matches) byCategory.set(t.category, [...(byCategory.get(t.category) ?? []), t]);
    const rank = (c: string) => (CATEGORY_ORDER.indexOf(c) + 1 || 99);
    return [...byCategory.entries()].sort((a, b) => rank(a[0]) - rank(b[0]) || a[0].localeCompare(b[0]));
  }, [types, query]);

  return (
    <aside className="palette" aria-label="Node types" data-testid="palette">
      <label className="sr-only" htmlFor={searchId}>
        Search node types
      </label>
      <input
        id={searchId}
        type="search"
        className="palette-search"
        placeholder="Search nodes…"
        value={query}
        data-testid="palette-search"
        onChange={(e) => setQuery(e.target.value)}
      />
      {groups.length === 0 ? <p className="muted small">No node type matches.</p> : null}
      {groups.map(([category, list]) => (
        <section key={category} className="palette-group" aria-label={category}>
          <h3>{category}</h3>
          <ul>
            {list.map((t) => (
              <li key={t.type}>
                <button
                  type="button"
                  className={`palette-item category-${t.category.toLowerCase()}`}
                  draggable
                  data-testid={`palette-${t.type}`}
                  title={`${t.description}\nDrag onto the canvas, or press to add.`}
                  onDragStart={(e) => {
                    e.dataTransfer.setData(DRAG_MIME, t.type);
                    e.dataTransfer.setData("text/plain", t.type);
                    e.dataTransfer.effectAllowed = "copy";
                  }}
                  onClick={() => onAdd(t.type)}
                >
                  <span className="palette-title">{t.title}</span>
                  <span className="palette-desc">{t.description}</span>
                </button>
              </li>
            ))}
          </ul>
        </section>
      ))}
    </aside>
  );
}

export const Palette = memo(PaletteView);
