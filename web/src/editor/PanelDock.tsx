// A panel docked under the canvas that the user can resize (drag or arrow keys on its top
// edge) and collapse to its header. The height is remembered in this browser.
import { useCallback, useEffect, useRef, useState, type ReactNode } from "react";

const MIN = 96;
const STEP = 24;

function maxHeight(): number {
  return Math.max(MIN, Math.round(window.innerHeight * 0.7));
}

function remembered(key: string, fallback: number): number {
  const value = Number(window.localStorage.getItem(key));
  return Number.isFinite(value) && value >= MIN ? Math.min(value, maxHeight()) : fallback;
}

export interface DockControls {
  collapsed: boolean;
  toggle: () => void;
}

export function PanelDock({ name, label, children }: { name: string; label: string; children: (controls: DockControls) => ReactNode }) {
  const key = `plait.dock.${name}`;
  const [height, setHeight] = useState(() => remembered(key, 260));
  const [collapsed, setCollapsed] = useState(() => window.localStorage.getItem(`${key}.collapsed`) === "1");
  const drag = useRef<{ y: number; height: number } | null>(null);

  useEffect(() => window.localStorage.setItem(key, String(height)), [key, height]);
  useEffect(() => window.localStorage.setItem(`${key}.collapsed`, collapsed ? "1" : "0"), [key, collapsed]);

  const resize = useCallback((next: number) => setHeight(Math.min(maxHeight(), Math.max(MIN, Math.round(next)))), []);
  const toggle = useCallback(() => setCollapsed((c) => !c), []);

  return (
    <div className={`panel-dock${collapsed ? " collapsed" : ""}`} style={collapsed ? undefined : { height }} data-testid={`${name}-dock`}>
      {collapsed ? null : (
        <div
          role="separator"
          aria-orientation="horizontal"
          aria-label={`Resize the ${label}`}
          aria-valuenow={height}
          aria-valuemin={MIN}
          aria-valuemax={maxHeight()}
          tabIndex={0}
          className="dock-resizer"
          data-testid={`${name}-resizer`}
          onPointerDown={(e) => {
            e.currentTarget.setPointerCapture(e.pointerId);
            drag.current = { y: e.clientY, height };
          }}
          onPointerMove={(e) => {
            if (drag.current) resize(drag.current.height + drag.current.y - e.clientY);
          }}
          onPointerUp={() => (drag.current = null)}
          onPointerCancel={() => (drag.current = null)}
          onKeyDown={(e) => {
            if (e.key === "ArrowUp") resize(height + STEP);
            else if (e.key === "ArrowDown") resize(height - STEP);
            else return;
            e.preventDefault();
          }}
        />
      )}
      {children({ collapsed, toggle })}
    </div>
  );
}
