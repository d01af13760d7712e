// "Run to here": which node a run stops at, and starting one (through the run dialog when
// a trigger among the nodes it needs asks for inputs).
import { useCallback, useMemo, useState, type RefObject } from "react";
import type { FlowDocument } from "../api/types";
import type { PlaitEdge, PlaitNode } from "../lib/flow";
import { ancestorsOf } from "../lib/templateRefs";
import { dependencies } from "./referenceEdges";
import type { RunScope } from "./useRun";

function scopeOf(upTo: string, nodes: readonly PlaitNode[], links: readonly PlaitEdge[]): RunScope {
  return { upTo, nodes: [upTo, ...ancestorsOf(upTo, dependencies(nodes, links))] };
}

interface Deps {
  nodesRef: RefObject<PlaitNode[]>;
  /** The document's edges and the reference edges: every dependency. */
  linksRef: RefObject<PlaitEdge[]>;
  document: () => FlowDocument;
  startRun: (inputs: Record<string, unknown>, document: FlowDocument, triggerId?: string, reuseCache?: boolean, scope?: RunScope) => Promise<unknown>;
  openDialog: () => void;
  onStarted: () => void;
}

export function useRunToHere({ nodesRef, linksRef, document, startRun, openDialog, onStarted }: Deps) {
  const [upTo, setUpTo] = useState<string | null>(null);
  // Off: every node it runs computes fresh; the run dialog, when it opens, starts from it.
  const [reuse, setReuse] = useState(false);

  const runToHere = useCallback(
    (nodeId: string) => {
      const scope = scopeOf(nodeId, nodesRef.current, linksRef.current);
      const needed = new Set(scope.nodes);
      if (nodesRef.current.some((n) => needed.has(n.id) && n.data.nodeType === "http_trigger")) {
        setUpTo(nodeId);
        openDialog();
      } else void startRun({}, document(), undefined, reuse, scope).finally(onStarted);
    },
    [nodesRef, linksRef, document, startRun, openDialog, onStarted, reuse],
  );

  /** The scope of the run the dialog starts: up to the node picked, or the whole flow. */
  const scope = useCallback(() => (upTo ? scopeOf(upTo, nodesRef.current, linksRef.current) : undefined), [upTo, nodesRef, linksRef]);
  const reset = useCallback(() => setUpTo(null), []);
  return useMemo(() => ({ upTo, runToHere, scope, reset, reuse, setReuse }), [upTo, runToHere, scope, reset, reuse]);
}
