// The run panel opens under the canvas and a run's images make nodes taller: when that
// leaves a node cut off at the canvas's bottom edge, the view zooms out (never in) and
// pans so the whole flow shows, outputs included.
import { useEffect, type RefObject } from "react";
import { useReactFlow } from "@xyflow/react";
import type { PlaitEdge, PlaitNode } from "../lib/flow";

/** Whether a node on the canvas reaches below its bottom edge while starting above it. */
function cutAtTheBottom(pane: HTMLElement): boolean {
  const bottom = pane.getBoundingClientRect().bottom;
  return [...pane.querySelectorAll(".react-flow__node")].some((el) => {
    const r = el.getBoundingClientRect();
    return r.top < bottom && r.bottom > bottom + 1;
  });
}

/** Checks after each change of `moment` (the panel shown, the run settled), once the
 * nodes' images have loaded. */
export function useKeepInView(canvas: RefObject<HTMLElement | null>, active: boolean, moment: string) {
  const { fitView, getZoom } = useReactFlow<PlaitNode, PlaitEdge>();
  useEffect(() => {
    const pane = canvas.current;
    if (!active || !pane) return;
    let live = true;
    const frame = requestAnimationFrame(() => {
      const images = [...pane.querySelectorAll<HTMLImageElement>(".react-flow__node img")];
      void Promise.all(images.map((img) => img.decode().catch(() => undefined))).then(() => {
        if (live && cutAtTheBottom(pane)) void fitView({ padding: 0.1, maxZoom: getZoom() });
      });
    });
    return () => {
      live = false;
      cancelAnimationFrame(frame);
    };
  }, [canvas, active, moment, fitView, getZoom]);
}
