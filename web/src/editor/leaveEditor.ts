// Links out of the editor: with unsaved changes, they ask first.
import type { MouseEvent } from "react";
import { linkHandler } from "../lib/router";

export function leaveEditor(dirty: boolean, path: string) {
  return (e: MouseEvent<HTMLAnchorElement>) => {
    if (dirty && !window.confirm("Leave the editor? The unsaved changes are lost.")) e.preventDefault();
    else linkHandler(path)(e);
  };
}
