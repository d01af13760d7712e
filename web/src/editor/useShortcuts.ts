// The editor's keyboard shortcuts, on the window so that they still work after the focused
// node was removed. Save and Run work everywhere; the others leave text fields alone.
import { useEffect } from "react";

interface Commands {
  save: () => void;
  run: () => void;
  undo: () => void;
  redo: () => void;
  /** Whether there was something to copy (else the browser's own copy goes ahead). */
  copy: () => boolean;
  paste: () => void;
  selectAll: () => void;
}

const EDITABLE = new Set(["INPUT", "TEXTAREA", "SELECT"]);

function isEditable(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  return !!el && (EDITABLE.has(el.tagName) || el.isContentEditable);
}

export function useShortcuts({ save, run, undo, redo, copy, paste, selectAll }: Commands) {
  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent) => {
      if (event.defaultPrevented || (event.target instanceof Element && event.target.closest("dialog"))) return;
      const mod = event.ctrlKey || event.metaKey;
      if (mod && event.key.toLowerCase() === "s") {
        event.preventDefault();
        save();
        return;
      }
      if (mod && event.key === "Enter") {
        event.preventDefault();
        run();
        return;
      }
      if (isEditable(event.target)) return;
      const key = event.key.toLowerCase();
      if (mod && key === "z" && !event.shiftKey) {
        event.preventDefault();
        undo();
      } else if (mod && ((key === "z" && event.shiftKey) || key === "y")) {
        event.preventDefault();
        redo();
      } else if (mod && key === "c") {
        if (copy()) event.preventDefault();
      } else if (mod && key === "v") {
        event.preventDefault();
        paste();
      } else if (mod && key === "a") {
        event.preventDefault();
        selectAll();
      }
    };
    window.addEventListener("keydown", onKeyDown);
    return () => window.removeEventListener("keydown", onKeyDown);
  }, [save, run, undo, redo, copy, paste, selectAll]);
}
