// Node search at the pointer (double-click on the empty canvas, as in ComfyUI): type to
// filter, arrows to move, Enter or a click to place the node where the canvas was clicked.
import { useEffect, useId, useMemo, useRef, useState } from "react";
import { useCatalog } from "./catalog";
import { matchingTypes } from "./Palette";

export interface SearchSpot {
  /** Where the popup shows, relative to the canvas element. */
  left: number;
  top: number;
  /** Where the node goes, in flow coordinates. */
  flow: { x: number; y: number };
}

export function NodeSearch({ spot, onPick, onClose }: { spot: SearchSpot; onPick: (type: string) => void; onClose: () => void }) {
  const { types } = useCatalog();
  const [query, setQuery] = useState("");
  const [active, setActive] = useState(0);
  const input = useRef<HTMLInputElement>(null);
  const listId = useId();
  const matches = useMemo(() => matchingTypes(types, query), [types, query]);
  const current = Math.min(active, Math.max(matches.length - 1, 0));

  useEffect(() => input.current?.focus(), []);

  const onKeyDown = (e: React.KeyboardEvent) => {
    if (e.key === "Escape") onClose();
    else if (e.key === "ArrowDown") setActive(Math.min(current + 1, matches.length - 1));
    else if (e.key === "ArrowUp") setActive(Math.max(current - 1, 0));
    else if (e.key === "Enter" && matches[current]) onPick(matches[current].type);
    else return;
    e.preventDefault();
    e.stopPropagation();
  };

  return (
    <div
      className="node-search"
      style={{ left: spot.left, top: spot.top }}
      data-testid="node-search"
      onKeyDown={onKeyDown}
      onBlur={(e) => {
        if (!e.currentTarget.contains(e.relatedTarget as Node | null)) onClose();
      }}
    >
      <input
        ref={input}
        type="search"
        placeholder="Add a node…"
        aria-label="Search node types to add here"
        aria-controls={listId}
        aria-activedescendant={matches[current] ? `${listId}-${matches[current].type}` : undefined}
        value={query}
        data-testid="node-search-input"
        onChange={(e) => {
          setQuery(e.target.value);
          setActive(0);
        }}
      />
      <ul id={listId} role="listbox" aria-label="Node types">
        {matches.map((t, i) => (
          <li
            key={t.type}
            id={`${listId}-${t.type}`}
            role="option"
            aria-selected={i === current}
            className={`category-${t.category.toLowerCase()}`}
            data-testid={`node-search-option-${t.type}`}
            onMouseDown={(e) => e.preventDefault()}
            onMouseEnter={() => setActive(i)}
            onClick={() => onPick(t.type)}
          >
            <span className="palette-title">{t.title}</span>
            <span className="muted small">{t.category}</span>
          </li>
        ))}
        {matches.length === 0 ? <li className="muted small">No node type matches.</li> : null}
      </ul>
    </div>
  );
}
