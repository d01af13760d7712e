// Node search at the pointer (double-click on the empty canvas, as in ComfyUI): type to
// filter, arrows to move, Enter or a click to place the node where the canvas was clicked.
import { useReactFlow } from "@xyflow/react";
import { useCallback, useEffect, useId, useMemo, useRef, useState } from "react";
import type { NodeTypeInfo } from "../api/types";
import { useCatalog } from "./catalog";
import { matchingTypes } from "./Palette";

export interface SearchSpot {
  /** Where the popup shows, relative to the canvas element. */
  left: number;
  top: number;
  /** Where the node goes, in flow coordinates. */
  flow: { x: number; y: number };
}

/** Title matches first (those starting with the query before the rest), then the others. */
function ranked(types: NodeTypeInfo[], query: string): NodeTypeInfo[] {
  const q = query.trim().toLowerCase();
  const score = (t: NodeTypeInfo) => {
    const title = t.title.toLowerCase();
    return title.startsWith(q) ? 0 : title.includes(q) ? 1 : 2;
  };
  return q ? [...types].sort((a, b) => score(a) - score(b)) : types;
}

export function NodeSearch({ spot, onPick, onClose }: { spot: SearchSpot; onPick: (type: string) => void; onClose: () => void }) {
  const { types } = useCatalog();
  const [query, setQuery] = useState("");
  const [active, setActive] = useState(0);
  const input = useRef<HTMLInputElement>(null);
  const listId = useId();
  const matches = useMemo(() => ranked(matchingTypes(types, query), query), [types, query]);
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

const WIDTH = 280;
const HEIGHT = 320;

/** Opens the search where the empty canvas was double-clicked (kept inside the canvas);
 * `pick` adds the chosen type there. */
export function useNodeSearch(addNode: (type: string, at: { x: number; y: number }) => void) {
  const { screenToFlowPosition } = useReactFlow();
  const [spot, setSpot] = useState<SearchSpot | null>(null);
  const onDoubleClick = useCallback(
    (event: React.MouseEvent<HTMLElement>) => {
      if (!(event.target instanceof Element) || !event.target.classList.contains("react-flow__pane")) return;
      const rect = event.currentTarget.getBoundingClientRect();
      setSpot({
        left: Math.max(8, Math.min(event.clientX - rect.left, rect.width - WIDTH)),
        top: Math.max(8, Math.min(event.clientY - rect.top, rect.height - HEIGHT)),
        flow: screenToFlowPosition({ x: event.clientX, y: event.clientY }),
      });
    },
    [screenToFlowPosition],
  );
  const pick = useCallback(
    (type: string) => {
      if (spot) addNode(type, spot.flow);
      setSpot(null);
    },
    [spot, addNode],
  );
  const close = useCallback(() => setSpot(null), []);
  return { spot, onDoubleClick, pick, close };
}
